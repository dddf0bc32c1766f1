"""Ink annotations (SvgSelector), the invitation screen's API and pages, English texts, and the
minutes signed from the session page through two-phase signing."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

from asn1crypto import pem
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from meetings.sessions.papers.sample import sample_pdf
from server.auth.principal import Role
from server.http.keys import CONFIG_KEY
from server.realtime import user_channel
from signing.devpki import DevPki
from tests.conftest import People
from tests.sessions.helpers import make_council, next_op
from tests.sessions.test_papers import upload

SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 595.3 841.9">'
    '<path d="M10 20L30.5 40L50 45" fill="none" stroke="#d32f2f" stroke-width="2"/></svg>'
)


def ink(svg: str, page: int = 1) -> dict[str, Any]:
    return {
        "motivation": "highlighting",
        "body": {"type": "TextualBody", "value": "", "format": "text/plain"},
        "target": {
            "source": "paper",
            "selector": [
                {"type": "FragmentSelector", "value": f"page={page}"},
                {"type": "SvgSelector", "value": svg},
            ],
        },
        "lt:page": page,
    }


async def test_ink_is_stored_synced_and_only_as_plain_strokes(client: Any, people: People) -> None:
    c = await make_council(client, people)
    paper = await upload(c, sample_pdf(2))
    base = f"/api/v1/sessions/{c.sid}/papers/{paper['id']}/annotations"
    me = (await c.call("GET", "", "db1"))["me"]
    second = await c.ws("db1", user_channel(me["user_id"]))
    resp = await client.post(base, json=ink(SVG), headers=c.h("db1"))
    assert resp.status == 201, await resp.text()
    pushed = await next_op(second, "annotation.saved")
    selectors = pushed["data"]["annotation"]["target"]["selector"]
    assert {"type": "SvgSelector", "value": SVG} in selectors
    hostile = (
        SVG.replace("<path", "<script>alert(1)</script><path"),
        SVG.replace('fill="none"', 'fill="none" onload="alert(1)"'),
        SVG.replace("M10 20", "M10 20Z"),
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"></svg>',
    )
    for svg in hostile:
        bad = await client.post(base, json=ink(svg), headers=c.h("db1"))
        assert bad.status == 422 and (await bad.json())["field"] == "target.selector", svg
    # a long drawing may exceed a text note's 16 kB, within its own limit
    long_path = "M0 0" + "".join(f"L{i % 500}.5 {i % 800}.25" for i in range(1500))
    big = SVG.replace("M10 20L30.5 40L50 45", long_path)
    assert len(big) > 16 * 1024
    assert (await client.post(base, json=ink(big), headers=c.h("db1"))).status == 201
    mine = await (await client.get(base, headers=c.h("db1"))).json()
    assert len(mine) == 2
    await second.close()


async def test_invitation_screen_finds_and_invites_several(client: Any, people: People) -> None:
    c = await make_council(client, people)
    await people.add("dbmoi1", Role.MEMBER, name="Nguyễn Văn Mới")
    await people.add("dbmoi2", Role.MEMBER, name="Trần Thị Mới")
    found = await c.call("GET", "/candidates?q=M%E1%BB%9AI", "thuky", status=200)  # "MỚI"
    assert sorted(u["login"] for u in found) == ["dbmoi1", "dbmoi2"]
    everyone = {u["login"] for u in await c.call("GET", "/candidates", "thuky", status=200)}
    assert "ngoai" in everyone and "db1" not in everyone  # the invited are not offered again
    assert (
        await client.get(f"/api/v1/sessions/{c.sid}/candidates", headers=c.h("db1"))
    ).status == 403
    body = {"logins": ["dbmoi1", "dbmoi2"], "role": "guest"}
    assert (await c.call("POST", "/invitations", "thuky", body, 201))["invited"] == 2
    bad = {"logins": ["dbmoi1", "khong-co-ai"], "role": "member"}
    await c.call("POST", "/invitations", "thuky", bad, 422)
    roles = {u["login"]: u["role"] for u in (await c.call("GET", "/members", "thuky"))["members"]}
    assert roles["dbmoi1"] == "guest" and roles["dbmoi2"] == "guest"  # all or none
    page = await client.get(f"/sessions/{c.sid}/invitations", headers=c.h("thuky"))
    assert page.status == 200 and 'id="invite"' in await page.text()
    assert (await client.get(f"/sessions/{c.sid}/invitations", headers=c.h("db1"))).status == 403


async def test_session_pages_in_english(client: Any, people: People) -> None:
    c = await make_council(client, people)
    paper = await upload(c, sample_pdf(2))
    pages = (
        f"/sessions/{c.sid}",
        f"/sessions/{c.sid}/papers/{paper['id']}",
        f"/sessions/{c.sid}/wall",
        f"/sessions/{c.sid}/invitations",
        "/sessions",
    )
    for lang, word in (("en", "Draw"), ("vi", "Vẽ tay")):
        for path in pages:
            resp = await client.get(path, headers={**c.h("thuky"), "Cookie": f"lt_lang={lang}"})
            html = await resp.text()
            assert resp.status == 200, path
            texts = json.loads(
                re.search(
                    r'<script type="application/json" id="lt-texts">(.*?)</script>', html, re.S
                )[1]  # type: ignore[index]
            )
            assert texts["ink.draw"] == word
            assert f'<html lang="{lang}">' in html


def _der_b64(path: Path) -> str:
    data = path.read_bytes()
    if pem.detect(data):
        data = pem.unarmor(data)[2]
    return base64.b64encode(data).decode()


async def test_minutes_signed_from_the_page_through_the_agent_protocol(
    client: Any, people: People, pki: DevPki, responder: None
) -> None:
    c = await make_council(client, people)
    # the secretary's own certificate, registered to her (signing.binding)
    await people.certificate("thuky", pki.cert("clerk"))
    trust = client.app[CONFIG_KEY].trust_dir
    trust.mkdir(parents=True, exist_ok=True)
    (trust / "root.pem").write_bytes(pki.root_pem.read_bytes())
    signer = {
        "certificate_b64": _der_b64(pki.cert("clerk")),
        "chain_b64": [_der_b64(Path(p)) for p in pki.chain_pems],
    }
    base = f"/api/v1/sessions/{c.sid}/minutes/sign"
    # only the secretariat of the session prepares
    assert (await client.post(base + "/prepare", json=signer, headers=c.h("db1"))).status == 403
    resp = await client.post(base + "/prepare", json=signer, headers=c.h("thuky"))
    prepared = await resp.json()
    assert resp.status == 200, prepared
    # the agent's part: a raw RSA signature over the signed attributes, with the signer's key
    key = serialization.load_pem_private_key(pki.key("clerk").read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    raw = key.sign(base64.b64decode(prepared["to_sign_b64"]), padding.PKCS1v15(), hashes.SHA256())
    finish = {"request_id": prepared["request_id"], "signature_b64": base64.b64encode(raw).decode()}
    # someone else cannot finish it
    assert (await client.post(base + "/finish", json=finish, headers=c.h("db1"))).status in (
        403,
        404,
    )
    done = await client.post(base + "/finish", json=finish, headers=c.h("thuky"))
    result = await done.json()
    assert done.status == 201, result
    assert "Trần Thị Bình" in result["signer"] and result["report"]["ok"] is True
    state = await (await client.get(f"/api/v1/sessions/{c.sid}", headers=c.h("db2"))).json()
    assert "Trần Thị Bình" in state["minutes"]["signer"]
