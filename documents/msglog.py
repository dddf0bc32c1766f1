"""The hash-chained log of every exchange message sent or received (nhật ký truyền nhận).

Each entry's hash covers its content and the previous entry's hash, as in the audit log, so the
logs of two servers can be compared message by message and any edit breaks the chain. Appends are
serialised by a transaction-scoped advisory lock on PostgreSQL and by ``BEGIN IMMEDIATE`` on SQLite.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from documents.models import MessageLogEntry
from server.db.base import utcnow

GENESIS = "0" * 64
_LOCK_KEY = 0x4C54_444D  # "LTDM"


def canonical(data: Any) -> bytes:
    return json.dumps(
        data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
    ).encode("utf-8")


def digest_of(data: Any) -> str:
    """SHA-256 of the canonical JSON of a message."""
    return hashlib.sha256(canonical(data)).hexdigest()


def commitment(salt: str, entry_hash_hex: str) -> str:
    """A salted commitment to one log entry: SHA-256 over the salt and the entry's chain hash.

    Shown instead of the entry to a party the message does not concern: without the salt, which
    stays on the server, the entry's low-entropy content (a status code, "Số đến 3/2026") cannot
    be guessed back from it; revealing salt and entry later proves the entry was there."""
    return hashlib.sha256(bytes.fromhex(salt) + entry_hash_hex.encode("ascii")).hexdigest()


def entry_hash(prev: str, seq: int, at: datetime, fields: list[str]) -> str:
    body = canonical([seq, at.isoformat(), *fields])
    return hashlib.sha256(prev.encode("ascii") + body).hexdigest()


async def append_log_txn(
    session: AsyncSession,
    *,
    direction: str,
    kind: str,
    message_id: str,
    document_public_id: str,
    digest: str,
    peer: str = "",
    agencies: Iterable[str] = (),
) -> MessageLogEntry:
    """Append one message to the chain inside the caller's transaction (the returned entry is a
    copy of what was written, not attached to the session).

    ``agencies``: the recipient agencies the message concerns (whose handling it is); evidence
    bundles show the entry to them and to the sender, to anyone else as a salted commitment.
    """
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    last = (
        await session.execute(
            select(MessageLogEntry.seq, MessageLogEntry.hash)
            .order_by(MessageLogEntry.seq.desc())
            .limit(1)
        )
    ).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    now = utcnow()
    at = now.replace(microsecond=(now.microsecond // 1000) * 1000)
    fields = [direction, kind, message_id, document_public_id, peer, digest]
    values: dict[str, Any] = {
        "seq": seq,
        "at": at,
        "direction": direction,
        "kind": kind,
        "message_id": message_id,
        "document_public_id": document_public_id,
        "peer": peer,
        "digest": digest,
        "prev_hash": prev,
        "hash": entry_hash(prev, seq, at, fields),
        "agencies": " ".join(sorted(set(agencies))),
        "salt": secrets.token_hex(16),
    }
    # a Core insert: the ORM's unit of work for one row cost more than the statement itself
    await session.execute(insert(cast(Table, MessageLogEntry.__table__)).values(values))
    return MessageLogEntry(**values)


@dataclass(frozen=True, slots=True)
class LogCheck:
    ok: bool
    count: int
    head_hash: str
    first_bad_seq: int | None = None


async def verify_log_txn(session: AsyncSession) -> LogCheck:
    """Walk the chain; report the first entry that does not fit."""
    prev, expected, count = GENESIS, 1, 0
    rows = await session.stream_scalars(select(MessageLogEntry).order_by(MessageLogEntry.seq))
    async for row in rows:
        fields = [
            row.direction,
            row.kind,
            row.message_id,
            row.document_public_id,
            row.peer,
            row.digest,
        ]
        if (
            row.seq != expected
            or row.prev_hash != prev
            or entry_hash(prev, row.seq, row.at, fields) != row.hash
        ):
            return LogCheck(False, count, prev, row.seq)
        prev, expected, count = row.hash, expected + 1, count + 1
    return LogCheck(True, count, prev)
