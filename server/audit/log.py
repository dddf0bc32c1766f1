"""Appending to and verifying the hash-chained audit log.

Each row's hash covers its sequence number, time, actor, action, target and details, and the hash of
the row before it, so editing, deleting or reordering any row breaks the chain from there on.
Deleting rows at the end cannot be seen from the chain alone: :func:`verify_txn` reports the head
hash and count, which operators copy elsewhere (the daily log) to anchor it.

Appends are serialised: on PostgreSQL with a transaction-scoped advisory lock, on SQLite by the
``BEGIN IMMEDIATE`` write transactions of :class:`server.db.Database`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.models import AuditEntry
from server.db.base import utcnow

GENESIS = "0" * 64
_LOCK_KEY = 0x4C54_4155  # "LTAU"


def canonical(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def entry_hash(
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    details: str,
) -> str:
    body = canonical([seq, at.isoformat(), actor, action, target, details])
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class NewEntry:
    """One entry to append with :func:`append_many_txn`."""

    action: str
    actor: str
    target: str = ""
    details: dict[str, Any] | None = None
    actor_user_id: int | None = None


async def append_txn(
    session: AsyncSession,
    action: str,
    *,
    actor: str,
    actor_user_id: int | None = None,
    target: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry inside the caller's transaction (so the act and its record commit together).

    The returned entry is a copy of what was written, not attached to the session."""
    entry = NewEntry(action, actor, target, details, actor_user_id)
    (written,) = await append_many_txn(session, [entry])
    return written


async def append_many_txn(session: AsyncSession, entries: list[NewEntry]) -> list[AuditEntry]:
    """Append ``entries`` in order inside the caller's transaction: one lock, one read of the
    chain's head and one insert for them all (a vote batch over a hundred polls writes a hundred
    entries; one statement each held the deployment-wide lock ten times longer)."""
    if not entries:
        return []
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    last = (
        await session.execute(
            select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
        )
    ).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    now = utcnow()
    at = now.replace(microsecond=(now.microsecond // 1000) * 1000)
    rows: list[dict[str, Any]] = []
    for e in entries:
        body = canonical(e.details or {})
        digest = entry_hash(prev, seq, at, e.actor, e.action, e.target, body)
        rows.append(
            {
                "seq": seq,
                "at": at,
                "actor": e.actor,
                "actor_user_id": e.actor_user_id,
                "action": e.action,
                "target": e.target,
                "details": body,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        seq, prev = seq + 1, digest
    # a Core insert: the ORM's unit of work cost more than the statement itself
    await session.execute(insert(cast(Table, AuditEntry.__table__)), rows)
    return [AuditEntry(**values) for values in rows]


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    count: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str = ""


async def verify_txn(session: AsyncSession) -> VerifyResult:
    """Walk the chain in order and report the first row whose hash or sequence does not fit."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    rows = await session.stream_scalars(select(AuditEntry).order_by(AuditEntry.seq))
    async for row in rows:
        if row.seq != expected_seq:
            return VerifyResult(
                False, count, prev, expected_seq, f"entry {expected_seq} is missing"
            )
        if row.prev_hash != prev:
            return VerifyResult(False, count, prev, row.seq, "link to the previous entry is broken")
        at = row.at
        if (
            entry_hash(prev, row.seq, at, row.actor, row.action, row.target, row.details)
            != row.hash
        ):
            return VerifyResult(False, count, prev, row.seq, "entry was altered")
        prev = row.hash
        expected_seq += 1
        count += 1
    return VerifyResult(True, count, prev)


async def latest_txn(session: AsyncSession, limit: int) -> list[AuditEntry]:
    """The newest ``limit`` entries, newest first (the admin page and ``GET /api/v1/audit``)."""
    return list(
        await session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit))
    )
