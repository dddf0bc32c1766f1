"""SQL of the exchange's records: signed receipts and the message log. Every function runs
inside the caller's transaction (the outbox's own SQL is in :mod:`documents.outbox`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from documents.models import MessageLogEntry, OutboxMessage, Receipt


async def receipt_in_txn(session: AsyncSession, message_id: str) -> Receipt | None:
    """The receipt this server signed for an incoming message (None before it arrived)."""
    found: Receipt | None = await session.scalar(
        select(Receipt).where(Receipt.message_id == message_id, Receipt.direction == "in")
    )
    return found


async def receipts_of_document_txn(session: AsyncSession, public_id: str) -> list[Receipt]:
    """Every receipt, sent or received, of messages about one document, in order."""
    rows = await session.scalars(
        select(Receipt).where(Receipt.document_public_id == public_id).order_by(Receipt.id)
    )
    return list(rows)


async def outbox_by_message_txn(
    session: AsyncSession, message_ids: Sequence[str]
) -> dict[str, OutboxMessage]:
    """The queued messages with these ids, by id (messages we sent)."""
    rows = await session.scalars(
        select(OutboxMessage).where(OutboxMessage.message_id.in_(list(message_ids)))
    )
    return {o.message_id: o for o in rows}


async def log_of_document_txn(session: AsyncSession, public_id: str) -> list[MessageLogEntry]:
    """The message-log entries of one document, in chain order."""
    rows = await session.scalars(
        select(MessageLogEntry)
        .where(MessageLogEntry.document_public_id == public_id)
        .order_by(MessageLogEntry.seq)
    )
    return list(rows)


async def logged_document_txn(session: AsyncSession, message_id: str) -> str | None:
    """The document a logged message brought in (None when no such message was logged)."""
    found: str | None = await session.scalar(
        select(MessageLogEntry.document_public_id).where(MessageLogEntry.message_id == message_id)
    )
    return found
