"""Signed minutes: signed with the secretariat's own key, accepted only when signing says valid."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader

from server.http.keys import CONFIG_KEY
from server.secret import Secret
from signing.devpki import DevPki
from signing.pades import Level, SignOptions, sign_pdf_async
from signing.tokens import pkcs12_signer
from tests.conftest import People
from tests.sessions.helpers import make_council


async def test_minutes_signed_by_the_secretariat_are_checked_and_kept(
    client: Any, people: People, pki: DevPki, responder: None
) -> None:
    c = await make_council(client, people)
    trust = client.app[CONFIG_KEY].trust_dir
    trust.mkdir(parents=True, exist_ok=True)
    (trust / "root.pem").write_bytes(pki.root_pem.read_bytes())
    minutes = await (
        await client.get(f"/api/v1/sessions/{c.sid}/minutes.pdf", headers=c.h("thuky"))
    ).read()
    await people.certificate("thuky", pki.cert("clerk"))
    signer = pkcs12_signer(pki.p12("clerk"), Secret(pki.p12_password))
    signed, _ = await sign_pdf_async(minutes, signer, SignOptions(level=Level.B_B))
    url = f"/api/v1/sessions/{c.sid}/minutes/signed"
    # not signed, tampered, or sent by a member: refused
    unsigned = await client.post(url, data=minutes, headers=c.h("thuky"))
    assert unsigned.status == 422 and (await unsigned.json())["code"] == "sessions.minutes_refused"
    tampered = signed.replace(b"/Type /Page", b"/Type /Page ", 1)
    assert (await client.post(url, data=tampered, headers=c.h("thuky"))).status == 422
    assert (await client.post(url, data=signed, headers=c.h("db1"))).status == 403
    ok = await client.post(url, data=signed, headers=c.h("thuky"))
    body = await ok.json()
    assert ok.status == 201, body
    assert "Trần Thị Bình" in body["signer"] and body["report"]["ok"] is True
    state = await (await client.get(f"/api/v1/sessions/{c.sid}", headers=c.h("db1"))).json()
    assert "Trần Thị Bình" in state["minutes"]["signer"]
    kept = await client.get(url, headers=c.h("db1"))
    assert kept.status == 200 and await kept.read() == signed
    assert "BIÊN BẢN" in PdfReader(io.BytesIO(signed)).pages[0].extract_text()
