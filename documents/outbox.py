"""The durable outbox: messages for other servers, written in the same transaction as the change
they announce, claimed with a lease, retried with exponential backoff and jitter."""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from documents.errors import NotSupportedAcrossServers
from documents.models import Document, OutboxMessage
from documents.peers import FederationConfig
from server.db.base import utcnow


async def enqueue_txn(session: AsyncSession, peer: str, kind: str, payload: dict[str, Any]) -> str:
    """Queue a message for ``peer`` inside the caller's transaction; return its message id."""
    message_id = uuid.uuid4().hex
    session.add(
        OutboxMessage(
            message_id=message_id,
            peer=peer,
            kind=kind,
            payload=json.dumps(payload, ensure_ascii=False, sort_keys=True),
            attempts=0,
            next_attempt_at=utcnow(),
        )
    )
    await session.flush()
    return message_id


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    message_id: str
    peer: str
    kind: str
    payload: dict[str, Any]
    attempts: int


async def any_due_txn(session: AsyncSession) -> bool:
    """Whether a message is due; a read, so an idle worker never takes the write lock."""
    found = await session.scalar(
        select(OutboxMessage.id)
        .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.next_attempt_at <= utcnow())
        .limit(1)
    )
    return found is not None


async def claim_due_txn(session: AsyncSession, lease: float, limit: int = 32) -> list[Claimed]:
    """Take due messages and lease them so another worker (or process) leaves them alone.

    A sender that dies holding a lease simply lets it expire; the message goes again and the
    receiver drops the duplicate by its message id.
    """
    now = utcnow()
    rows = list(
        await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    out = []
    for row in rows:
        row.attempts += 1
        row.next_attempt_at = now + dt.timedelta(seconds=lease)
        out.append(
            Claimed(
                row.id, row.message_id, row.peer, row.kind, json.loads(row.payload), row.attempts
            )
        )
    await session.flush()
    return out


def backoff(attempts: int, max_backoff: float) -> float:
    """Seconds before the next attempt: 1, 2, 4 … capped, with jitter so peers do not stampede."""
    base: float = min(max_backoff, 2.0 ** max(0, attempts - 1))
    return base * random.uniform(0.5, 1.0)


async def failed_txn(session: AsyncSession, row_id: int, error: str, max_backoff: float) -> None:
    row = await session.get(OutboxMessage, row_id)
    if row is None or row.delivered_at is not None:
        return
    row.last_error = error[:2000]
    row.next_attempt_at = utcnow() + dt.timedelta(seconds=backoff(row.attempts, max_backoff))
    await session.flush()


async def mark_delivered_txn(session: AsyncSession, row_id: int) -> bool:
    """Mark a message delivered; False when a concurrent delivery (an expired lease) already did.

    One statement, so the second of two deliveries waits on the row and finds nothing to update.
    """
    marked = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.delivered_at.is_(None))
        .values(delivered_at=utcnow(), last_error="")
        .execution_options(synchronize_session=False)
    )
    return bool(marked.rowcount)  # type: ignore[attr-defined]


async def enqueue_requests_txn(
    session: AsyncSession,
    federation: FederationConfig | None,
    document_public_id: str,
    codes: list[str],
    kind: int,
    note: str,
    changes: dict[str, Any] | None = None,
    new_ref: str | None = None,
) -> int:
    """Queue a revoke (1), update (2) or replace (3) request for recipients on other servers,
    one message per peer; return how many were queued.

    The request travels as an edXML package (``BussinessDocType`` 1–3, ``ReplacementInfoList``)
    built from the document as it stands now (and, for a replacement, the new document), kept in
    the payload so that a retry sends the same bytes whatever changes later."""
    if not codes:
        return 0
    snapshot = await _snapshot_txn(session, document_public_id)
    replacement = await _snapshot_txn(session, new_ref) if new_ref else None
    by_peer: dict[str, list[str]] = {}
    for code in codes:
        peer = federation.peer_for_agency(code) if federation else None
        if peer is None:
            raise NotSupportedAcrossServers()
        by_peer.setdefault(peer.name, []).append(code)
    for peer_name, peer_codes in by_peer.items():
        await enqueue_txn(
            session,
            peer_name,
            "request",
            {
                "ref": document_public_id,
                "kind": kind,
                "note": note,
                "changes": {k: str(v) for k, v in (changes or {}).items()},
                "to": peer_codes,
                "new_ref": new_ref,
                "doc": snapshot,
                "new_doc": replacement,
            },
        )
    return len(by_peer)


async def _snapshot_txn(session: AsyncSession, public_id: str) -> dict[str, Any] | None:
    """What an edXML request says about a document (JSON-ready), as it stands in this
    transaction."""
    doc = await session.scalar(select(Document).where(Document.public_id == public_id))
    if doc is None:
        return None
    day = doc.promulgation_date or (doc.sent_at or utcnow()).date()
    return {
        "sender_code": doc.sender_code,
        "sender_name": doc.sender_name or "",
        "number": doc.number,
        "notation": doc.notation,
        "doc_type": doc.doc_type,
        "subject": doc.subject,
        "place": doc.place,
        "date": day.isoformat(),
        "due_date": doc.due_date.isoformat() if doc.due_date else None,
        "urgency": doc.urgency,
        "sent_at": (doc.sent_at or utcnow()).isoformat(),
        "signer_name": doc.signer_name,
        "signer_position": doc.signer_position,
    }


async def pending_count_txn(session: AsyncSession) -> int:
    rows = await session.scalars(
        select(OutboxMessage.id).where(OutboxMessage.delivered_at.is_(None))
    )
    return len(list(rows))
