"""Logging in and out, with throttling and audit records.

"Log out everywhere" closes every login session of the person and revokes every API token that
one of their sessions minted (directly or through a token it minted): a thief who minted a token
from a stolen session loses it with the session.  Tokens made by an administrator or the CLI
for a machine account have no session and stay alive.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import User
from server.accounts.passwords import verify_password
from server.accounts.tokens import revoke_session_minted_txn
from server.audit.log import append_txn
from server.auth.cache import forget_user
from server.auth.devices import known_device_txn, remember_device_txn
from server.auth.sessions import (
    NewSession,
    close_all_sessions_txn,
    close_session_txn,
    open_session_txn,
)
from server.auth.throttle import (
    Reservation,
    forget_old_windows_txn,
    release_after_success_txn,
    reserve_attempt_txn,
)
from server.config import AuthConfig
from server.db import Database
from server.errors import Forbidden, TooManyRequests, Unauthorized


class LoginFailed(Unauthorized):
    code = "auth.login_failed"


class LoginThrottled(TooManyRequests):
    code = "auth.throttled"


class AccountDisabled(Forbidden):
    """The password was right but an administrator disabled the account.  Said only after the
    password check, so it tells nothing to someone guessing."""

    code = "auth.account_disabled"


@dataclass(frozen=True, slots=True)
class LoggedIn:
    """A successful login."""

    session: NewSession
    user_id: int
    device_cookie: str | None
    """A new ``lt_device`` cookie to give the browser, or None when the one it sent is valid."""


@dataclass(frozen=True, slots=True)
class _Attempt:
    reservation: Reservation
    password_hash: str | None
    user_id: int | None
    active: bool
    device_id: int | None


async def _reserve(
    db: Database, cfg: AuthConfig, login: str, remote: str, device: str | None
) -> _Attempt:
    """Count the attempt (atomically, before any password is looked at) and load the account."""

    async def run(session: AsyncSession) -> _Attempt:
        user = await session.scalar(select(User).where(User.login == login))
        device_id = await known_device_txn(session, device, user.id) if user else None
        reservation = await reserve_attempt_txn(session, cfg, login, remote, device_id)
        if reservation.throttled:
            await append_txn(
                session, "auth.login_throttled", actor=login or "anonymous", target=remote
            )
        if user is None:
            return _Attempt(reservation, None, None, False, None)
        return _Attempt(reservation, user.password_hash, user.id, user.is_active, device_id)

    return await db.write("login_reserve", run)


async def _note_failure(db: Database, login: str, remote: str, disabled: bool) -> None:
    async def note(session: AsyncSession) -> None:
        await forget_old_windows_txn(session)
        action = "auth.login_disabled" if disabled else "auth.login_failed"
        await append_txn(session, action, actor=login or "anonymous", target=remote)

    await db.write("login_failed", note)


async def log_in(
    db: Database,
    cfg: AuthConfig,
    login: str,
    password: str,
    *,
    remote: str,
    user_agent: str,
    device: str | None = None,
) -> LoggedIn:
    """Check the password and open a session.

    Wrong password and unknown login give the same answer, in the same time.  ``device`` is the
    browser's ``lt_device`` cookie: throttling treats a known device of the account apart from
    strangers (the scheme is in :mod:`server.auth.throttle`).
    """
    login = login.strip().lower()[:64]
    attempt = await _reserve(db, cfg, login, remote, device)
    if attempt.reservation.throttled:
        raise LoginThrottled(
            f"Too many failed logins; try again in {cfg.throttle_minutes} minutes.",
            detail_vi=f"Đăng nhập sai quá nhiều lần; vui lòng thử lại sau {cfg.throttle_minutes} phút.",
        )
    right = await verify_password(attempt.password_hash, password)
    uid = attempt.user_id
    if not right or not attempt.active or uid is None:
        disabled = right and uid is not None
        await _note_failure(db, login, remote, disabled)
        if disabled:
            raise AccountDisabled(
                "This account is disabled; ask an administrator.",
                detail_vi="Tài khoản này đã bị vô hiệu hoá. Vui lòng liên hệ quản trị viên.",
            )
        raise LoginFailed("Wrong login or password.", detail_vi="Sai tên đăng nhập hoặc mật khẩu.")

    async def open_it(session: AsyncSession) -> LoggedIn:
        await release_after_success_txn(session, attempt.reservation)
        cookie = await remember_device_txn(session, uid, attempt.device_id)
        new = await open_session_txn(
            session, uid, cfg.session_hours, user_agent=user_agent, remote=remote
        )
        await append_txn(session, "auth.login", actor=login, actor_user_id=uid, target=remote)
        return LoggedIn(new, uid, cookie)

    return await db.write("login", open_it)


async def log_out(
    db: Database, *, user_id: int, login: str, session_id: int, everywhere: bool
) -> None:
    async def close(session: AsyncSession) -> None:
        if everywhere:
            count = await close_all_sessions_txn(session, user_id)
            tokens = await revoke_session_minted_txn(session, user_id)
            await append_txn(
                session,
                "auth.logout_everywhere",
                actor=login,
                actor_user_id=user_id,
                details={"sessions": count, "tokens": tokens},
            )
        else:
            await close_session_txn(session, session_id)
            await append_txn(session, "auth.logout", actor=login, actor_user_id=user_id)

    await db.write("logout", close)
    await forget_user(user_id)  # after the commit: no cached login outlives it, here or elsewhere
