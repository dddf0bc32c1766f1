"""What a peer may ask for is bound to that peer: a receipt is looked up by (peer, message id),
never handed to another server (issue 9, finding 11); and a document of an agency a peer serves
cannot be imported by hand in its name (finding 5)."""

from __future__ import annotations

import dataclasses
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from documents.edxml import document_to_xml, parse_document
from documents.models import Receipt
from server.auth.principal import Role
from signing.devpki import DevPki
from tests.conftest import bearer
from tests.documents import test_federation as fed
from tests.documents.conftest import SignedFiles, send_form

pair = fed.pair  # the two-server fixture
Side = fed.Side

PEER_C = """
[[peers]]
name = "tinh-c"
url = "http://127.0.0.1:9"
token_env = "LT_TOKEN_ON_C"
login = "peer.c"
agencies = ["000.00.00.H96"]
deliver_to = ["*"]
seal_cert = "{cert}"
"""


async def _post_message(url: str, token: str, body: bytes, message_id: str, ref: str) -> Any:
    headers = {
        **bearer(token),
        "X-LT-Message-Id": message_id,
        "X-LT-Kind": "document",
        "X-LT-Ref": ref,
    }
    async with (
        aiohttp.ClientSession() as s,
        s.post(f"{url}/api/v1/federation/messages", data=body, headers=headers) as resp,
    ):
        return resp.status, await resp.json()


async def test_a_receipt_belongs_to_the_peer_that_delivered(
    pair: tuple[Side, Side], pdfs: SignedFiles, doc_pki: DevPki, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = pair
    monkeypatch.setenv("LT_TOKEN_ON_C", "unused")  # what B would present to tinh-c
    # B knows a second peer, tinh-c, with its own machine account
    tokens_c = await fed._seed(b.db, [], [("peer.c", fed.B_PROV, Role.OFFICIAL)])
    toml = b.data / "federation.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8") + PEER_C.format(cert=doc_pki.cert("agency")),
        encoding="utf-8",
    )
    await a.start()
    await b.start()
    async with aiohttp.ClientSession() as s:
        resp = await s.post(
            f"{a.url}/api/v1/documents",
            data=send_form(pdfs.signed, to=[fed.B_AGENCY]),
            headers=bearer(a.tokens["vt_a"]),
        )
        assert resp.status == 201, await resp.text()
        doc_id = (await resp.json())["id"]

    async def arrived() -> bool:
        return (await fed._statuses(a, doc_id))[fed.B_AGENCY] == ["00", "01"]

    await fed._until(arrived)

    async def held(session: AsyncSession) -> Receipt:
        row = await session.scalar(select(Receipt).where(Receipt.direction == "out"))
        assert row is not None
        return row

    receipt = await a.db.read("receipt", held)
    from documents.interop import document_message
    from documents.keys import SERVICES_KEY

    assert a.app is not None
    body = await document_message(a.app[SERVICES_KEY], doc_id, [fed.B_AGENCY])
    # tinh-c presents tinh-a's message id: no receipt, no document id, nothing stored
    status, answer = await _post_message(
        b.url, tokens_c["peer.c"], body, receipt.message_id, doc_id
    )
    assert status == 403, answer
    assert answer["code"] == "documents.message_id_taken"
    assert "receipt" not in answer and "document" not in answer
    # tinh-a itself still gets its own receipt back for a copy
    status, again = await _post_message(b.url, b.tokens["peer.a"], body, receipt.message_id, doc_id)
    assert status == 200 and again["digest"] == receipt.digest

    # B's clerk cannot import by hand a package in the name of an agency tinh-a serves
    inbox = await fed._get(f"{b.url}/api/v1/documents/inbox", b.tokens["vt_b"])
    b_doc = inbox["items"][0]["id"]
    async with (
        aiohttp.ClientSession() as s,
        s.get(f"{b.url}/api/v1/documents/{b_doc}/edxml", headers=bearer(b.tokens["vt_b"])) as r,
    ):
        exported = parse_document(await r.read())
    forged = dataclasses.replace(exported, code_number="99", subject="Nội dung đã bị sửa")
    async with (
        aiohttp.ClientSession() as s,
        s.post(
            f"{b.url}/api/v1/documents/import",
            data=document_to_xml(forged),
            headers={**bearer(b.tokens["vt_b"]), "Content-Type": "application/xml"},
        ) as r,
    ):
        problem = await r.json()
        assert r.status == 403, problem
    assert problem["detail_vi"].startswith(f"Gói tin khai là của {fed.A_AGENCY} nhưng")
    assert "tinh-a" in problem["detail_vi"]
    view = await fed._get(f"{b.url}/api/v1/documents/{b_doc}", b.tokens["vt_b"])
    assert view["metadata_verified"] is True  # received through the peer's channel
