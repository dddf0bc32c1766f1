"""SQL for sessions, sittings, agenda, invitations, attendance and speakers (``*_txn``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from meetings.sessions.errors import BadInput, SessionNotFound, StateConflict
from meetings.sessions.models import (
    AgendaItem,
    Attendance,
    CouncilSession,
    Invitation,
    Sitting,
    Speaker,
)
from meetings.sessions.rules import VOTING_ROLES, Quorum
from server.accounts.models import Agency, User
from server.db.base import utcnow

# -- sessions ------------------------------------------------------------------------------------


async def create_session_txn(
    session: AsyncSession, *, title: str, place: str, starts_on: date | None, created_by: int
) -> CouncilSession:
    """A draft session; its creator is invited as secretariat."""
    row = CouncilSession(title=title, place=place, starts_on=starts_on, created_by=created_by)
    session.add(row)
    await session.flush()
    session.add(Invitation(session_id=row.id, user_id=created_by, role="secretariat"))
    await session.flush()
    return row


async def get_session_txn(session: AsyncSession, session_id: int) -> CouncilSession:
    row = await session.get(CouncilSession, session_id)
    if row is None:
        raise SessionNotFound()
    return row


async def lock_session_txn(session: AsyncSession, session_id: int) -> CouncilSession:
    """The session row, locked for update on PostgreSQL (SQLite's write lock covers it)."""
    row = (
        await session.scalars(
            select(CouncilSession).where(CouncilSession.id == session_id).with_for_update()
        )
    ).first()
    if row is None:
        raise SessionNotFound()
    return row


async def sessions_of_txn(session: AsyncSession, user_id: int) -> list[tuple[CouncilSession, str]]:
    """Sessions ``user_id`` is invited to, newest first, with the role."""
    rows = await session.execute(
        select(CouncilSession, Invitation.role)
        .join(Invitation, Invitation.session_id == CouncilSession.id)
        .where(Invitation.user_id == user_id)
        .order_by(CouncilSession.id.desc())
    )
    return [(s, r) for s, r in rows]


async def set_status_txn(session: AsyncSession, session_id: int, status: str) -> None:
    await session.execute(
        update(CouncilSession).where(CouncilSession.id == session_id).values(status=status)
    )


# -- invitations ---------------------------------------------------------------------------------


async def role_of_txn(session: AsyncSession, session_id: int, user_id: int) -> str | None:
    """The person's invitation role in the session, or None when not invited."""
    return (
        await session.scalars(
            select(Invitation.role).where(
                Invitation.session_id == session_id, Invitation.user_id == user_id
            )
        )
    ).first()


async def roles_txn(session: AsyncSession, session_id: int) -> dict[int, str]:
    """Everyone invited to the session and as what (the realtime channel rule's cache)."""
    rows = await session.execute(
        select(Invitation.user_id, Invitation.role).where(Invitation.session_id == session_id)
    )
    return {uid: role for uid, role in rows}


async def invite_txn(session: AsyncSession, session_id: int, login: str, role: str) -> User:
    """Invite (or change the role of) the person with ``login``."""
    user = (await session.scalars(select(User).where(User.login == login))).first()
    if user is None or not user.is_active:
        raise BadInput(
            f"No active person with login {login!r}.",
            detail_vi=f"Không có người dùng {login!r}.",
            extra={"field": "login"},
        )
    existing = await session.get(Invitation, (session_id, user.id))
    if existing is None:
        session.add(Invitation(session_id=session_id, user_id=user.id, role=role))
    else:
        existing.role = role
    await session.flush()
    return user


async def candidates_txn(
    session: AsyncSession, session_id: int, q: str, *, limit: int = 50
) -> list[dict[str, Any]]:
    """Active people not yet invited whose name, login or agency contains ``q`` (the invitation
    screen's search), by agency then name."""
    invited = select(Invitation.user_id).where(Invitation.session_id == session_id)
    query = (
        select(User.id, User.login, User.full_name, Agency.name)
        .join(Agency, Agency.id == User.agency_id)
        .where(User.is_active.is_(True), User.id.not_in(invited))
        .order_by(Agency.name, User.full_name)
        .limit(limit)
    )
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            User.login.ilike(pattern, escape="\\")
            | User.full_name.ilike(pattern, escape="\\")
            | Agency.name.ilike(pattern, escape="\\")
        )
    rows = await session.execute(query)
    return [
        {"user_id": uid, "login": login, "full_name": name, "agency": agency}
        for uid, login, name, agency in rows
    ]


async def invitations_txn(session: AsyncSession, session_id: int) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(Invitation.user_id, Invitation.role, User.login, User.full_name, Agency.name)
        .join(User, User.id == Invitation.user_id)
        .join(Agency, Agency.id == User.agency_id)
        .where(Invitation.session_id == session_id)
        .order_by(User.full_name)
    )
    return [
        {"user_id": uid, "role": role, "login": login, "full_name": name, "agency": agency}
        for uid, role, login, name, agency in rows
    ]


async def members_total_txn(session: AsyncSession, session_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Invitation)
            .where(Invitation.session_id == session_id, Invitation.role.in_(VOTING_ROLES))
        )
        or 0
    )


# -- sittings ------------------------------------------------------------------------------------


async def add_sitting_txn(session: AsyncSession, session_id: int, title: str) -> Sitting:
    position = await session.scalar(
        select(func.count()).select_from(Sitting).where(Sitting.session_id == session_id)
    )
    row = Sitting(session_id=session_id, title=title, position=int(position or 0))
    session.add(row)
    await session.flush()
    return row


async def sittings_txn(session: AsyncSession, session_id: int) -> list[Sitting]:
    return list(
        await session.scalars(
            select(Sitting).where(Sitting.session_id == session_id).order_by(Sitting.position)
        )
    )


async def start_sitting_txn(session: AsyncSession, session_id: int, sitting_id: int) -> Sitting:
    sitting = await session.get(Sitting, sitting_id)
    if sitting is None or sitting.session_id != session_id:
        raise SessionNotFound("sitting")
    sitting.starts_at = sitting.starts_at or utcnow()
    await session.execute(
        update(CouncilSession)
        .where(CouncilSession.id == session_id)
        .values(current_sitting_id=sitting_id, status="open")
    )
    return sitting


# -- agenda --------------------------------------------------------------------------------------


async def add_item_txn(
    session: AsyncSession, session_id: int, *, title: str, description: str, parent_id: int | None
) -> AgendaItem:
    if parent_id is not None:
        parent = await session.get(AgendaItem, parent_id)
        if parent is None or parent.session_id != session_id:
            raise BadInput(
                "The parent item is not in this session.",
                detail_vi="Mục cha không thuộc kỳ họp này.",
                extra={"field": "parent_id"},
            )
    same_parent = (
        AgendaItem.parent_id.is_(None) if parent_id is None else AgendaItem.parent_id == parent_id
    )
    position = await session.scalar(
        select(func.count())
        .select_from(AgendaItem)
        .where(AgendaItem.session_id == session_id, same_parent)
    )
    row = AgendaItem(
        session_id=session_id,
        parent_id=parent_id,
        title=title,
        description=description,
        position=int(position or 0),
    )
    session.add(row)
    await session.flush()
    return row


async def get_item_txn(session: AsyncSession, session_id: int, item_id: int) -> AgendaItem:
    item = await session.get(AgendaItem, item_id)
    if item is None or item.session_id != session_id:
        raise SessionNotFound("agenda item")
    return item


async def agenda_txn(session: AsyncSession, session_id: int) -> list[dict[str, Any]]:
    """The agenda as a tree of ``{"id", "title", "description", "children"}``."""
    items = list(
        await session.scalars(
            select(AgendaItem)
            .where(AgendaItem.session_id == session_id)
            .order_by(AgendaItem.position, AgendaItem.id)
        )
    )
    nodes: dict[int, dict[str, Any]] = {
        i.id: {"id": i.id, "title": i.title, "description": i.description, "children": []}
        for i in items
    }
    roots: list[dict[str, Any]] = []
    for i in items:
        parent = nodes.get(i.parent_id) if i.parent_id is not None else None
        (parent["children"] if parent is not None else roots).append(nodes[i.id])
    return roots


async def set_current_item_txn(session: AsyncSession, session_id: int, item_id: int | None) -> None:
    if item_id is not None:
        await get_item_txn(session, session_id, item_id)
    await session.execute(
        update(CouncilSession)
        .where(CouncilSession.id == session_id)
        .values(current_item_id=item_id)
    )


# -- attendance ----------------------------------------------------------------------------------


async def set_attendance_txn(
    session: AsyncSession, session_id: int, sitting_id: int, user_id: int, status: str, reason: str
) -> None:
    row = await session.get(Attendance, (sitting_id, user_id))
    if row is None:
        session.add(
            Attendance(
                sitting_id=sitting_id,
                user_id=user_id,
                session_id=session_id,
                status=status,
                reason=reason,
            )
        )
    else:
        row.status, row.reason, row.at = status, reason, utcnow()
    await session.flush()


async def quorum_txn(session: AsyncSession, session_id: int, sitting_id: int | None) -> Quorum:
    total = await members_total_txn(session, session_id)
    counts: dict[str, int] = {}
    if sitting_id is not None:
        rows = await session.execute(
            select(Attendance.status, func.count())
            .join(
                Invitation,
                (Invitation.user_id == Attendance.user_id)
                & (Invitation.session_id == Attendance.session_id),
            )
            .where(Attendance.sitting_id == sitting_id, Invitation.role.in_(VOTING_ROLES))
            .group_by(Attendance.status)
        )
        counts = {status: int(n) for status, n in rows}
    return Quorum(total, counts.get("hall", 0), counts.get("online", 0), counts.get("absent", 0))


async def attendance_txn(session: AsyncSession, sitting_id: int) -> dict[int, dict[str, str]]:
    rows = await session.scalars(select(Attendance).where(Attendance.sitting_id == sitting_id))
    return {a.user_id: {"status": a.status, "reason": a.reason} for a in rows}


# -- speakers ------------------------------------------------------------------------------------


async def register_speaker_txn(
    session: AsyncSession, session_id: int, item_id: int, user_id: int, kind: str
) -> Speaker:
    await get_item_txn(session, session_id, item_id)
    waiting = await session.scalar(
        select(func.count())
        .select_from(Speaker)
        .where(
            Speaker.item_id == item_id,
            Speaker.user_id == user_id,
            Speaker.status.in_(("waiting", "speaking")),
        )
    )
    if waiting:
        raise StateConflict(
            "You are already in the queue for this item.",
            detail_vi="Bạn đã đăng ký phát biểu ở nội dung này.",
        )
    last = await session.scalar(
        select(func.max(Speaker.position)).where(Speaker.item_id == item_id)
    )
    row = Speaker(
        session_id=session_id,
        item_id=item_id,
        user_id=user_id,
        kind=kind,
        position=int(last or 0) + 1,
    )
    session.add(row)
    await session.flush()
    return row


async def get_speaker_txn(session: AsyncSession, session_id: int, speaker_id: int) -> Speaker:
    row = await session.get(Speaker, speaker_id)
    if row is None or row.session_id != session_id:
        raise SessionNotFound("speaker")
    return row


async def queue_txn(session: AsyncSession, item_id: int) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(Speaker, User.full_name)
        .join(User, User.id == Speaker.user_id)
        .where(Speaker.item_id == item_id, Speaker.status.in_(("waiting", "speaking")))
        .order_by(Speaker.position, Speaker.id)
    )
    return [speaker_json(s, name) for s, name in rows]


def speaker_json(s: Speaker, name: str) -> dict[str, Any]:
    return {
        "id": s.id,
        "item_id": s.item_id,
        "user_id": s.user_id,
        "full_name": name,
        "kind": s.kind,
        "position": s.position,
        "status": s.status,
        "limit_s": s.limit_s,
        "started_at": s.started_at.isoformat() if s.started_at else None,
    }


async def order_queue_txn(session: AsyncSession, item_id: int, speaker_ids: Sequence[int]) -> None:
    """Put the waiting speakers of ``item_id`` in the order given (others keep theirs, after)."""
    rows = {
        s.id: s
        for s in await session.scalars(
            select(Speaker).where(Speaker.item_id == item_id, Speaker.status == "waiting")
        )
    }
    unknown = [i for i in speaker_ids if i not in rows]
    if unknown:
        raise BadInput(
            f"Not waiting on this item: {unknown}.",
            detail_vi="Danh sách có người không chờ phát biểu ở nội dung này.",
            extra={"field": "order"},
        )
    rest = sorted((s for i, s in rows.items() if i not in speaker_ids), key=lambda s: s.position)
    for position, speaker in enumerate([*(rows[i] for i in speaker_ids), *rest], start=1):
        speaker.position = position
    await session.flush()


async def start_speaker_txn(session: AsyncSession, speaker: Speaker, limit_s: int) -> None:
    """Start the timer for ``speaker``; whoever was speaking on the item is done."""
    now = utcnow()
    await session.execute(
        update(Speaker)
        .where(Speaker.item_id == speaker.item_id, Speaker.status == "speaking")
        .values(status="done", ended_at=now)
    )
    speaker.status, speaker.started_at, speaker.limit_s = "speaking", now, limit_s
    await session.flush()


async def current_speaker_txn(session: AsyncSession, session_id: int) -> dict[str, Any] | None:
    row = (
        await session.execute(
            select(Speaker, User.full_name)
            .join(User, User.id == Speaker.user_id)
            .where(Speaker.session_id == session_id, Speaker.status == "speaking")
            .order_by(Speaker.started_at.desc())
            .limit(1)
        )
    ).first()
    return speaker_json(row[0], row[1]) if row else None
