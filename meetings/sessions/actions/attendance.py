"""Attendance (điểm danh) at the sitting being held, and with it the quorum."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from meetings.sessions import repo
from meetings.sessions.bodies import Mark
from meetings.sessions.errors import BadInput, SessionNotFound, VoteRefused
from meetings.sessions.rules import Presence
from meetings.sessions.service import SessionsService, actor, guard_txn
from server.audit.log import append_txn
from server.auth.principal import Principal


async def check_in(
    svc: SessionsService, p: Principal, session_id: int, mark: Mark
) -> dict[str, Any]:
    """Mark attendance at the current sitting: one's own, or anyone's by the secretariat."""
    if mark.status is Presence.ABSENT and not mark.reason.strip():
        raise BadInput(
            "An absence needs a reason.",
            detail_vi="Vắng mặt cần ghi rõ lý do.",
            extra={"field": "reason"},
        )

    async def run(session: AsyncSession) -> dict[str, Any]:
        cs, role = await guard_txn(session, session_id, p, secretariat=mark.login is not None)
        if cs.current_sitting_id is None:
            raise VoteRefused(
                "No sitting is being held.",
                detail_vi="Chưa bắt đầu phiên họp.",
                code="sessions.no_sitting",
            )
        user_id = await _whom(session, session_id, p, role, mark.login)
        await repo.set_attendance_txn(
            session, session_id, cs.current_sitting_id, user_id, mark.status.value, mark.reason
        )
        await append_txn(
            session,
            "attendance.set",
            target=f"session:{session_id}",
            details={"user_id": user_id, "status": mark.status.value, "reason": mark.reason},
            **actor(p),
        )
        quorum = await repo.quorum_txn(session, session_id, cs.current_sitting_id)
        return {"user_id": user_id, "status": mark.status.value, "quorum": quorum.to_json()}

    data = await svc.write("attendance_set", run)
    await svc.publish(session_id, "attendance.changed", data)
    return data


async def _whom(
    session: AsyncSession, session_id: int, p: Principal, role: str, login: str | None
) -> int:
    """Whose attendance is marked: the named invited person, or the caller (not secretariat)."""
    if login is not None:
        user = await repo.user_by_login_txn(session, login)
        if user is None or await repo.role_of_txn(session, session_id, user.id) is None:
            raise SessionNotFound("invited person")
        return user.id
    if role not in ("chair", "member", "guest"):
        raise BadInput("The secretariat does not check in.", detail_vi="Thư ký không điểm danh.")
    return p.user_id
