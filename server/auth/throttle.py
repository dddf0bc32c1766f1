"""Login throttling from the table of failed logins (shared by every process)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import LoginFailure
from server.config import AuthConfig
from server.db.base import utcnow

# One address may fail this many times more than one account before it is stopped (an office's
# whole staff often shares one public address behind a NAT).
ADDRESS_FACTOR = 4


async def is_throttled_txn(session: AsyncSession, cfg: AuthConfig, login: str, remote: str) -> bool:
    since = utcnow() - timedelta(minutes=cfg.throttle_minutes)
    by_login = await session.scalar(
        select(func.count()).where(LoginFailure.login == login, LoginFailure.at > since)
    )
    if (by_login or 0) >= cfg.max_failed_logins:
        return True
    by_remote = await session.scalar(
        select(func.count()).where(LoginFailure.remote == remote, LoginFailure.at > since)
    )
    return (by_remote or 0) >= cfg.max_failed_logins * ADDRESS_FACTOR


async def record_failure_txn(session: AsyncSession, login: str, remote: str) -> None:
    session.add(LoginFailure(login=login[:64], remote=remote[:64]))
    # Keep the table small: failures older than a day are of no use for throttling.
    await session.execute(
        delete(LoginFailure).where(LoginFailure.at < utcnow() - timedelta(days=1))
    )


async def clear_failures_txn(session: AsyncSession, login: str) -> None:
    await session.execute(delete(LoginFailure).where(LoginFailure.login == login))
