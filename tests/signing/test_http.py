"""The API over HTTP, on SQLite and PostgreSQL: ``POST /api/v1/signatures/verify`` and the trust
roots (``/api/v1/trust-roots``), with the platform's ``client``/``people``/``bearer`` fixtures."""

from __future__ import annotations

import os
from io import BytesIO
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.models import AuditEntry
from server.auth.principal import Role
from server.db import Database
from signing.devpki import DevPki
from signing.pades import Level, SignOptions, sign_file
from signing.service import SIGNING_KEY
from signing.stamps import Role as StampRole
from signing.tokens import TokenSession
from tests.conftest import People, bearer

from .helpers import add_page_content, written

pytestmark = pytest.mark.hsm

Client = TestClient[Any, Any]
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def files(
    pki: DevPki, token: TokenSession, sample_pdf: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("http") / "signed.pdf"
    sign_file(
        sample_pdf,
        out,
        token.signer("leader"),
        SignOptions(Level.B_T, pki.tsa_url, StampRole.LEADER),
    )
    signed = out.read_bytes()
    writer = IncrementalPdfFileWriter(BytesIO(signed))
    add_page_content(writer, 0, b"BT /F1 30 Tf 100 300 Td (SUA DOI) Tj ET")
    return {"signed": signed, "tampered": written(writer)}


async def _admin(people: People) -> dict[str, str]:
    await people.add("quantri", Role.ADMIN)
    return bearer(await people.token("quantri"))


async def _add_root(client: Client, admin: dict[str, str], pki: DevPki) -> None:
    resp = await client.post(
        "/api/v1/trust-roots",
        data=pki.root_pem.read_bytes(),
        headers={**admin, "Content-Type": "application/x-pem-file"},
    )
    assert resp.status in (200, 201), await resp.text()


async def _problem(resp: aiohttp.ClientResponse, status: int, code: str) -> dict[str, Any]:
    assert resp.status == status, await resp.text()
    assert resp.content_type == PROBLEM
    body: dict[str, Any] = await resp.json(content_type=PROBLEM)
    assert body["code"] == code, body
    assert body["detail_vi"]
    return body


async def _audit(database: Database) -> list[tuple[str, str, str]]:
    async def run(session: AsyncSession) -> list[tuple[str, str, str]]:
        rows = await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        return [(r.action, r.actor, r.target) for r in rows if r.action.startswith("trust_root")]

    return await database.read("audit", run)


async def test_trust_roots_admin_only_and_audited(
    client: Client, people: People, pki: DevPki, database: Database
) -> None:
    admin = await _admin(people)
    await people.add("vanthu", Role.CLERK)
    clerk = bearer(await people.token("vanthu"))
    pem = pki.root_pem.read_bytes()
    pem_headers = {"Content-Type": "application/x-pem-file"}

    assert (await client.get("/api/v1/trust-roots")).status == 401
    await _problem(await client.get("/api/v1/trust-roots", headers=clerk), 403, "forbidden")
    resp = await client.post("/api/v1/trust-roots", data=pem, headers={**clerk, **pem_headers})
    await _problem(resp, 403, "forbidden")

    resp = await client.post("/api/v1/trust-roots", data=pem, headers={**admin, **pem_headers})
    assert resp.status == 201
    added = (await resp.json())["added"]
    assert len(added) == 1 and "Liên Thông Dev Root CA" in added[0]["subject"]
    fp = added[0]["fingerprint"]
    assert len(fp) == 64
    # again: nothing new, nothing audited twice
    resp = await client.post("/api/v1/trust-roots", json={"pem": pem.decode()}, headers=admin)
    assert resp.status == 200
    assert [r["fingerprint"] for r in (await resp.json())["already_present"]] == [fp]
    listed = await (await client.get("/api/v1/trust-roots", headers=admin)).json()
    assert [r["fingerprint"] for r in listed["roots"]] == [fp]

    # refused: a signer's (non-CA) certificate, garbage, an empty JSON field, another media type
    leaf = pki.cert("leader").read_bytes()
    resp = await client.post("/api/v1/trust-roots", data=leaf, headers={**admin, **pem_headers})
    body = await _problem(resp, 422, "signing.trust_store")
    assert "CA" in body["detail_vi"]
    resp = await client.post(
        "/api/v1/trust-roots", data=b"not a certificate", headers={**admin, **pem_headers}
    )
    await _problem(resp, 422, "signing.trust_store")
    resp = await client.post("/api/v1/trust-roots", json={"pem": ""}, headers=admin)
    await _problem(resp, 422, "validation_failed")
    resp = await client.post(
        "/api/v1/trust-roots", data=pem, headers={**admin, "Content-Type": "image/png"}
    )
    await _problem(resp, 415, "signing.unsupported_media_type")

    resp = await client.delete(f"/api/v1/trust-roots/{fp}", headers=clerk)
    await _problem(resp, 403, "forbidden")
    resp = await client.delete(f"/api/v1/trust-roots/{fp}", headers=admin)
    assert resp.status == 200 and (await resp.json())["removed"]["fingerprint"] == fp
    await _problem(
        await client.delete(f"/api/v1/trust-roots/{fp}", headers=admin),
        404,
        "signing.trust_root_not_found",
    )
    assert (await (await client.get("/api/v1/trust-roots", headers=admin)).json())["roots"] == []
    assert await _audit(database) == [
        ("trust_root.added", "quantri", fp),
        ("trust_root.removed", "quantri", fp),
    ]


async def test_verify_reports_each_signature(
    client: Client, people: People, pki: DevPki, files: dict[str, bytes]
) -> None:
    admin = await _admin(people)
    await people.add("chuyenvien", Role.OFFICIAL)
    user = bearer(await people.token("chuyenvien"))
    pdf = {"Content-Type": "application/pdf"}
    url = "/api/v1/signatures/verify"

    assert (await client.post(url, data=files["signed"], headers=pdf)).status == 401
    # no trust root on the server yet: a clear refusal, not a report of "untrusted"
    await _problem(
        await client.post(url, data=files["signed"], headers={**user, **pdf}),
        503,
        "signing.no_trust_roots",
    )
    await _add_root(client, admin, pki)

    resp = await client.post(url, data=files["signed"], headers={**user, **pdf})
    assert resp.status == 200, await resp.text()
    report = await resp.json()
    assert report["ok"] is True and len(report["sha256"]) == 64
    [sig] = report["signatures"]
    assert sig["signer"] == "Nguyễn Văn An" and sig["level"] == "b-t"
    assert sig["intact"] and sig["trusted"] and sig["revocation"] == "good"
    assert sig["timestamp_ok"] is True and sig["timestamp_time"].endswith("+07:00")
    assert "hợp lệ" in sig["summary_vi"]

    # the same as the 'file' part of a multipart form
    form = aiohttp.FormData()
    form.add_field("file", files["tampered"], filename="sua.pdf", content_type="application/pdf")
    resp = await client.post(url, data=form, headers=user)
    assert resp.status == 200
    report = await resp.json()
    assert report["ok"] is False
    assert "page_modified" in report["signatures"][0]["problems"]
    assert "KHÔNG hợp lệ" in report["signatures"][0]["summary_vi"]


UNUSABLE = [
    ("empty", b"", "application/pdf", 422, "signing.invalid_pdf"),
    ("not-pdf", b"PK\x03\x04 a zip file", "application/pdf", 422, "signing.invalid_pdf"),
    (
        "truncated",
        b"%PDF-1.7\n1 0 obj <<>> endobj\n",
        "application/pdf",
        422,
        "signing.invalid_pdf",
    ),
    (
        "deep-nesting",
        b"%PDF-1.7\n1 0 obj\n" + b"[" * 50_000 + b"]" * 50_000 + b"\nendobj\n"
        b"trailer << /Root 1 0 R >>\n%%EOF\n",
        "application/pdf",
        422,
        "signing.invalid_pdf",
    ),
    ("media-type", b"%PDF-1.7 ...", "text/html", 415, "signing.unsupported_media_type"),
]


async def test_verify_refuses_unusable_input(client: Client, people: People, pki: DevPki) -> None:
    admin = await _admin(people)
    await _add_root(client, admin, pki)
    for name, body, ctype, status, code in UNUSABLE:
        resp = await client.post(
            "/api/v1/signatures/verify", data=body, headers={**admin, "Content-Type": ctype}
        )
        problem = await _problem(resp, status, code)
        assert problem["detail_vi"], name
        # the server keeps serving
        assert (await client.get("/healthz")).status == 200


async def test_verify_size_limit_and_worker_process(
    client: Client, people: People, pki: DevPki, files: dict[str, bytes]
) -> None:
    admin = await _admin(people)
    await _add_root(client, admin, pki)
    url, pdf = "/api/v1/signatures/verify", {"Content-Type": "application/pdf"}
    services = client.app[SIGNING_KEY]

    resp = await client.post(url, data=files["signed"], headers={**admin, **pdf})
    assert resp.status == 200
    run = services.worker.last_run
    # validated in another process (killable), with the fast paths
    assert run is not None and run.pid != os.getpid() and run.fast

    services.max_pdf_bytes = len(files["signed"]) - 1
    body = await _problem(
        await client.post(url, data=files["signed"], headers={**admin, **pdf}),
        413,
        "signing.too_large",
    )
    assert "quá lớn" in body["detail_vi"]

    async def chunks() -> Any:  # no Content-Length: the limit holds while reading
        for i in range(0, len(files["signed"]), 4096):
            yield files["signed"][i : i + 4096]

    resp = await client.post(url, data=chunks(), headers={**admin, **pdf})
    await _problem(resp, 413, "signing.too_large")
    form = aiohttp.FormData()
    form.add_field("file", files["signed"], filename="x.pdf", content_type="application/pdf")
    await _problem(await client.post(url, data=form, headers=admin), 413, "signing.too_large")
    assert services.worker.last_run is run  # nothing over the limit reached the worker


async def test_openapi_lists_the_signing_routes(client: Client) -> None:
    doc = await (await client.get("/api/v1/openapi.json")).json()
    assert "post" in doc["paths"]["/api/v1/signatures/verify"]
    assert {"get", "post"} <= set(doc["paths"]["/api/v1/trust-roots"])
    assert "delete" in doc["paths"]["/api/v1/trust-roots/{fingerprint}"]
