"""Who takes part: invitations, the people who may be invited, and the sittings."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from meetings.sessions import repo
from meetings.sessions.bodies import Invitations, NewSitting
from meetings.sessions.errors import BadInput
from meetings.sessions.service import SessionsService, actor, guard_txn
from server.audit.log import append_txn
from server.auth.principal import Principal


def _logins(inv: Invitations) -> list[str]:
    if inv.logins is not None:
        return list(dict.fromkeys(inv.logins))
    if inv.login is None:
        raise BadInput(
            "Name the person (login) or people (logins) to invite.",
            detail_vi="Chưa chọn người được mời.",
            extra={"field": "login"},
        )
    return [inv.login]


async def invite(svc: SessionsService, p: Principal, session_id: int, inv: Invitations) -> int:
    """Invite (or change the role of) everyone named, all or none; one event."""
    logins = _logins(inv)

    async def run(session: AsyncSession) -> int:
        await guard_txn(session, session_id, p, secretariat=True)
        for login in logins:
            user = await repo.invite_txn(session, session_id, login, inv.role.value)
            await append_txn(
                session,
                "session.invite",
                target=f"session:{session_id}",
                details={"user": user.login, "role": inv.role.value},
                **actor(p),
            )
        return len(logins)

    count = await svc.write("session_invite", run)
    svc.roles.forget(session_id)
    await svc.publish(session_id, "invitations.changed", {})
    return count


async def candidates(
    svc: SessionsService, p: Principal, session_id: int, q: str
) -> list[dict[str, Any]]:
    """People the secretariat may invite (active, not invited yet) matching ``q``."""

    async def run(session: AsyncSession) -> list[dict[str, Any]]:
        await guard_txn(session, session_id, p, secretariat=True)
        return await repo.candidates_txn(session, session_id, q)

    return await svc.read("session_candidates", run)


async def add_sitting(
    svc: SessionsService, p: Principal, session_id: int, new: NewSitting
) -> dict[str, Any]:
    """A sitting (phiên họp) of the session, not started."""

    async def run(session: AsyncSession) -> dict[str, Any]:
        await guard_txn(session, session_id, p, secretariat=True)
        s = await repo.add_sitting_txn(session, session_id, new.title)
        return {"id": s.id, "title": s.title, "started": False}

    data = await svc.write("sitting_add", run)
    await svc.publish(session_id, "sittings.changed", {})
    return data


async def start_sitting(
    svc: SessionsService, p: Principal, session_id: int, sitting_id: int
) -> None:
    """The sitting now held: attendance and votes count for it."""

    async def run(session: AsyncSession) -> dict[str, Any]:
        await guard_txn(session, session_id, p, secretariat=True)
        await repo.start_sitting_txn(session, session_id, sitting_id)
        await append_txn(
            session,
            "sitting.start",
            target=f"session:{session_id}",
            details={"sitting": sitting_id},
            **actor(p),
        )
        return (await repo.quorum_txn(session, session_id, sitting_id)).to_json()

    quorum = await svc.write("sitting_start", run)
    await svc.publish(session_id, "sitting.started", {"sitting": sitting_id, "quorum": quorum})
