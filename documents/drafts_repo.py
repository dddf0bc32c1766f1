"""SQL for drafts (``doc_drafts``); every function runs inside the caller's transaction."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from documents.models import Draft
from server.db.base import utcnow

OPEN_STATES = ("draft", "signed", "sealed")


async def get_draft_txn(session: AsyncSession, public_id: str) -> Draft | None:
    if len(public_id) > 36:
        return None
    found: Draft | None = await session.scalar(select(Draft).where(Draft.public_id == public_id))
    return found


async def open_drafts_txn(session: AsyncSession, agency_id: int, limit: int = 200) -> list[Draft]:
    """Drafts of an agency not sent yet, newest first."""
    rows = await session.scalars(
        select(Draft)
        .where(Draft.agency_id == agency_id, Draft.state.in_(OPEN_STATES))
        .order_by(Draft.created_at.desc(), Draft.id.desc())
        .limit(limit)
    )
    return list(rows)


async def move_draft_txn(
    session: AsyncSession, draft_id: int, expected_state: str, expected_sha: str, **values: object
) -> bool:
    """Change a draft only if it is still in ``expected_state`` with ``expected_sha`` as its main
    file (two clicks or two people racing: the second finds nothing to change)."""
    result = await session.execute(
        update(Draft)
        .where(
            Draft.id == draft_id,
            Draft.state == expected_state,
            Draft.main_sha256 == expected_sha,
        )
        .values(updated_at=utcnow(), **values)
    )
    return bool(getattr(result, "rowcount", 0) == 1)
