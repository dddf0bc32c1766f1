"""Creating, copying, listing and opening or closing sessions."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from meetings.sessions import repo
from meetings.sessions.bodies import NewSession, StatusChange
from meetings.sessions.errors import NotSecretariat
from meetings.sessions.service import SessionsService, actor, guard_txn, session_json
from server.audit.log import append_txn
from server.auth.principal import Principal, Role


async def create_session(svc: SessionsService, p: Principal, new: NewSession) -> dict[str, Any]:
    """A draft session (its creator runs it), or a copy of ``new.from_session``."""
    if new.from_session is not None:
        return await clone_session(svc, p, new.from_session, new.title)
    if not p.has(Role.SECRETARIAT):
        raise NotSecretariat()

    async def run(session: AsyncSession) -> dict[str, Any]:
        cs = await repo.create_session_txn(
            session, title=new.title, place=new.place, starts_on=new.starts_on, created_by=p.user_id
        )
        await append_txn(session, "session.create", target=f"session:{cs.id}", **actor(p))
        return session_json(cs, "secretariat")

    created = await svc.write("session_create", run)
    svc.roles.forget(created["id"])
    return created


async def clone_session(
    svc: SessionsService, p: Principal, session_id: int, title: str
) -> dict[str, Any]:
    """A new draft session with the agenda and invitations of ``session_id`` (a template)."""

    async def run(session: AsyncSession) -> dict[str, Any]:
        src, _role = await guard_txn(session, session_id, p, secretariat=True)
        cs = await repo.create_session_txn(
            session, title=title, place=src.place, starts_on=None, created_by=p.user_id
        )
        await repo.copy_session_txn(session, session_id, cs.id, skip_user=p.user_id)
        await append_txn(
            session,
            "session.clone",
            target=f"session:{cs.id}",
            details={"from": session_id},
            **actor(p),
        )
        return session_json(cs, "secretariat")

    created = await svc.write("session_clone", run)
    svc.roles.forget(created["id"])
    return created


async def list_sessions(svc: SessionsService, p: Principal) -> list[dict[str, Any]]:
    """The sessions ``p`` is invited to, newest first, with the role."""

    async def run(session: AsyncSession) -> list[dict[str, Any]]:
        return [
            session_json(cs, role) for cs, role in await repo.sessions_of_txn(session, p.user_id)
        ]

    return await svc.read("session_list", run)


async def set_status(
    svc: SessionsService, p: Principal, session_id: int, change: StatusChange
) -> None:
    """Open or close the session (secretariat)."""

    async def run(session: AsyncSession) -> None:
        await guard_txn(session, session_id, p, secretariat=True)
        await repo.set_status_txn(session, session_id, change.status)
        await append_txn(
            session,
            "session.status",
            target=f"session:{session_id}",
            details={"status": change.status},
            **actor(p),
        )

    await svc.write("session_status", run)
    await svc.publish(session_id, "session.status", {"status": change.status})
