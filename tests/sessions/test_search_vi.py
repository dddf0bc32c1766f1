"""Papers and invitation candidates are found with or without diacritics, either tone-mark
placement, any case and đ/d (the fold of server.search), on SQLite and PostgreSQL."""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meetings.sessions.papers.models import PaperPage, PaperVersion
from meetings.sessions.papers.sample import sample_pdf
from server.auth.principal import Role
from server.db import Database
from tests.conftest import People
from tests.sessions.helpers import make_council
from tests.sessions.test_papers import upload

PAGE_TEXTS = {
    2: "Tờ trình về công trình thủy lợi Đá Bàn năm 2027.",
    3: unicodedata.normalize("NFD", "Báo cáo công trình thuỷ lợi sông Cái, SỨC KHOẺ."),
}


async def test_paper_search_ignores_diacritics_and_tone_placement(
    client: Any, people: People, database: Database
) -> None:
    c = await make_council(client, people)
    paper = await upload(c, sample_pdf(3), title="Tờ trình ngân sách")

    async def write_texts(session: AsyncSession) -> None:
        # page 1 keeps the PDF's own text "Noi dung ngan sach tinh ..."; 2 and 3 get accents
        version = await session.scalar(
            select(PaperVersion.id).where(PaperVersion.paper_id == paper["id"])
        )
        for page in await session.scalars(select(PaperPage).where(PaperPage.version_id == version)):
            if page.page in PAGE_TEXTS:
                page.text = PAGE_TEXTS[page.page]

    await database.write("texts", write_texts)
    base = f"/api/v1/sessions/{c.sid}/papers/{paper['id']}/search?q="
    across = f"/api/v1/sessions/{c.sid}/search?q="

    async def pages(url: str, q: str) -> list[int]:
        resp = await client.get(url + quote(q), headers=c.h("db1"))
        assert resp.status == 200, await resp.text()
        return [h["page"] for h in await resp.json()]

    for url in (base, across):
        assert await pages(url, "ngân sách") == [1]  # the text is "ngan sach"
        assert await pages(url, "NGÂN SÁCH TỈNH") == [1]
        assert await pages(url, "thủy lợi") == [2, 3]  # "thủy" and (NFD) "thuỷ" alike
        assert await pages(url, "thuỷ lợi") == [2, 3]
        assert await pages(url, "thuy loi") == [2, 3]
        assert await pages(url, "da ban") == [2]
        assert await pages(url, "suc khỏe") == [3]
        assert await pages(url, "thuy loii") == []
    hits = await (await client.get(base + quote("thuy loi"), headers=c.h("db1"))).json()
    # the snippet shows the words as written, not folded
    assert "thủy lợi" in hits[0]["snippet"] and "thuỷ lợi" in unicodedata.normalize(
        "NFC", hits[1]["snippet"]
    )


async def test_candidates_ignore_diacritics_and_tone_placement(client: Any, people: People) -> None:
    c = await make_council(client, people)
    await people.add("thuy", Role.MEMBER, name="Nguyễn Thị Thuỷ")
    await people.add("hoa", Role.MEMBER, name="Lê Văn Hòa")
    await people.add("dung", Role.MEMBER, name="Đặng Quý Dũng")

    async def logins(q: str) -> set[str]:
        found = await c.call("GET", "/candidates?q=" + quote(q), "thuky", status=200)
        return {u["login"] for u in found}

    assert await logins("thủy") == {"thuy"}
    assert await logins("THUY") == {"thuy"}
    assert await logins("nguyen thi thuy") == {"thuy"}
    assert await logins("hoà") == {"hoa"}
    assert await logins("le van hoa") == {"hoa"}
    assert await logins("dang qúy dung") == {"dung"}
    assert await logins("ĐẶNG") == {"dung"}
    # the agency's name too: every candidate works at "Sở Nội vụ"
    assert {"thuy", "hoa", "dung", "ngoai"} <= await logins("so noi vu")
