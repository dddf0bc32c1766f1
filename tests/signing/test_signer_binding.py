"""Signatures bound to their signer (issue 11): a personal signature is made only with a
certificate registered to the person logged in; the seal, an expired certificate, someone else's
or one awaiting approval are refused with problem+json and nothing is signed; the picker's list
(``/api/v1/me/certificates``) holds only the person's own valid certificates."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from aiohttp import FormData

from server.auth.principal import Role
from server.secret import Secret
from signing.devpki import DevPki
from signing.pades import Level, SignOptions, sign_pdf_async
from signing.sample import make_sample_pdf
from signing.tokens import TokenSession, pkcs12_signer
from tests.conftest import People, bearer
from tests.platform.test_auth import HTML, csrf_of, login
from tests.sessions.helpers import make_council
from tests.signing.test_remote_http import (
    Client,
    _b64,
    _prepare_form,
    _problem,
    _sign,
    _signer,
)
from tests.signing.test_remote_http import config as config

pytestmark = pytest.mark.hsm


def _fingerprint(pki: DevPki, name: str) -> str:
    import base64

    return hashlib.sha256(base64.b64decode(_b64(pki.cert(name)))).hexdigest()


async def _draft(client: Client, clerk: dict[str, str]) -> str:
    form = FormData()
    meta = {
        "number": "31",
        "notation": "QĐ-SNV",
        "subject": "Về việc phân công ký văn bản",
        "to": ["000.00.11.H98"],
        "signer_name": "Phạm Minh Đức",
        "signer_position": "Giám đốc",
    }
    form.add_field("metadata", json.dumps(meta, ensure_ascii=False))
    pdf = make_sample_pdf(number="31/QĐ-SNV", title="GIÁM ĐỐC")
    form.add_field("main", pdf, filename="du-thao.pdf", content_type="application/pdf")
    resp = await client.post("/api/v1/documents/drafts", data=form, headers=clerk)
    assert resp.status == 201, await resp.text()
    return f"/api/v1/documents/drafts/{(await resp.json())['id']}"


async def test_draft_refuses_another_persons_certificate(
    client: Client, people: People, pki: DevPki, token: TokenSession
) -> None:
    clerk = bearer(await people.token(await people.add("vanthu", Role.CLERK)))
    duc = bearer(await people.token(await people.add("giamdoc", Role.LEADER, name="Phạm Minh Đức")))
    an = await people.add("chutich", Role.LEADER, name="Nguyễn Văn An")
    admin = bearer(await people.token(await people.add("quantri", Role.ADMIN)))
    await people.certificate(an, pki.cert("leader"))
    url = await _draft(client, clerk)

    # the chairman's certificate, used by the director: refused, naming whose it is
    resp = await client.post(f"{url}/sign/prepare", json=_signer(pki), headers=duc)
    body = await _problem(resp, 403, "signing.signer_not_bound")
    assert "Nguyễn Văn An" in body["detail_vi"] and "chutich" in body["detail_vi"], body
    # the agency seal is not a personal signature
    resp = await client.post(f"{url}/sign/prepare", json=_signer(pki, "agency"), headers=duc)
    body = await _problem(resp, 403, "signing.not_personal")
    assert "UBND tỉnh Demo" in body["detail_vi"]
    # an expired certificate is refused before anything else
    resp = await client.post(f"{url}/sign/prepare", json=_signer(pki, "expired"), headers=duc)
    await _problem(resp, 422, "signing.certificate")
    # his own, first use: proposed to the administrator, refused until approved
    resp = await client.post(f"{url}/sign/prepare", json=_signer(pki, "director"), headers=duc)
    body = await _problem(resp, 403, "signing.signer_pending")
    assert "chờ quản trị phê duyệt" in body["detail_vi"]
    listed = await (await client.get("/api/v1/users/giamdoc/certificates", headers=admin)).json()
    [proposed] = listed["certificates"]
    assert proposed["status"] == "proposed" and proposed["personal_id"].startswith("CCCD:")
    assert (await (await client.get("/api/v1/me/certificates", headers=duc)).json()) == {
        "certificates": []
    }
    # the chairman's certificate cannot be registered to a second person
    resp = await client.post(
        "/api/v1/users/giamdoc/certificates",
        json={"certificate_b64": _b64(pki.cert("leader"))},
        headers=admin,
    )
    await _problem(resp, 409, "certificate.taken")
    resp = await client.post(
        f"/api/v1/users/giamdoc/certificates/{proposed['id']}/approve", headers=admin
    )
    assert resp.status == 200, await resp.text()
    assert (await (await client.get(url, headers=clerk)).json())["state"] == "draft"

    # approved: he signs; 'Người ký' is the certificate's holder
    resp = await client.post(f"{url}/sign/prepare", json=_signer(pki, "director"), headers=duc)
    prepared = await resp.json()
    assert resp.status == 200, prepared
    finish = {
        "request_id": prepared["request_id"],
        "signature_b64": await _sign(token, prepared["to_sign_b64"], "director"),
    }
    resp = await client.post(f"{url}/sign/finish", json=finish, headers=duc)
    body = await resp.json()
    assert resp.status == 200, body
    assert body["signer_subject"] == "Phạm Minh Đức" and body["state"] == "signed"


async def test_registration_withdrawn_between_prepare_and_finish_signs_nothing(
    client: Client, people: People, pki: DevPki, token: TokenSession
) -> None:
    clerk = bearer(await people.token(await people.add("vanthu", Role.CLERK)))
    duc = bearer(await people.token(await people.add("giamdoc", Role.LEADER)))
    admin = bearer(await people.token(await people.add("quantri", Role.ADMIN)))
    await people.certificate("giamdoc", pki.cert("director"))
    url = await _draft(client, clerk)
    resp = await client.post(f"{url}/sign/prepare", json=_signer(pki, "director"), headers=duc)
    prepared = await resp.json()
    assert resp.status == 200, prepared
    [cert] = (await (await client.get("/api/v1/users/giamdoc/certificates", headers=admin)).json())[
        "certificates"
    ]
    resp = await client.post(
        f"/api/v1/users/giamdoc/certificates/{cert['id']}/revoke", headers=admin
    )
    assert resp.status == 200
    finish = {
        "request_id": prepared["request_id"],
        "signature_b64": await _sign(token, prepared["to_sign_b64"], "director"),
    }
    resp = await client.post(f"{url}/sign/finish", json=finish, headers=duc)
    await _problem(resp, 403, "signing.signer_not_bound")
    assert (await (await client.get(url, headers=clerk)).json())["state"] == "draft"


async def test_upload_signature_with_another_persons_certificate_is_refused(
    client: Client, people: People, pki: DevPki
) -> None:
    alice = bearer(await people.token(await people.add("alice", Role.LEADER)))
    await people.certificate(await people.add("binh", Role.CLERK), pki.cert("clerk"))
    form = {**_signer(pki, "clerk"), "role": "leader", "level": "b-b"}
    resp = await client.post(
        "/api/v1/signatures/prepare", data=_prepare_form(make_sample_pdf(), form), headers=alice
    )
    body = await _problem(resp, 403, "signing.signer_not_bound")
    assert "Trần Thị Bình" in body["detail_vi"]


async def test_minutes_signed_with_another_persons_certificate_are_refused(
    client: Client, people: People, pki: DevPki
) -> None:
    c = await make_council(client, people)
    await people.certificate(await people.add("vanthu", Role.CLERK), pki.cert("clerk"))
    await people.certificate("thuky", pki.cert("secretary"))
    # through the agent: the clerk's certificate, for the secretary's minutes
    base = f"/api/v1/sessions/{c.sid}/minutes/sign/prepare"
    resp = await client.post(base, json=_signer(pki, "clerk"), headers=c.h("thuky"))
    body = await _problem(resp, 403, "signing.signer_not_bound")
    assert "Trần Thị Bình" in body["detail_vi"]
    # uploaded, signed elsewhere with the clerk's key: refused the same way, nothing kept
    minutes = await (
        await client.get(f"/api/v1/sessions/{c.sid}/minutes.pdf", headers=c.h("thuky"))
    ).read()
    signer = pkcs12_signer(pki.p12("clerk"), Secret(pki.p12_password))
    signed, _ = await sign_pdf_async(minutes, signer, SignOptions(level=Level.B_B))
    url = f"/api/v1/sessions/{c.sid}/minutes/signed"
    resp = await client.post(url, data=signed, headers=c.h("thuky"))
    await _problem(resp, 403, "signing.signer_not_bound")
    assert (await client.get(url, headers=c.h("thuky"))).status == 404


async def test_picker_lists_only_the_persons_own_valid_certificates(
    client: Client, people: People, pki: DevPki
) -> None:
    duc = bearer(await people.token(await people.add("giamdoc", Role.LEADER)))
    await people.certificate("giamdoc", pki.cert("director"))
    await people.certificate("giamdoc", pki.cert("expired"))  # registered, but expired
    await people.certificate(await people.add("chutich", Role.LEADER), pki.cert("leader"))
    resp = await client.get("/api/v1/me/certificates", headers=duc)
    body: dict[str, Any] = await resp.json()
    assert resp.status == 200, body
    assert [c["fingerprint"] for c in body["certificates"]] == [_fingerprint(pki, "director")]
    # the agency seal cannot be registered to a person at all
    admin = bearer(await people.token(await people.add("quantri", Role.ADMIN)))
    resp = await client.post(
        "/api/v1/users/giamdoc/certificates",
        json={"certificate_b64": _b64(pki.cert("agency"))},
        headers=admin,
    )
    await _problem(resp, 422, "certificate.not_personal")


async def test_admin_page_registers_approves_and_withdraws(
    client: Client, people: People, pki: DevPki
) -> None:
    await people.add("quantri", Role.ADMIN)
    await people.add("giamdoc", Role.LEADER, name="Phạm Minh Đức")
    await login(client, "quantri")
    csrf = await csrf_of(client)
    pem = pki.cert("director").read_text()
    form = {"csrf_token": csrf, "login": "giamdoc", "certificate": pem}
    resp = await client.post("/admin/certificates", data=form, headers=HTML)
    text = await resp.text()
    assert resp.status == 200, text
    assert "Phạm Minh Đức" in text and "Đã phê duyệt" in text and "CCCD:" in text
    # the seal is refused with a Vietnamese sentence
    form = {**form, "certificate": pki.cert("agency").read_text()}
    resp = await client.post("/admin/certificates", data=form, headers=HTML)
    assert resp.status == 422 and "không phải chứng thư số cá nhân" in await resp.text()
    [cert] = (await (await client.get("/api/v1/users/giamdoc/certificates")).json())["certificates"]
    url = f"/admin/users/giamdoc/certificates/{cert['id']}"
    resp = await client.post(url, data={"csrf_token": csrf, "action": "revoke"}, headers=HTML)
    assert resp.status == 200 and "Đã thu hồi" in await resp.text()


async def test_a_proposal_by_someone_else_reserves_nothing(
    client: Client, people: People, pki: DevPki
) -> None:
    """Using the director's certificate first proposes it for the user who did; the
    administrator still registers it to the director, and the other user is refused by name."""
    clerk = bearer(await people.token(await people.add("vanthu", Role.CLERK)))
    pho = bearer(await people.token(await people.add("phogiamdoc", Role.LEADER)))
    duc = bearer(await people.token(await people.add("giamdoc", Role.LEADER, name="Phạm Minh Đức")))
    admin = bearer(await people.token(await people.add("quantri", Role.ADMIN)))
    url = await _draft(client, clerk)
    resp = await client.post(f"{url}/sign/prepare", json=_signer(pki, "director"), headers=pho)
    await _problem(resp, 403, "signing.signer_pending")
    resp = await client.post(
        "/api/v1/users/giamdoc/certificates",
        json={"certificate_b64": _b64(pki.cert("director"))},
        headers=admin,
    )
    assert resp.status == 201, await resp.text()
    resp = await client.post(f"{url}/sign/prepare", json=_signer(pki, "director"), headers=pho)
    body = await _problem(resp, 403, "signing.signer_not_bound")
    assert "Phạm Minh Đức" in body["detail_vi"] and "giamdoc" in body["detail_vi"]
    resp = await client.post(f"{url}/sign/prepare", json=_signer(pki, "director"), headers=duc)
    assert resp.status == 200, await resp.text()
