"""Two-phase signing over HTTP, on SQLite and PostgreSQL (the platform's ``client``/``people``):
``/api/v1/signatures/prepare|finish`` (owner only, expiry, bounds, wrong signature refused) and the
documents drafts flow (clerk composes, leader signs with the SoftHSM2 token, the server seals,
the clerk sends; the sent file carries two valid signatures).

The agent itself is exercised in ``test_remote_agent.py`` and ``test_remote_browser.py``; here the
raw signature comes straight from the real token (``TokenSession.sign_raw``)."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.models import AuditEntry
from server.auth.principal import Role
from server.config import Config
from server.http.keys import DB_KEY
from signing.devpki import SOFTHSM_LIB, DevPki
from signing.remote import REMOTE_KEY
from signing.sample import make_sample_pdf
from signing.tokens import TokenSession
from signing.trust import TrustStore
from signing.validate import Verifier
from tests.conftest import AGENCY_A, AGENCY_B, People, bearer

pytestmark = pytest.mark.hsm
Client = TestClient[Any, Any]


@pytest.fixture
def config(config: Config, pki: DevPki, monkeypatch: pytest.MonkeyPatch) -> Config:
    """The dev root trusted, the TSA configured, agency A's seal on the SoftHSM2 token."""
    TrustStore(config.trust_dir).add(pki.root_pem.read_bytes(), "dev root")
    seals = config.data_dir / "seals.toml"
    seals.parent.mkdir(parents=True, exist_ok=True)
    seals.write_text(
        f'[[seal]]\nagency = "{AGENCY_A}"\npkcs11_lib = "{SOFTHSM_LIB}"\n'
        f'token = "{pki.token_label}"\nkey = "agency"\npin_env = "LT_TEST_SEAL_PIN"\n'
    )
    monkeypatch.setenv("LT_TEST_SEAL_PIN", pki.user_pin)
    monkeypatch.setenv("LIENTHONG_TSA_URL", pki.tsa_url)
    monkeypatch.delenv("LIENTHONG_SEALS", raising=False)
    return replace(config)


def _b64(path: Path) -> str:
    from asn1crypto import pem

    data = path.read_bytes()
    if pem.detect(data):
        data = pem.unarmor(data)[2]
    return base64.b64encode(data).decode()


def _signer(pki: DevPki, who: str = "leader") -> dict[str, Any]:
    return {
        "certificate_b64": _b64(pki.cert(who)),
        "chain_b64": [_b64(Path(p)) for p in pki.chain_pems],
    }


async def _sign(token: TokenSession, to_sign_b64: str, key: str = "leader") -> str:
    raw = await token.run(token.sign_raw, key, None, base64.b64decode(to_sign_b64))
    return base64.b64encode(raw).decode()


def _prepare_form(pdf: bytes, request: dict[str, Any]) -> FormData:
    form = FormData()
    form.add_field("file", pdf, filename="qd.pdf", content_type="application/pdf")
    form.add_field("request", json.dumps(request))
    return form


async def _problem(resp: aiohttp.ClientResponse, status: int, code: str) -> dict[str, Any]:
    body: dict[str, Any] = await resp.json()
    assert resp.status == status, body
    assert resp.content_type == "application/problem+json"
    assert body["code"] == code, body
    assert body["detail_vi"]
    return body


async def _audited(client: Client, action: str) -> list[tuple[str, str, dict[str, Any]]]:
    async def run(session: AsyncSession) -> list[tuple[str, str, dict[str, Any]]]:
        rows = await session.scalars(select(AuditEntry).where(AuditEntry.action == action))
        return [(e.actor, e.target, json.loads(e.details)) for e in rows]

    entries: list[tuple[str, str, dict[str, Any]]] = await client.app[DB_KEY].read("audited", run)
    return entries


async def test_prepare_finish_owner_only_expiry_and_wrong_signature(
    client: Client, people: People, pki: DevPki, token: TokenSession, roots: list[Any]
) -> None:
    alice = bearer(await people.token(await people.add("alice", Role.LEADER)))
    bob = bearer(await people.token(await people.add("bob", Role.LEADER)))
    await people.certificate("alice", pki.cert("leader"))
    await people.certificate("bob", pki.cert("clerk"))
    pdf = make_sample_pdf()
    leader = {**_signer(pki), "role": "leader", "level": "b-t"}

    # refusals first: not a PDF, a certificate that is not one, anonymous
    resp = await client.post(
        "/api/v1/signatures/prepare", data=_prepare_form(b"%PDF-1.7 junk", leader), headers=alice
    )
    await _problem(resp, 422, "signing.invalid_pdf")
    bad_cert = {**leader, "certificate_b64": base64.b64encode(b"not a certificate").decode()}
    resp = await client.post(
        "/api/v1/signatures/prepare", data=_prepare_form(pdf, bad_cert), headers=alice
    )
    await _problem(resp, 422, "signing.certificate")
    resp = await client.post("/api/v1/signatures/prepare", data=_prepare_form(pdf, leader))
    assert resp.status == 401

    async def prepare() -> dict[str, Any]:
        resp = await client.post(
            "/api/v1/signatures/prepare", data=_prepare_form(pdf, leader), headers=alice
        )
        body: dict[str, Any] = await resp.json()
        assert resp.status == 200, body
        return body

    prepared = await prepare()
    signature = await _sign(token, prepared["to_sign_b64"])
    finish = {"request_id": prepared["request_id"], "signature_b64": signature}
    # someone else cannot finish it, and learns nothing: the answer of an unknown request
    resp = await client.post("/api/v1/signatures/finish", json=finish, headers=bob)
    await _problem(resp, 404, "signing.request_not_found")
    # a signature by another key of the same token is refused, and the request is used up
    wrong = {**finish, "signature_b64": await _sign(token, prepared["to_sign_b64"], "clerk")}
    resp = await client.post("/api/v1/signatures/finish", json=wrong, headers=alice)
    await _problem(resp, 422, "signing.bad_signature")
    resp = await client.post("/api/v1/signatures/finish", json=finish, headers=alice)
    await _problem(resp, 404, "signing.request_not_found")

    prepared = await prepare()
    signature = await _sign(token, prepared["to_sign_b64"])
    finish = {"request_id": prepared["request_id"], "signature_b64": signature}
    resp = await client.post("/api/v1/signatures/finish", json=finish, headers=alice)
    assert resp.status == 200, await resp.text()
    assert resp.content_type == "application/pdf"
    signed = await resp.read()
    assert signed[: len(pdf)] == pdf  # an incremental update of the upload
    async with Verifier(roots) as verifier:
        report = await verifier.verify(signed)
    assert report.ok, report.to_json()
    assert [s.level for s in report.signatures] == ["b-t"]
    # the signature is in the audit chain: who, which file, with whose certificate
    [(actor, target, details)] = await _audited(client, "signature.made")
    assert (actor, target) == ("alice", f"sha256:{hashlib.sha256(signed).hexdigest()}")
    assert details["via"] == "agent" and "Common Name" in details["signer"]

    # expiry: a request older than the time-to-live answers 410, not the signed file
    remote = client.app[REMOTE_KEY]
    prepared = await prepare()
    remote.ttl = 0.0
    finish = {
        "request_id": prepared["request_id"],
        "signature_b64": await _sign(token, prepared["to_sign_b64"]),
    }
    resp = await client.post("/api/v1/signatures/finish", json=finish, headers=alice)
    await _problem(resp, 410, "signing.request_expired")

    # bounded: with room for one pending request, a second signer waits
    remote.ttl, remote.max_pending = 600.0, 1
    await prepare()
    bobs = {**leader, **_signer(pki, "clerk")}
    resp = await client.post(
        "/api/v1/signatures/prepare", data=_prepare_form(pdf, bobs), headers=bob
    )
    await _problem(resp, 429, "signing.too_many_requests")


async def test_each_user_has_a_quota_of_pending_requests(
    client: Client, people: People, pki: DevPki, token: TokenSession
) -> None:
    users = {
        n: bearer(await people.token(await people.add(n, Role.LEADER)))
        for n in ("an", "binh", "chi")
    }
    own = {"an": "clerk", "binh": "leader", "chi": "revoked"}  # each signs with their own
    for n, cert in own.items():
        await people.certificate(n, pki.cert(cert))
    pdf = make_sample_pdf()
    remote = client.app[REMOTE_KEY]
    remote.max_per_owner, remote.max_pending = 2, 3  # the server's bound: one more than a quota

    async def prepare(who: str) -> dict[str, Any]:
        form = {**_signer(pki, own[who]), "role": "leader", "level": "b-b"}
        resp = await client.post(
            "/api/v1/signatures/prepare", data=_prepare_form(pdf, form), headers=users[who]
        )
        body: dict[str, Any] = await resp.json()
        assert resp.status == 200, body
        return body

    mine = await prepare("binh")
    # "an" fills and overfills her own quota: her oldest request gives way, nobody else's
    first, *_ = [await prepare("an") for _ in range(3)]
    assert remote.pending_count() == 3
    # the server is full, yet "chi" is not turned away: "an" holds the most, so hers gives way
    await prepare("chi")
    assert remote.pending_count() == 3
    finish = {"request_id": first["request_id"], "signature_b64": "AA=="}
    resp = await client.post("/api/v1/signatures/finish", json=finish, headers=users["an"])
    await _problem(resp, 410, "signing.request_expired")  # "sign again"
    # "binh"'s one request, prepared before all that, still completes
    finish = {
        "request_id": mine["request_id"],
        "signature_b64": await _sign(token, mine["to_sign_b64"]),
    }
    resp = await client.post("/api/v1/signatures/finish", json=finish, headers=users["binh"])
    assert resp.status == 200, await resp.text()


async def test_draft_signed_by_leader_sealed_and_sent(
    client: Client, people: People, pki: DevPki, token: TokenSession, roots: list[Any]
) -> None:
    clerk = bearer(await people.token(await people.add("vanthu", Role.CLERK)))
    leader = bearer(await people.token(await people.add("giamdoc", Role.LEADER)))
    other_leader = bearer(
        await people.token(await people.add("giamdoc.b", Role.LEADER, agency=AGENCY_B))
    )
    official = bearer(await people.token(await people.add("chuyenvien", Role.OFFICIAL)))
    for cert in ("leader", "revoked", "expired"):  # registered before it was revoked, or expired
        await people.certificate("giamdoc", pki.cert(cert))
    form = FormData()
    meta = {
        "number": "12",
        "notation": "QĐ-SNV",
        "subject": "Về việc ban hành quy chế văn thư",
        "to": [AGENCY_B],
        "signer_position": "Giám đốc",
    }
    form.add_field("metadata", json.dumps(meta, ensure_ascii=False))
    pdf = make_sample_pdf(number="12/QĐ-SNV", title="GIÁM ĐỐC")
    form.add_field("main", pdf, filename="du-thao.pdf", content_type="application/pdf")
    resp = await client.post("/api/v1/documents/drafts", data=form, headers=clerk)
    assert resp.status == 201, await resp.text()
    draft_id = (await resp.json())["id"]
    url = f"/api/v1/documents/drafts/{draft_id}"

    # only the agency's clerks and leaders see it; the seal waits for the leader
    for who in (official, other_leader):
        await _problem(await client.get(url, headers=who), 404, "documents.not_found")
    resp = await client.post(f"{url}/sign/prepare", json=_signer(pki), headers=other_leader)
    await _problem(resp, 404, "documents.not_found")
    await _problem(
        await client.post(f"{url}/sign/prepare", json=_signer(pki), headers=clerk), 403, "forbidden"
    )
    await _problem(await client.post(f"{url}/seal", headers=clerk), 409, "documents.draft_state")
    await _problem(await client.post(f"{url}/send", headers=clerk), 409, "documents.draft_state")

    # wrong certificates: an expired one is refused at once; a revoked one is found out when the
    # signed file is validated, and the draft stays unsigned
    resp = await client.post(f"{url}/sign/prepare", json=_signer(pki, "expired"), headers=leader)
    await _problem(resp, 422, "signing.certificate")
    resp = await client.post(f"{url}/sign/prepare", json=_signer(pki, "revoked"), headers=leader)
    prepared = await resp.json()
    assert resp.status == 200, prepared
    finish = {
        "request_id": prepared["request_id"],
        "signature_b64": await _sign(token, prepared["to_sign_b64"], "revoked"),
    }
    resp = await client.post(f"{url}/sign/finish", json=finish, headers=leader)
    body = await _problem(resp, 422, "documents.signature_rejected")
    assert body["signatures"][0]["problems"] == ["revoked"], body
    assert (await (await client.get(url, headers=clerk)).json())["state"] == "draft"

    resp = await client.post(f"{url}/sign/prepare", json=_signer(pki), headers=leader)
    prepared = await resp.json()
    assert resp.status == 200, prepared
    assert prepared["document_number"] == "12/QĐ-SNV"
    assert prepared["subject"] == meta["subject"]
    finish = {
        "request_id": prepared["request_id"],
        "signature_b64": await _sign(token, prepared["to_sign_b64"]),
    }
    resp = await client.post(f"{url}/sign/finish", json=finish, headers=leader)
    body = await resp.json()
    assert resp.status == 200, body
    assert body["state"] == "signed" and "Nguyễn Văn An" in body["signer_subject"]
    # the signed file is the unsigned one plus an incremental update
    signed = await (await client.get(f"{url}/file", headers=clerk)).read()
    assert signed[: len(pdf)] == pdf

    resp = await client.post(f"{url}/seal", headers=clerk)
    body = await resp.json()
    assert resp.status == 200, body
    assert body["state"] == "sealed"
    sealed = await (await client.get(f"{url}/file", headers=clerk)).read()
    assert sealed[: len(signed)] == signed

    resp = await client.post(f"{url}/send", headers=clerk)
    body = await resp.json()
    assert resp.status == 201, body
    doc_id = body["id"]
    await _problem(await client.post(f"{url}/send", headers=clerk), 409, "documents.draft_state")
    doc = await (await client.get(f"/api/v1/documents/{doc_id}", headers=clerk)).json()
    sent = await (
        await client.get(f"/api/v1/documents/{doc_id}/files/{doc['main']['sha256']}", headers=clerk)
    ).read()
    assert sent == sealed
    async with Verifier(roots) as verifier:
        report = await verifier.verify(sent)
    assert report.ok, report.to_json()
    signers = [s.signer for s in report.signatures]
    assert len(signers) == 2 and "Nguyễn Văn An" in signers[0] and "Demo" in signers[1], signers
