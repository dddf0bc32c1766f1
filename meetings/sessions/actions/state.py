"""The live state of a session: everything a tablet or the wall draws, in one read."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from meetings.sessions import polls, repo, speakers_repo
from meetings.sessions.models import CouncilSession
from meetings.sessions.service import SessionsService, guard_txn, is_desk, session_json
from server.auth.principal import Principal


async def session_state(svc: SessionsService, p: Principal, session_id: int) -> dict[str, Any]:
    """Everything a tablet or the wall needs to draw the session now (counts for the desk)."""

    async def run(session: AsyncSession) -> dict[str, Any]:
        cs, role = await guard_txn(session, session_id, p)
        desk = is_desk(role)
        sitting = cs.current_sitting_id
        attendance = await repo.attendance_txn(session, sitting) if sitting is not None else {}
        all_polls = await polls.polls_txn(session, session_id)
        me = {
            "user_id": p.user_id,
            "role": role,
            "attendance": attendance.get(p.user_id),
            "voted": await polls.voted_txn(session, all_polls, p.user_id),
        }
        return {
            "session": session_json(cs, role),
            "me": me,
            "sittings": [
                {"id": s.id, "title": s.title, "started": s.starts_at is not None}
                for s in await repo.sittings_txn(session, session_id)
            ],
            "agenda": await repo.agenda_txn(session, session_id),
            "current_item_id": cs.current_item_id,
            "minutes": _minutes(cs),
            "conclusions": cs.conclusions if desk else None,
            "quorum": (await repo.quorum_txn(session, session_id, sitting)).to_json(),
            "invitations": await repo.invitations_txn(session, session_id),
            "attendance": {str(k): v for k, v in attendance.items()} if desk else {},
            "queue": (
                await speakers_repo.queue_txn(session, cs.current_item_id)
                if cs.current_item_id is not None
                else []
            ),
            "speaker": await speakers_repo.current_speaker_txn(session, session_id),
            "polls": [polls.poll_json(x, with_counts=desk) for x in all_polls],
        }

    return await svc.read("session_state", run)


def _minutes(cs: CouncilSession) -> dict[str, Any] | None:
    if cs.minutes_sha256 and cs.minutes_at:
        return {"signer": cs.minutes_signer, "at": cs.minutes_at.isoformat()}
    return None
