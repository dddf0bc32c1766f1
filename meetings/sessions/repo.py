"""SQL for sessions, sittings, agenda, invitations and attendance (``*_txn``); speakers are in
``speakers_repo``, votes in ``polls``."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from meetings.sessions.errors import BadInput, SessionNotFound
from meetings.sessions.models import (
    AgendaItem,
    Attendance,
    CouncilSession,
    Invitation,
    Sitting,
)
from meetings.sessions.rules import VOTING_ROLES, Quorum
from server.accounts.models import Agency, User
from server.db.base import utcnow
from server.search import fold, like_folded

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


async def find_session_txn(session: AsyncSession, session_id: int) -> CouncilSession | None:
    return await session.get(CouncilSession, session_id)


async def copy_session_txn(
    session: AsyncSession, source_id: int, target_id: int, *, skip_user: int
) -> None:
    """Copy the invitations (but ``skip_user``'s, invited already) and the agenda tree of
    ``source_id`` into the new session ``target_id``."""
    for inv in await session.scalars(select(Invitation).where(Invitation.session_id == source_id)):
        if inv.user_id != skip_user:
            session.add(Invitation(session_id=target_id, user_id=inv.user_id, role=inv.role))
    items = list(
        await session.scalars(
            select(AgendaItem).where(AgendaItem.session_id == source_id).order_by(AgendaItem.id)
        )
    )
    new_ids: dict[int, int] = {}
    for item in items:  # ids grow with creation, so a parent comes before its children
        copy = AgendaItem(
            session_id=target_id,
            parent_id=new_ids.get(item.parent_id) if item.parent_id else None,
            position=item.position,
            title=item.title,
            description=item.description,
        )
        session.add(copy)
        await session.flush()
        new_ids[item.id] = copy.id


async def set_conclusions_txn(session: AsyncSession, cs: CouncilSession, text: str) -> None:
    cs.conclusions = text
    await session.flush()


async def set_signed_minutes_txn(
    session: AsyncSession, cs: CouncilSession, sha256: str, signer: str
) -> None:
    """Remember the signed minutes kept under ``sha256`` and who signed them."""
    cs.minutes_sha256, cs.minutes_signer, cs.minutes_at = sha256, signer, utcnow()
    await session.flush()


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


async def user_by_login_txn(session: AsyncSession, login: str) -> User | None:
    return (await session.scalars(select(User).where(User.login == login))).first()


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
    """Active people not yet invited whose name, login or agency contains ``q`` by the search
    fold of :mod:`server.search` (the invitation screen's search), by agency then name."""
    invited = select(Invitation.user_id).where(Invitation.session_id == session_id)
    query = (
        select(User.id, User.login, User.full_name, Agency.name)
        .join(Agency, Agency.id == User.agency_id)
        .where(User.is_active.is_(True), User.id.not_in(invited))
        .order_by(Agency.name, User.full_name)
        .limit(limit)
    )
    if fold(q):
        query = query.where(like_folded(User.search_folded, q) | like_folded(Agency.name_folded, q))
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


async def invitations_page_txn(
    session: AsyncSession, session_id: int, *, offset: int, limit: int
) -> tuple[int, list[dict[str, Any]]]:
    """How many are invited, and one page of them by name (the desk's member list)."""
    total = await session.scalar(
        select(func.count()).select_from(Invitation).where(Invitation.session_id == session_id)
    )
    rows = await session.execute(
        select(Invitation.user_id, Invitation.role, User.login, User.full_name, Agency.name)
        .join(User, User.id == Invitation.user_id)
        .join(Agency, Agency.id == User.agency_id)
        .where(Invitation.session_id == session_id)
        .order_by(User.full_name, User.id)
        .offset(offset)
        .limit(limit)
    )
    page = [
        {"user_id": uid, "role": role, "login": login, "full_name": name, "agency": agency}
        for uid, role, login, name, agency in rows
    ]
    return int(total or 0), page


async def attendance_of_txn(
    session: AsyncSession, sitting_id: int, user_ids: list[int]
) -> dict[int, dict[str, str]]:
    """The attendance marks of ``user_ids`` at the sitting."""
    if not user_ids:
        return {}
    rows = await session.scalars(
        select(Attendance).where(
            Attendance.sitting_id == sitting_id, Attendance.user_id.in_(user_ids)
        )
    )
    return {a.user_id: {"status": a.status, "reason": a.reason} for a in rows}
