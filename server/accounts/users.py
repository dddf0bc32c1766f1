"""Officials: creating them, their roles, and looking them up as a Principal."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Row, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.agencies import get_agency_txn
from server.accounts.errors import BadRole, DuplicateUser, UnknownUser
from server.accounts.models import Agency, ApiToken, LoginSession, User, UserRole
from server.accounts.passwords import MIN_LENGTH
from server.accounts.principal import Principal, Role
from server.accounts.tokens import PREFIX as TOKEN_PREFIX
from server.accounts.tokens import digest as token_digest
from server.db.base import utcnow
from server.errors import ValidationFailed
from server.search import fold, like_folded

LOGIN_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")


def parse_roles(names: Iterable[str]) -> frozenset[Role]:
    roles = set()
    for name in names:
        name = name.strip()
        if not name:
            continue
        try:
            roles.add(Role(name))
        except ValueError:
            valid = ", ".join(r.value for r in Role)
            raise BadRole(
                f"Unknown role {name!r}; roles are {valid}.",
                detail_vi=f"Vai trò {name!r} không tồn tại; các vai trò: {valid}.",
                extra={"field": "roles"},
            ) from None
    return frozenset(roles)


def check_login(login: str) -> str:
    login = login.strip().lower()
    if not LOGIN_RE.match(login):
        raise ValidationFailed(
            "A login is 2–63 characters: lowercase letters, digits, dot, dash, underscore.",
            detail_vi="Tên đăng nhập gồm 2–63 ký tự: chữ thường không dấu, số, dấu chấm, gạch.",
            extra={"field": "login"},
        )
    return login


def check_password(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(
            f"A password has at least {MIN_LENGTH} characters.",
            detail_vi=f"Mật khẩu phải có ít nhất {MIN_LENGTH} ký tự.",
            extra={"field": "password"},
        )


@dataclass(frozen=True, slots=True)
class UserView:
    """A person as shown on pages and the API (never the hash)."""

    id: int
    login: str
    full_name: str
    agency_code: str
    agency_name: str
    roles: tuple[str, ...]
    is_active: bool
    must_change_password: bool = False


async def create_user_txn(
    session: AsyncSession,
    *,
    login: str,
    full_name: str,
    agency_code: str,
    roles: frozenset[Role],
    password_hash: str | None,
) -> User:
    login = check_login(login)
    agency = await get_agency_txn(session, agency_code)
    if await session.scalar(select(User.id).where(User.login == login)) is not None:
        raise DuplicateUser(
            f"Login {login} is taken.",
            detail_vi=f"Tên đăng nhập {login} đã có người dùng.",
            extra={"field": "login"},
        )
    user = User(
        login=login,
        full_name=full_name.strip() or login,
        agency_id=agency.id,
        password_hash=password_hash,
    )
    session.add(user)
    await session.flush()
    session.add_all(UserRole(user_id=user.id, role=r.value) for r in sorted(roles))
    await session.flush()
    return user


async def get_user_txn(session: AsyncSession, login: str) -> User:
    user = await session.scalar(select(User).where(User.login == login.strip().lower()))
    if user is None:
        raise UnknownUser(f"No user {login}.", detail_vi=f"Không có người dùng {login}.")
    return user


async def roles_of_txn(session: AsyncSession, user_id: int) -> frozenset[Role]:
    rows = await session.scalars(select(UserRole.role).where(UserRole.user_id == user_id))
    return frozenset(Role(r) for r in rows if r in Role._value2member_map_)


async def set_roles_txn(session: AsyncSession, user_id: int, roles: frozenset[Role]) -> None:
    await session.execute(delete(UserRole).where(UserRole.user_id == user_id))
    session.add_all(UserRole(user_id=user_id, role=r.value) for r in sorted(roles))
    await session.flush()


def _principal_columns() -> tuple[Any, ...]:
    return (
        User.id,
        User.login,
        User.full_name,
        User.agency_id,
        User.is_active,
        User.must_change_password,
        Agency.code,
        Agency.name,
        UserRole.role,
    )


def _principal_of(
    rows: Sequence[Row[Any]],
    via: Literal["session", "token"],
    session_id: int | None,
    offset: int = 0,
    origin_session_id: int | None = None,
) -> Principal | None:
    """The Principal from the rows of a user joined to its agency and (outer) to its roles, one
    row per role; the user's columns start at ``offset``."""
    if not rows:
        return None
    first = rows[0]
    user_id, login, full_name, agency_id, is_active, must_change, code, agency_name = first[
        offset : offset + 8
    ]
    if not is_active:
        return None
    roles = frozenset(Role(r[offset + 8]) for r in rows if r[offset + 8] in Role._value2member_map_)
    return Principal(
        user_id=user_id,
        login=login,
        full_name=full_name,
        agency_id=agency_id,
        agency_code=code,
        roles=roles,
        via=via,
        session_id=session_id,
        agency_name=agency_name,
        origin_session_id=session_id if via == "session" else origin_session_id,
        must_change_password=bool(must_change),
    )


@dataclass(frozen=True, slots=True)
class SessionUse:
    """The login session a cookie presented, as the middleware needs it."""

    session_id: int
    csrf_token: str
    expires_at: datetime


async def session_principal_txn(
    session: AsyncSession, token_hash: str
) -> tuple[SessionUse, Principal] | None:
    """The live login session whose cookie hashes to ``token_hash`` and the Principal of its
    active user, in one statement (the session joined to its user, agency and roles; it was two,
    and a hall's reconnect storm is a thousand of them); None when the session is unknown,
    expired or revoked, or its user is gone or disabled."""
    rows = (
        await session.execute(
            select(
                LoginSession.id,
                LoginSession.revoked_at,
                LoginSession.expires_at,
                LoginSession.csrf_token,
                *_principal_columns(),
            )
            .join(User, User.id == LoginSession.user_id)
            .join(Agency, Agency.id == User.agency_id)
            .outerjoin(UserRole, UserRole.user_id == User.id)
            .where(LoginSession.token_hash == token_hash)
        )
    ).all()
    if not rows:
        return None
    session_id, revoked_at, expires_at, csrf = rows[0][:4]
    if revoked_at is not None or expires_at <= utcnow():
        return None
    principal = _principal_of(rows, "session", session_id, offset=4)
    if principal is None:
        return None
    return SessionUse(session_id, csrf, expires_at), principal


@dataclass(frozen=True, slots=True)
class TokenUse:
    """The API token a request presented: its row id and when it was last marked used."""

    token_id: int
    last_used_at: datetime | None


async def token_principal_txn(
    session: AsyncSession, value: str
) -> tuple[TokenUse, Principal] | None:
    """The live token for ``value`` and the Principal of its active user, in one statement (the
    token joined to its user, agency and roles); None when the token is unknown, expired or
    revoked, or its user is gone or disabled."""
    if not value.startswith(TOKEN_PREFIX):
        return None
    rows = (
        await session.execute(
            select(
                ApiToken.id,
                ApiToken.revoked_at,
                ApiToken.expires_at,
                ApiToken.last_used_at,
                ApiToken.session_id,
                *_principal_columns(),
            )
            .join(User, User.id == ApiToken.user_id)
            .join(Agency, Agency.id == User.agency_id)
            .outerjoin(UserRole, UserRole.user_id == User.id)
            .where(ApiToken.token_hash == token_digest(value))
        )
    ).all()
    if not rows:
        return None
    token_id, revoked_at, expires_at, last_used_at, minted_by = rows[0][:5]
    if revoked_at is not None or (expires_at is not None and expires_at <= utcnow()):
        return None
    principal = _principal_of(rows, "token", None, offset=5, origin_session_id=minted_by)
    if principal is None:
        return None
    return TokenUse(token_id, last_used_at), principal


async def list_users_txn(
    session: AsyncSession, agency_code: str | None = None, q: str = ""
) -> list[UserView]:
    """People (of one agency when ``agency_code``), those whose login, name or agency's name
    contains ``q`` by the search fold of :mod:`server.search` when ``q`` is given."""
    query = (
        select(User, Agency)
        .join(Agency, Agency.id == User.agency_id)
        .order_by(Agency.code, User.login)
    )
    if agency_code:
        query = query.where(Agency.code == agency_code)
    if fold(q):
        query = query.where(like_folded(User.search_folded, q) | like_folded(Agency.name_folded, q))
    rows = (await session.execute(query)).all()
    role_rows = (await session.execute(select(UserRole.user_id, UserRole.role))).all()
    roles: dict[int, list[str]] = {}
    for uid, role in role_rows:
        roles.setdefault(uid, []).append(role)
    return [
        UserView(
            u.id,
            u.login,
            u.full_name,
            a.code,
            a.name,
            tuple(sorted(roles.get(u.id, []))),
            u.is_active,
            u.must_change_password,
        )
        for u, a in rows
    ]
