"""Known devices: a long-lived cookie set on a successful login, so that login throttling can
tell the owner at their usual tablet from a stranger guessing elsewhere (:mod:`server.auth.throttle`).

The cookie holds 32 random bytes; the table only their SHA-256, bound to one account.  It proves
only "this browser once logged in as this person": it opens no session and skips no password.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import KnownDevice
from server.db.base import utcnow

COOKIE = "lt_device"
MAX_AGE_DAYS = 400
"""Browsers cap cookie lifetimes at 400 days."""


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


async def known_device_txn(session: AsyncSession, cookie: str | None, user_id: int) -> int | None:
    """The device id when ``cookie`` is one ``user_id`` received on a successful login."""
    if not cookie or len(cookie) > 100:
        return None
    row = await session.scalar(
        select(KnownDevice.id).where(
            KnownDevice.token_hash == _digest(cookie), KnownDevice.user_id == user_id
        )
    )
    return int(row) if row is not None else None


async def remember_device_txn(
    session: AsyncSession, user_id: int, device_id: int | None
) -> str | None:
    """After a successful login: touch the known device, or register a new one and return the
    cookie value to set (None when the browser already holds a valid one)."""
    if device_id is not None:
        await session.execute(
            update(KnownDevice).where(KnownDevice.id == device_id).values(last_login_at=utcnow())
        )
        return None
    await session.execute(
        delete(KnownDevice).where(
            KnownDevice.user_id == user_id,
            KnownDevice.last_login_at < utcnow() - timedelta(days=MAX_AGE_DAYS),
        )
    )
    value = secrets.token_urlsafe(32)
    session.add(KnownDevice(user_id=user_id, token_hash=_digest(value)))
    await session.flush()
    return value
