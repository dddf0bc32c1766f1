"""The send-time signature check: validated in a worker process, with the fast paths,
and a server without any trust root refuses to guess."""

from __future__ import annotations

import os
from typing import Any

from aiohttp.test_utils import TestClient

from documents.checker import TrustDirChecker
from documents.keys import SERVICES_KEY
from server.auth.principal import Role
from server.config import Config
from signing.trust import TrustStore
from tests.conftest import People, bearer
from tests.documents.conftest import AGENCY_A, AGENCY_B, SignedFiles, send, send_form


async def test_send_is_validated_in_a_worker_process_with_the_fast_paths(
    client: TestClient[Any, Any], people: People, pdfs: SignedFiles
) -> None:
    await people.add("vt_a", Role.CLERK, agency=AGENCY_A)
    token = await people.token("vt_a")
    checker = client.app[SERVICES_KEY].checker
    assert isinstance(checker, TrustDirChecker)
    await send(client, token, pdfs.signed, to=[AGENCY_B])
    first = checker.worker.last_run
    assert first is not None and first.pid != os.getpid() and first.fast
    resp = await client.post(
        "/api/v1/documents", data=send_form(pdfs.tampered, to=[AGENCY_B]), headers=bearer(token)
    )
    assert resp.status == 422
    second = checker.worker.last_run
    assert second is not None and second is not first and second.fast


async def test_send_without_any_trust_root_is_refused_and_stores_nothing(
    client: TestClient[Any, Any], people: People, pdfs: SignedFiles, config: Config
) -> None:
    store = TrustStore(config.trust_dir)
    for root in store.list():
        store.remove(root.fingerprint)
    await people.add("vt_a", Role.CLERK, agency=AGENCY_A)
    token = await people.token("vt_a")
    resp = await client.post(
        "/api/v1/documents", data=send_form(pdfs.signed, to=[AGENCY_B]), headers=bearer(token)
    )
    body = await resp.json()
    assert resp.status == 503, body
    assert body["code"] == "signing.no_trust_roots"
    outbox = await (await client.get("/api/v1/documents/outbox", headers=bearer(token))).json()
    assert outbox["items"] == []
