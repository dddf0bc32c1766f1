"""A clerk's inbox with thousands of documents: list, filter and search return the right page.

No timing is asserted here (a loaded machine is slower, not wrong)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from documents.models import Document, Recipient, StoredFile
from server.accounts.models import Agency
from server.auth.principal import Role
from server.db import Database
from tests.conftest import People, bearer
from tests.documents.conftest import AGENCY_A, AGENCY_B

N = 3000


async def test_inbox_of_thousands(
    client: TestClient[Any, Any], people: People, database: Database
) -> None:
    await people.add("vt_b", Role.CLERK, agency=AGENCY_B)
    token = await people.token("vt_b")
    now = dt.datetime.now(dt.UTC)

    async def fill(session: AsyncSession) -> None:
        a_id = await session.scalar(select(Agency.id).where(Agency.code == AGENCY_A))
        b_id = await session.scalar(select(Agency.id).where(Agency.code == AGENCY_B))
        await session.execute(
            insert(StoredFile),
            [{"sha256": "a" * 64, "size": 1, "media_type": "application/pdf", "page_count": 1}],
        )
        await session.execute(
            insert(Document),
            [
                {
                    "public_id": uuid.uuid4().hex,
                    "sender_agency_id": a_id,
                    "sender_code": AGENCY_A,
                    "sender_name": "",
                    "number": str(i),
                    "notation": "UBND-VP",
                    "doc_type": "",
                    "subject": f"Văn bản số {i} về việc {'đê điều' if i % 100 == 7 else 'khác'}",
                    "place": "",
                    "promulgation_date": dt.date(2026, 1, 1) + dt.timedelta(days=i % 300),
                    "signer_name": "",
                    "signer_position": "",
                    "urgency": 1,
                    "confidentiality": 0,
                    "main_sha256": "a" * 64,
                    "main_name": "vb.pdf",
                    "state": "sent",
                    "business_type": 0,
                    "created_at": now - dt.timedelta(minutes=i),
                    "sent_at": now - dt.timedelta(minutes=i),
                    "signature_summary": "",
                }
                for i in range(N)
            ],
        )
        ids = list(await session.scalars(select(Document.id)))
        await session.execute(
            insert(Recipient),
            [
                {
                    "document_id": doc_id,
                    "agency_id": b_id,
                    "agency_code": AGENCY_B,
                    "status": "03" if doc_id % 2 else "01",
                    "received_at": now - dt.timedelta(minutes=doc_id),
                    "updated_at": now,
                    "closed": "",
                }
                for doc_id in ids
            ],
        )

    await database.write("fill", fill)
    for query, expected in (
        ("limit=50", 50),
        ("status=01&limit=50", 50),
        ("q=đê điều&limit=100", N // 100),
        ("from=2026-01-01&to=2026-01-01&limit=500", 10),
    ):
        resp = await client.get(f"/api/v1/documents/inbox?{query}", headers=bearer(token))
        items = (await resp.json())["items"]
        assert len(items) == expected, query
