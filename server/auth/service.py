"""Logging in and out, with throttling and audit records."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import User
from server.accounts.passwords import verify_password
from server.audit.log import append_txn
from server.auth.sessions import (
    NewSession,
    close_all_sessions_txn,
    close_session_txn,
    open_session_txn,
)
from server.auth.throttle import clear_failures_txn, is_throttled_txn, record_failure_txn
from server.config import AuthConfig
from server.db import Database
from server.errors import TooManyRequests, Unauthorized


class LoginFailed(Unauthorized):
    code = "auth.login_failed"


class LoginThrottled(TooManyRequests):
    code = "auth.throttled"


async def log_in(
    db: Database, cfg: AuthConfig, login: str, password: str, *, remote: str, user_agent: str
) -> tuple[NewSession, int]:
    """Check the password and open a session.  Returns (session, user id).

    Wrong password and unknown login give the same answer, in the same time.
    """
    login = login.strip().lower()[:64]

    async def check(session: AsyncSession) -> tuple[bool, str | None, int | None, bool]:
        throttled = await is_throttled_txn(session, cfg, login, remote)
        user = await session.scalar(select(User).where(User.login == login))
        if user is None:
            return throttled, None, None, False
        return throttled, user.password_hash, user.id, user.is_active

    throttled, stored, user_id, active = await db.read("login_check", check)
    if throttled:

        async def note_throttled(session: AsyncSession) -> None:
            await append_txn(
                session, "auth.login_throttled", actor=login or "anonymous", target=remote
            )

        await db.write("login_throttled", note_throttled)
        raise LoginThrottled(
            f"Too many failed logins; try again in {cfg.throttle_minutes} minutes.",
            detail_vi=f"Đăng nhập sai quá nhiều lần; vui lòng thử lại sau {cfg.throttle_minutes} phút.",
        )
    ok = await verify_password(stored, password) and active and user_id is not None
    if not ok or user_id is None:

        async def note_failure(session: AsyncSession) -> None:
            await record_failure_txn(session, login, remote)
            await append_txn(
                session, "auth.login_failed", actor=login or "anonymous", target=remote
            )

        await db.write("login_failed", note_failure)
        raise LoginFailed("Wrong login or password.", detail_vi="Sai tên đăng nhập hoặc mật khẩu.")
    uid = user_id

    async def open_it(session: AsyncSession) -> NewSession:
        await clear_failures_txn(session, login)
        new = await open_session_txn(
            session, uid, cfg.session_hours, user_agent=user_agent, remote=remote
        )
        await append_txn(session, "auth.login", actor=login, actor_user_id=uid, target=remote)
        return new

    return await db.write("login", open_it), uid


async def log_out(
    db: Database, *, user_id: int, login: str, session_id: int, everywhere: bool
) -> None:
    async def close(session: AsyncSession) -> None:
        if everywhere:
            count = await close_all_sessions_txn(session, user_id)
            await append_txn(
                session,
                "auth.logout_everywhere",
                actor=login,
                actor_user_id=user_id,
                details={"sessions": count},
            )
        else:
            await close_session_txn(session, session_id)
            await append_txn(session, "auth.logout", actor=login, actor_user_id=user_id)

    await db.write("logout", close)
