"""Browser login sessions: a random cookie value, stored hashed, with its own CSRF token."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import LoginSession
from server.db.base import utcnow

COOKIE = "lt_session"


def cookie_digest(value: str) -> str:
    """What the table stores of a cookie (and what the login cache is keyed by)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class NewSession:
    cookie: str
    """The clear cookie value, given to the browser once."""
    csrf_token: str
    session_id: int


async def open_session_txn(
    session: AsyncSession, user_id: int, hours: int, *, user_agent: str, remote: str
) -> NewSession:
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    row = LoginSession(
        user_id=user_id,
        token_hash=cookie_digest(cookie),
        csrf_token=csrf,
        expires_at=utcnow() + timedelta(hours=hours),
        user_agent=user_agent[:300],
        remote=remote[:64],
    )
    session.add(row)
    await session.flush()
    return NewSession(cookie, csrf, row.id)


def needs_slide(expires_at: datetime, hours: int) -> bool:
    """Slide the expiry at most every few minutes, so that reading pages rarely writes."""
    return (utcnow() + timedelta(hours=hours) - expires_at) > timedelta(minutes=5)


async def slide_session_txn(session: AsyncSession, session_id: int, hours: int) -> datetime:
    """Move the session's expiry ``hours`` from now; returns the new expiry."""
    expires_at = utcnow() + timedelta(hours=hours)
    await session.execute(
        update(LoginSession).where(LoginSession.id == session_id).values(expires_at=expires_at)
    )
    return expires_at


async def close_session_txn(session: AsyncSession, session_id: int) -> None:
    await session.execute(
        update(LoginSession)
        .where(LoginSession.id == session_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def close_all_sessions_txn(
    session: AsyncSession, user_id: int, *, keep_session_id: int | None = None
) -> int:
    """Log the user out everywhere (but ``keep_session_id``); returns how many were closed."""
    query = update(LoginSession).where(
        LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None)
    )
    if keep_session_id is not None:
        query = query.where(LoginSession.id != keep_session_id)
    result = await session.execute(query.values(revoked_at=utcnow()))
    return int(result.rowcount)  # type: ignore[attr-defined]
