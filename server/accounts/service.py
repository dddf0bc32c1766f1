"""What admins do to agencies and people, each act recorded in the audit log.

The API, the admin pages and the command line all call these, so the rules and the audit
record are the same whichever way an admin works.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.agencies import AgencyRow, create_agency_txn, import_rows_txn
from server.accounts.passwords import hash_password_async
from server.accounts.principal import Principal, Role
from server.accounts.restructure import Restructured, RestructureRow, restructure_txn
from server.accounts.users import (
    check_password,
    create_user_txn,
    get_user_txn,
    roles_of_txn,
    set_roles_txn,
)
from server.audit.log import append_txn
from server.db import Database


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a logged-in person, or ``cli`` / ``system`` with no user id."""

    login: str
    user_id: int | None = None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        return cls(principal.login, principal.user_id)


CLI_ACTOR = Actor("cli")
"""The command line acts as ``cli`` in the audit log (whoever may run it has the server's files)."""


async def add_agency(db: Database, actor: Actor, row: AgencyRow) -> None:
    async def run(session: AsyncSession) -> None:
        await create_agency_txn(session, row)
        await append_txn(
            session,
            "agency.created",
            actor=actor.login,
            actor_user_id=actor.user_id,
            target=row.code,
        )

    await db.write("add_agency", run)


async def import_agencies(
    db: Database, actor: Actor, rows: Sequence[AgencyRow], source: str = ""
) -> tuple[int, int]:
    """All rows or none; returns (created, updated)."""

    async def run(session: AsyncSession) -> tuple[int, int]:
        created, updated = await import_rows_txn(session, rows)
        await append_txn(
            session,
            "agency.imported",
            actor=actor.login,
            actor_user_id=actor.user_id,
            details={"created": created, "updated": updated, "source": source},
        )
        return created, updated

    return await db.write("import_agencies", run)


async def restructure_agencies(
    db: Database, actor: Actor, rows: Sequence[RestructureRow], source: str = ""
) -> Restructured:
    """Apply a restructuring file, all rows or none, and record it in the audit log."""

    async def run(session: AsyncSession) -> Restructured:
        done = await restructure_txn(session, rows)
        await append_txn(
            session,
            "agency.restructured",
            actor=actor.login,
            actor_user_id=actor.user_id,
            details={
                "ended": done.ended,
                "links": done.links,
                "source": source,
                "acts": sorted({r.act for r in rows}),
            },
        )
        return done

    return await db.write("restructure_agencies", run)


async def add_user(
    db: Database,
    actor: Actor,
    *,
    login: str,
    full_name: str,
    agency_code: str,
    roles: frozenset[Role],
    password: str | None,
) -> int:
    """Create a person (``password=None``: an account that only uses API tokens)."""
    hashed = None
    if password is not None:
        check_password(password)
        hashed = await hash_password_async(password)

    async def run(session: AsyncSession) -> int:
        user = await create_user_txn(
            session,
            login=login,
            full_name=full_name,
            agency_code=agency_code,
            roles=roles,
            password_hash=hashed,
        )
        await append_txn(
            session,
            "user.created",
            actor=actor.login,
            actor_user_id=actor.user_id,
            target=user.login,
            details={"agency": agency_code, "roles": sorted(r.value for r in roles)},
        )
        return user.id

    return await db.write("add_user", run)


async def change_roles(db: Database, actor: Actor, login: str, roles: frozenset[Role]) -> int:
    """Replace a person's roles; returns their user id."""

    async def run(session: AsyncSession) -> int:
        user = await get_user_txn(session, login)
        before = await roles_of_txn(session, user.id)
        await set_roles_txn(session, user.id, roles)
        await append_txn(
            session,
            "user.roles_changed",
            actor=actor.login,
            actor_user_id=actor.user_id,
            target=user.login,
            details={
                "before": sorted(r.value for r in before),
                "after": sorted(r.value for r in roles),
            },
        )
        return user.id

    return await db.write("change_roles", run)
