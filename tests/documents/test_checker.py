"""The send-time signature check: validated off the server's event loop, with the fast paths,
and a server without any trust root refuses to guess."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from server.auth.principal import Role
from server.config import Config
from signing.trust import TrustStore
from signing.validate import Verifier
from tests.conftest import People, bearer
from tests.documents.conftest import AGENCY_A, AGENCY_B, SignedFiles, send, send_form


async def test_send_is_validated_on_the_worker_thread_with_the_fast_paths(
    client: TestClient[Any, Any],
    people: People,
    pdfs: SignedFiles,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await people.add("vt_a", Role.CLERK, agency=AGENCY_A)
    token = await people.token("vt_a")
    seen: list[tuple[str, bool]] = []
    original = Verifier.verify

    async def spy(self: Verifier, data: bytes) -> Any:
        seen.append((threading.current_thread().name, self.fast))
        return await original(self, data)

    monkeypatch.setattr(Verifier, "verify", spy)
    await send(client, token, pdfs.signed, to=[AGENCY_B])
    resp = await client.post(
        "/api/v1/documents", data=send_form(pdfs.tampered, to=[AGENCY_B]), headers=bearer(token)
    )
    assert resp.status == 422
    assert seen == [("lienthong-verify", True), ("lienthong-verify", True)]


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
