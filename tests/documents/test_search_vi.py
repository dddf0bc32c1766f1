"""The inbox and outbox search ignores diacritics, tone-mark placement, case and đ/d (the fold
of server.search), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from urllib.parse import quote

from aiohttp.test_utils import TestClient
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from documents.models import Document, Recipient, StoredFile
from server.accounts.models import Agency
from server.auth.principal import Role
from server.db import Database
from tests.conftest import People, bearer
from tests.documents.conftest import AGENCY_A, AGENCY_B

SUBJECTS = {
    "1": "Về dự toán ngan sach tinh nam 2027",  # typed without diacritics
    "2": "Về công trình thủy lợi Hồ Đá Bàn",  # tone on the y
    "3": "Về công trình thuỷ lợi sông Cái",  # tone on the u
    "4": "Về việc bảo vệ sức khoẻ đê điều",
    "5": "Về 50% kinh phí",
}


async def _fill(db: Database) -> None:
    """Core inserts, as an import would: the folded column's default covers them too."""
    now = dt.datetime.now(dt.UTC)

    async def run(session: AsyncSession) -> None:
        a_id = await session.scalar(select(Agency.id).where(Agency.code == AGENCY_A))
        b_id = await session.scalar(select(Agency.id).where(Agency.code == AGENCY_B))
        sha = "b" * 64
        await session.execute(
            insert(StoredFile),
            [{"sha256": sha, "size": 1, "media_type": "application/pdf", "page_count": 1}],
        )
        for number, subject in SUBJECTS.items():
            doc_id = await session.scalar(
                insert(Document)
                .values(
                    public_id=uuid.uuid4().hex,
                    sender_agency_id=a_id,
                    sender_code=AGENCY_A,
                    number=number,
                    notation="UBND-KT" if number != "4" else "SNN-ĐĐ",
                    subject=subject,
                    main_sha256=sha,
                    main_name="vb.pdf",
                    sent_at=now,
                )
                .returning(Document.id)
            )
            await session.execute(
                insert(Recipient).values(
                    document_id=doc_id,
                    agency_id=b_id,
                    agency_code=AGENCY_B,
                    status="01",
                    received_at=now,
                    updated_at=now,
                    closed="",
                )
            )

    await db.write("fill", run)


async def test_inbox_and_outbox_search_vietnamese(
    client: TestClient[Any, Any], people: People, database: Database
) -> None:
    await _fill(database)
    await people.add("vt_a", Role.CLERK, agency=AGENCY_A)
    await people.add("vt_b", Role.CLERK, agency=AGENCY_B)
    a, b = bearer(await people.token("vt_a")), bearer(await people.token("vt_b"))

    async def numbers(box: str, q: str, h: dict[str, str]) -> set[str]:
        resp = await client.get(f"/api/v1/documents/{box}?q={quote(q)}", headers=h)
        assert resp.status == 200, await resp.text()
        return {item["number"] for item in (await resp.json())["items"]}

    for box, h in (("inbox", b), ("outbox", a)):
        assert await numbers(box, "ngân sách", h) == {"1"}
        assert await numbers(box, "NGÂN SÁCH TỈNH", h) == {"1"}
        assert await numbers(box, "thủy lợi", h) == {"2", "3"}
        assert await numbers(box, "thuỷ lợi", h) == {"2", "3"}
        assert await numbers(box, "thuy loi", h) == {"2", "3"}
        assert await numbers(box, "da ban", h) == {"2"}
        assert await numbers(box, "Đá  Bàn", h) == {"2"}
        assert await numbers(box, "khỏe", h) == {"4"}
        assert await numbers(box, "snn-dd", h) == {"4"}  # the notation, đ as d
        assert await numbers(box, "50%", h) == {"5"}
        assert await numbers(box, "%", h) == {"5"}  # a literal percent sign, not a wildcard
        assert await numbers(box, "ubnd-kt ve", h) == set()  # never across two fields
    # the sender's name, by the same fold: Sở Nội vụ sent them all
    assert await numbers("inbox", "so noi vu", b) == set(SUBJECTS)
