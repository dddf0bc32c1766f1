"""Login throttling that counts an attempt *before* checking its password, shared by every process.

The old scheme read the failure count, checked the password, then wrote the failure: 40 parallel
wrong passwords all read "0 failures" and were all evaluated, and 5 failures by anyone locked the
account for everyone, its owner included — a way to keep a chair out before a vote.

Now each attempt first raises up to three fixed-window counters (table ``login_throttle``), in
this order, in one write transaction, and stops at the first one over its limit:

1. ``src:<login>|<source>`` — this account from one source; limit ``auth.max_failed_logins``.
   The source is the browser's known device (``dev:<id>``) when it presents an ``lt_device``
   cookie this account received on an earlier successful login (:mod:`server.auth.devices`),
   otherwise the client address (``ip:<address>``, believed through trusted proxies only).
2. ``acct:<login>`` — this account from every stranger (no device cookie of this account);
   limit × :data:`ACCOUNT_FACTOR`, so rotating addresses does not buy unlimited guesses.
3. ``ip:<address>`` — one address across accounts (password spraying); limit ×
   :data:`ADDRESS_FACTOR` (a whole office often shares one public address).

A known device raises only its own key 1: a stranger who exhausts 2 or 3 locks out strangers,
not the owner at their usual tablet.

Each counter is raised by one upsert, ``INSERT … ON CONFLICT (key) DO UPDATE SET count = count
+ 1 … RETURNING count``.  On PostgreSQL the conflicting row is locked until commit, so parallel
attempts queue and each sees its predecessor's count; on SQLite write transactions are already
serialised (``BEGIN IMMEDIATE``).  Keys are always taken in the order 1, 2, 3, so two attempts
never wait on each other crosswise.  An attempt refused at key 1 does not touch 2 and 3, so a
stranger hammering from one place does not use up the account's allowance for other places.

After the check, a failure keeps its reservation (it is a failure); a success gives its
reservations on 2 and 3 back (100 people behind one NAT logging in at 8:00 are not failures) and
clears key 1.  A window lasts ``auth.throttle_minutes`` from its first attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, literal, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import LoginThrottle
from server.config import AuthConfig
from server.db.base import UtcDateTime, utcnow

ADDRESS_FACTOR = 4
"""One address may fail this many times more than one account from one place."""
ACCOUNT_FACTOR = 4
"""One account may fail this many times more from all strangers together than from one place."""


@dataclass(frozen=True, slots=True)
class Reservation:
    """What an attempt raised: ``raised`` keys in order, ``throttled`` when one was over."""

    raised: tuple[str, ...]
    throttled: bool


def throttle_keys(
    cfg: AuthConfig, login: str, remote: str, device_id: int | None
) -> list[tuple[str, int]]:
    """The (key, limit) pairs an attempt must pass, in locking order (see the module doc)."""
    n = cfg.max_failed_logins
    if device_id is not None:
        return [(f"src:{login}|dev:{device_id}", n)]
    return [
        (f"src:{login}|ip:{remote}", n),
        (f"acct:{login}", n * ACCOUNT_FACTOR),
        (f"ip:{remote}", n * ADDRESS_FACTOR),
    ]


async def _raise_txn(session: AsyncSession, key: str, now: datetime, since: datetime) -> int:
    """Add one to ``key``'s counter (a fresh window when the old one has passed); its new value."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    expired = LoginThrottle.window_start <= literal(since, UtcDateTime())
    stmt = (
        insert(LoginThrottle)
        .values(key=key, window_start=now, count=1)
        .on_conflict_do_update(
            index_elements=[LoginThrottle.key],
            set_={
                "count": case((expired, 1), else_=LoginThrottle.count + 1),
                "window_start": case(
                    (expired, literal(now, UtcDateTime())), else_=LoginThrottle.window_start
                ),
            },
        )
        .returning(LoginThrottle.count)
    )
    return int((await session.execute(stmt)).scalar_one())


async def reserve_attempt_txn(
    session: AsyncSession, cfg: AuthConfig, login: str, remote: str, device_id: int | None
) -> Reservation:
    """Count this attempt on its keys before the password is checked; stop at the first key
    over its limit.  Must run in a write transaction (the row locks are what make it atomic)."""
    now = utcnow()
    since = now - timedelta(minutes=cfg.throttle_minutes)
    raised: list[str] = []
    for key, limit in throttle_keys(cfg, login[:64], remote[:64], device_id):
        raised.append(key)
        if await _raise_txn(session, key, now, since) > limit:
            return Reservation(tuple(raised), throttled=True)
    return Reservation(tuple(raised), throttled=False)


async def count_attempt_txn(session: AsyncSession, cfg: AuthConfig, key: str) -> bool:
    """Count one attempt on ``key`` before it is checked (the same atomic counter as logins);
    True when the attempt is over ``cfg.max_failed_logins`` in the window and must be refused.
    Used where a password is checked outside the login form (changing one's own password)."""
    now = utcnow()
    since = now - timedelta(minutes=cfg.throttle_minutes)
    return await _raise_txn(session, key[:128], now, since) > cfg.max_failed_logins


async def forget_key_txn(session: AsyncSession, key: str) -> None:
    """A successful check: its counter starts again."""
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key == key[:128]))


async def release_after_success_txn(session: AsyncSession, reservation: Reservation) -> None:
    """A successful login: clear its own source key, give back its place on the shared ones."""
    first, *shared = reservation.raised
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key == first))
    if shared:
        await session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key.in_(shared), LoginThrottle.count > 0)
            .values(count=LoginThrottle.count - 1)
        )


async def forget_old_windows_txn(session: AsyncSession) -> None:
    """Keep the table small: counters idle for a day are of no use any more."""
    await session.execute(
        delete(LoginThrottle).where(LoginThrottle.window_start < utcnow() - timedelta(days=1))
    )
