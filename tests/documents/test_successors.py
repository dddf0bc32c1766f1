"""Documents and agencies with history (issue 11): a document sent to a merged or renamed unit
reaches its successor, a split unit's successors all receive it, a dissolved one is refused by
name; the sender's timeline says so; search finds documents by an agency's old or new name; the
compose page offers only units valid today."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient

from server.accounts.agencies import AgencyRow, import_rows_txn
from server.auth.principal import Role
from server.db import Database
from tests.conftest import People, bearer
from tests.documents.conftest import AGENCY_A, AGENCY_B, PROVINCE, SignedFiles, send, send_form
from tests.platform.test_auth import login

X1 = "001.00.21.H98"  # UBND xã An Hoà, merged into M
X2 = "001.00.22.H98"  # UBND xã Bình Hoà, merged into M
M = "001.00.23.H98"  # UBND xã Hoà Bình, since 1 July 2025
S = "001.00.31.H98"  # UBND xã Sơn Thuỷ, split into S1 and S2
S1, S2 = "001.00.32.H98", "001.00.33.H98"
D = "001.00.41.H98"  # UBND xã Đồi Cát, dissolved
ACT = "9999/NQ-UBTVQH15"

UNITS = [
    AgencyRow(X1, "UBND xã An Hoà", PROVINCE, 2),
    AgencyRow(X2, "UBND xã Bình Hoà", PROVINCE, 2),
    AgencyRow(M, "UBND xã Hoà Bình", PROVINCE, 2, date(2025, 7, 1)),
    AgencyRow(S, "UBND xã Sơn Thuỷ", PROVINCE, 2),
    AgencyRow(S1, "UBND xã Sơn Bắc", PROVINCE, 2, date(2025, 7, 1)),
    AgencyRow(S2, "UBND xã Sơn Nam", PROVINCE, 2, date(2025, 7, 1)),
    AgencyRow(D, "UBND xã Đồi Cát", PROVINCE, 2),
]

CHANGES = "old_code,new_code,change,effective_date,act,act_date\n" + "".join(
    f"{old},{new},{change},2025-07-01,{ACT},2025-06-16\n"
    for old, new, change in [
        (X1, M, "merged"),
        (X2, M, "merged"),
        (S, S1, "split"),
        (S, S2, "split"),
        (D, "", "dissolved"),
    ]
)


@pytest.fixture
async def units(database: Database, people: People) -> None:
    await database.write("units", lambda s: import_rows_txn(s, UNITS))
    await people.add("vt_a", Role.CLERK, agency=AGENCY_A)
    await people.add("vt_m", Role.CLERK, agency=M)
    await people.add("quantri", Role.ADMIN)


async def _restructure(client: TestClient[Any, Any], people: People) -> None:
    admin = bearer(await people.token("quantri"))
    resp = await client.post(
        "/api/v1/agencies/restructure",
        data=CHANGES,
        headers={**admin, "Content-Type": "text/csv"},
    )
    assert resp.status == 200, await resp.text()


async def _view(client: TestClient[Any, Any], token: str, doc_id: str) -> Any:
    resp = await client.get(f"/api/v1/documents/{doc_id}", headers=bearer(token))
    assert resp.status == 200
    return await resp.json()


@pytest.mark.usefixtures("units")
async def test_a_document_to_a_merged_commune_reaches_the_new_one_and_the_sender_is_told(
    client: TestClient[Any, Any], people: People, pdfs: SignedFiles
) -> None:
    await _restructure(client, people)
    ta, tm = await people.token("vt_a"), await people.token("vt_m")

    doc_id = await send(client, ta, pdfs.signed, to=[X1])
    view = await _view(client, ta, doc_id)
    [rec] = view["recipients"]
    assert rec["agency_code"] == M and rec["agency_name"] == "UBND xã Hoà Bình"
    assert rec["timeline"][0]["code"] == "01"
    assert rec["timeline"][0]["note"] == (
        f"Đơn vị UBND xã An Hoà đã sáp nhập vào UBND xã Hoà Bình (theo {ACT}), "
        "văn bản chuyển đến UBND xã Hoà Bình"
    )
    inbox = await (await client.get("/api/v1/documents/inbox", headers=bearer(tm))).json()
    assert [d["id"] for d in inbox["items"]] == [doc_id]

    # addressed to both former communes and the new one: the new commune receives it once,
    # without a note (addressed directly)
    again = await send(client, ta, pdfs.signed, to=[X1, X2, M], number="16")
    [rec] = (await _view(client, ta, again))["recipients"]
    assert rec["agency_code"] == M and rec["timeline"][0]["note"] == ""


@pytest.mark.usefixtures("units")
async def test_a_document_to_a_split_commune_reaches_every_successor(
    client: TestClient[Any, Any], people: People, pdfs: SignedFiles
) -> None:
    await _restructure(client, people)
    ta = await people.token("vt_a")
    doc_id = await send(client, ta, pdfs.signed, to=[S, AGENCY_B])
    by_code = {r["agency_code"]: r for r in (await _view(client, ta, doc_id))["recipients"]}
    assert sorted(by_code) == sorted([AGENCY_B, S1, S2])
    for code, name in ((S1, "UBND xã Sơn Bắc"), (S2, "UBND xã Sơn Nam")):
        assert by_code[code]["timeline"][0]["note"] == (
            f"Đơn vị UBND xã Sơn Thuỷ đã chia tách thành UBND xã Sơn Bắc, UBND xã Sơn Nam "
            f"(theo {ACT}), văn bản chuyển đến {name}"
        )
    assert by_code[AGENCY_B]["timeline"][0]["note"] == ""


@pytest.mark.usefixtures("units")
async def test_a_document_to_a_dissolved_commune_is_refused_by_name(
    client: TestClient[Any, Any], people: People, pdfs: SignedFiles
) -> None:
    await _restructure(client, people)
    ta = await people.token("vt_a")
    resp = await client.post(
        "/api/v1/documents",
        data=send_form(pdfs.signed, to=[AGENCY_B, D]),
        headers=bearer(ta),
    )
    body = await resp.json()
    assert resp.status == 422, body
    assert body["detail_vi"] == (
        f"Đơn vị UBND xã Đồi Cát ({D}) đã giải thể theo {ACT} từ ngày 01/07/2025; "
        "không có đơn vị nào tiếp nhận văn bản thay. Bỏ đơn vị này khỏi nơi nhận."
    )
    assert ACT in body["detail"] and D in body["detail"]
    outbox = await (await client.get("/api/v1/documents/outbox", headers=bearer(ta))).json()
    assert outbox["items"] == []  # nothing was sent, not even to AGENCY_B


async def _found(client: TestClient[Any, Any], token: str, box: str, query: str) -> set[str]:
    resp = await client.get(f"/api/v1/documents/{box}?{query}", headers=bearer(token))
    assert resp.status == 200
    return {d["id"] for d in (await resp.json())["items"]}


@pytest.mark.usefixtures("units")
async def test_search_finds_documents_by_an_agencys_old_or_new_name(
    client: TestClient[Any, Any], people: People, pdfs: SignedFiles
) -> None:
    await people.add("vt_x1", Role.CLERK, agency=X1)
    await people.add("vt_b", Role.CLERK, agency=AGENCY_B)
    ta, tx1, tb = [await people.token(x) for x in ("vt_a", "vt_x1", "vt_b")]
    to_old = await send(client, ta, pdfs.signed, to=[X1])  # before the merger
    from_old = await send(client, tx1, pdfs.signed, to=[AGENCY_B])
    await _restructure(client, people)
    tm = await people.token("vt_m")
    to_new = await send(client, ta, pdfs.signed, to=[M], number="17")
    from_new = await send(client, tm, pdfs.signed, to=[AGENCY_B], number="18")

    def q(text: str) -> str:
        return "q=" + quote(text)

    # the outbox (sổ văn bản đi) by the recipient's names
    assert await _found(client, ta, "outbox", q("hoà bình")) == {to_old, to_new}
    assert await _found(client, ta, "outbox", q("An Hoà")) == {to_old, to_new}
    assert await _found(client, ta, "outbox", q("Bình Hoà")) == {to_new}  # not X1's documents
    assert await _found(client, ta, "outbox", f"agency={X1}") == {to_old, to_new}
    # the inbox (sổ văn bản đến) by the sender's names
    assert await _found(client, tb, "inbox", q("Hoà Bình")) == {from_old, from_new}
    assert await _found(client, tb, "inbox", q("xã an hoà")) == {from_old, from_new}
    assert await _found(client, tb, "inbox", f"agency={M}") == {from_old, from_new}
    assert await _found(client, tb, "inbox", q("Sơn Thuỷ")) == set()


@pytest.mark.usefixtures("units")
async def test_the_compose_page_offers_only_units_valid_today(
    client: TestClient[Any, Any], people: People
) -> None:
    await _restructure(client, people)
    assert (await login(client, "vt_a")).status == 302
    page = await (await client.get("/documents/new", headers={"Accept": "text/html"})).text()
    for code in (M, S1, S2, AGENCY_B, PROVINCE):
        assert code in page
    for code in (X1, X2, S, D):
        assert code not in page
