"""Accounts a province can run: one's own password, an administrator's reset, disabling.

Each act ends the sessions it must in the same transaction as the change, and is audited:

- changing one's own password (current password required) ends every *other* session of the
  person and the API tokens those sessions minted; the session that changed it stays;
- an administrator's reset sets a new password the person must replace at their next login,
  and ends all their sessions and session-minted tokens;
- disabling ends every session and revokes every API token (machine tokens included), so that
  re-enabling revives nothing; a disabled account cannot log in.

The callers drop the person's open realtime sockets (``hub.drop_user``) with the returned id; the
person's cached logins (``cache.py``) are dropped here, after the commit, in every process.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.errors import CannotDisableSelf, WrongPassword
from server.accounts.models import User
from server.accounts.passwords import hash_password_async, verify_password
from server.accounts.service import Actor
from server.accounts.tokens import revoke_all_tokens_txn, revoke_session_minted_txn
from server.accounts.users import check_password, get_user_txn
from server.audit.log import append_txn
from server.auth.cache import forget_user
from server.auth.sessions import close_all_sessions_txn
from server.auth.throttle import count_attempt_txn, forget_key_txn
from server.config import AuthConfig
from server.db import Database
from server.errors import TooManyRequests


class PasswordChecksThrottled(TooManyRequests):
    code = "auth.throttled"


@dataclass(frozen=True, slots=True)
class Ended:
    """Whose sessions ended and how many sessions and tokens."""

    user_id: int
    sessions: int
    tokens: int


async def change_own_password(
    db: Database,
    cfg: AuthConfig,
    *,
    user_id: int,
    current: str,
    new: str,
    keep_session_id: int | None,
) -> Ended:
    """Replace one's own password after checking the current one (403 when wrong).

    The check is counted before it runs, like a login (``pwd:<user id>``, the login limit per
    window): someone holding a stolen session cannot guess the current password here faster
    than at the login form (429 past the limit, even with the right password)."""
    check_password(new)
    key = f"pwd:{user_id}"

    async def stored(session: AsyncSession) -> tuple[str | None, bool]:
        throttled = await count_attempt_txn(session, cfg, key)
        user = await session.get(User, user_id)
        return (user.password_hash if user is not None else None), throttled

    password_hash, throttled = await db.write("password_of", stored)
    if throttled:
        raise PasswordChecksThrottled(
            "Too many attempts at the current password; try again later.",
            detail_vi="Nhập sai mật khẩu hiện tại quá nhiều lần; vui lòng thử lại sau.",
        )
    if not await verify_password(password_hash, current):
        raise WrongPassword(
            "The current password is wrong.", detail_vi="Mật khẩu hiện tại không đúng."
        )
    hashed = await hash_password_async(new)

    async def run(session: AsyncSession) -> Ended:
        user = await session.get(User, user_id)
        assert user is not None
        user.password_hash = hashed
        user.must_change_password = False
        await forget_key_txn(session, key)
        count = await close_all_sessions_txn(session, user_id, keep_session_id=keep_session_id)
        tokens = await revoke_session_minted_txn(session, user_id, keep_session_id=keep_session_id)
        await append_txn(
            session,
            "user.password_changed",
            actor=user.login,
            actor_user_id=user_id,
            target=user.login,
            details={"sessions": count, "tokens": tokens},
        )
        return Ended(user_id, count, tokens)

    ended = await db.write("change_password", run)
    await forget_user(user_id)
    return ended


async def reset_password(db: Database, actor: Actor, login: str, password: str) -> Ended:
    """An administrator sets a password the person must change at their next login."""
    check_password(password)
    hashed = await hash_password_async(password)

    async def run(session: AsyncSession) -> Ended:
        user = await get_user_txn(session, login)
        user.password_hash = hashed
        user.must_change_password = True
        count = await close_all_sessions_txn(session, user.id)
        tokens = await revoke_session_minted_txn(session, user.id)
        await append_txn(
            session,
            "user.password_reset",
            actor=actor.login,
            actor_user_id=actor.user_id,
            target=user.login,
            details={"sessions": count, "tokens": tokens},
        )
        return Ended(user.id, count, tokens)

    ended = await db.write("reset_password", run)
    await forget_user(ended.user_id)
    return ended


async def set_active(db: Database, actor: Actor, login: str, active: bool) -> Ended:
    """Disable (ending every session and token at once) or re-enable an account."""

    async def run(session: AsyncSession) -> Ended:
        user = await get_user_txn(session, login)
        if not active and user.id == actor.user_id:
            raise CannotDisableSelf(
                "You cannot disable your own account.",
                detail_vi="Không thể tự vô hiệu hoá tài khoản của chính mình.",
            )
        user.is_active = active
        count = tokens = 0
        if not active:
            count = await close_all_sessions_txn(session, user.id)
            tokens = await revoke_all_tokens_txn(session, user.id)
        await append_txn(
            session,
            "user.enabled" if active else "user.disabled",
            actor=actor.login,
            actor_user_id=actor.user_id,
            target=user.login,
            details={"sessions": count, "tokens": tokens},
        )
        return Ended(user.id, count, tokens)

    ended = await db.write("set_active", run)
    await forget_user(ended.user_id)
    return ended
