"""Officials: creating them, their roles, and looking them up as a Principal."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.agencies import get_agency_txn
from server.accounts.errors import BadRole, DuplicateUser, UnknownUser
from server.accounts.models import Agency, User, UserRole
from server.accounts.passwords import MIN_LENGTH
from server.auth.principal import Principal, Role
from server.errors import ValidationFailed

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


async def principal_txn(
    session: AsyncSession,
    user_id: int,
    via: Literal["session", "token"],
    session_id: int | None = None,
) -> Principal | None:
    """The Principal of an active user, or None when the user is gone or disabled."""
    row = (
        await session.execute(
            select(User, Agency.code, Agency.name)
            .join(Agency, Agency.id == User.agency_id)
            .where(User.id == user_id)
        )
    ).first()
    if row is None or not row[0].is_active:
        return None
    user, code, agency_name = row
    return Principal(
        user_id=user.id,
        login=user.login,
        full_name=user.full_name,
        agency_id=user.agency_id,
        agency_code=code,
        roles=await roles_of_txn(session, user.id),
        via=via,
        session_id=session_id,
        agency_name=agency_name,
    )


async def list_users_txn(session: AsyncSession, agency_code: str | None = None) -> list[UserView]:
    query = (
        select(User, Agency)
        .join(Agency, Agency.id == User.agency_id)
        .order_by(Agency.code, User.login)
    )
    if agency_code:
        query = query.where(Agency.code == agency_code)
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
        )
        for u, a in rows
    ]
