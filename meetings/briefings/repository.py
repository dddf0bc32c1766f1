"""All SQL of briefings (``*_txn`` functions run inside one :class:`server.db.Database` unit)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from meetings.briefings.errors import BadBriefing, BriefingNotFound
from meetings.briefings.models import Briefing, BriefingInvite, BriefingStatus, InviteKind
from server.accounts.models import Agency, User
from server.db.base import utcnow


@dataclass(frozen=True, slots=True)
class InviteView:
    kind: InviteKind
    agency_code: str | None
    agency_name: str | None
    login: str | None
    full_name: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "agency_code": self.agency_code,
            "agency_name": self.agency_name,
            "login": self.login,
            "full_name": self.full_name,
        }


@dataclass(frozen=True, slots=True)
class BriefingView:
    """A briefing as the API and pages show it."""

    id: int
    title: str
    starts_at: datetime | None
    status: BriefingStatus
    join_code: str
    chair_user_id: int
    chair_login: str
    chair_name: str
    meeting_ref: str
    invites: tuple[InviteView, ...]

    @property
    def join_path(self) -> str:
        return f"/briefings/j/{self.join_code}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "starts_at": self.starts_at.isoformat() if self.starts_at else None,
            "adhoc": self.starts_at is None,
            "status": self.status.value,
            "join_link": self.join_path,
            "chair": {"login": self.chair_login, "full_name": self.chair_name},
            "meeting_ref": self.meeting_ref,
            "invites": [i.to_json() for i in self.invites],
        }


async def user_by_login_txn(session: AsyncSession, login: str) -> User:
    user = (await session.execute(select(User).where(User.login == login))).scalar_one_or_none()
    if user is None or not user.is_active:
        raise BadBriefing(
            "officials", f"Unknown official {login!r}.", f"Không có cán bộ {login!r}."
        )
    return user


async def agency_by_code_txn(session: AsyncSession, code: str) -> Agency:
    row = (await session.execute(select(Agency).where(Agency.code == code))).scalar_one_or_none()
    if row is None:
        raise BadBriefing("endpoints", f"Unknown agency {code!r}.", f"Không có cơ quan {code!r}.")
    return row


async def create_briefing_txn(
    session: AsyncSession,
    *,
    title: str,
    starts_at: datetime | None,
    join_code: str,
    chair_login: str,
    created_by_user_id: int,
    meeting_ref: str,
    endpoint_codes: list[str],
    official_logins: list[str],
) -> int:
    chair = await user_by_login_txn(session, chair_login)
    row = Briefing(
        title=title,
        starts_at=starts_at,
        status=(BriefingStatus.SCHEDULED if starts_at else BriefingStatus.LIVE).value,
        join_code=join_code,
        chair_user_id=chair.id,
        created_by_user_id=created_by_user_id,
        meeting_ref=meeting_ref,
    )
    session.add(row)
    await session.flush()
    for code in dict.fromkeys(endpoint_codes):
        agency = await agency_by_code_txn(session, code)
        session.add(
            BriefingInvite(briefing_id=row.id, kind=InviteKind.ENDPOINT.value, agency_id=agency.id)
        )
    for login in dict.fromkeys(official_logins):
        user = await user_by_login_txn(session, login)
        session.add(
            BriefingInvite(briefing_id=row.id, kind=InviteKind.OFFICIAL.value, user_id=user.id)
        )
    await session.flush()
    return row.id


async def _view_txn(session: AsyncSession, row: Briefing) -> BriefingView:
    chair = await session.get(User, row.chair_user_id)
    assert chair is not None  # a foreign key
    result = await session.execute(
        select(BriefingInvite, Agency, User)
        .outerjoin(Agency, Agency.id == BriefingInvite.agency_id)
        .outerjoin(User, User.id == BriefingInvite.user_id)
        .where(BriefingInvite.briefing_id == row.id)
        .order_by(BriefingInvite.id)
    )
    invites = tuple(
        InviteView(
            kind=InviteKind(inv.kind),
            agency_code=agency.code if agency is not None else None,
            agency_name=agency.name if agency is not None else None,
            login=user.login if user is not None else None,
            full_name=user.full_name if user is not None else None,
        )
        for inv, agency, user in result.all()
    )
    return BriefingView(
        id=row.id,
        title=row.title,
        starts_at=row.starts_at,
        status=BriefingStatus(row.status),
        join_code=row.join_code,
        chair_user_id=chair.id,
        chair_login=chair.login,
        chair_name=chair.full_name,
        meeting_ref=row.meeting_ref,
        invites=invites,
    )


async def get_briefing_txn(session: AsyncSession, briefing_id: int) -> BriefingView:
    row = await session.get(Briefing, briefing_id)
    if row is None:
        raise BriefingNotFound()
    return await _view_txn(session, row)


async def briefing_id_by_code_txn(session: AsyncSession, join_code: str) -> int:
    found = (
        await session.execute(select(Briefing.id).where(Briefing.join_code == join_code))
    ).scalar_one_or_none()
    if found is None:
        raise BriefingNotFound()
    return int(found)


async def is_invited_txn(
    session: AsyncSession, briefing_id: int, user_id: int, agency_id: int
) -> bool:
    """Invited by name, or through an invited agency hall (the endpoint role is checked above)."""
    found = (
        await session.execute(
            select(BriefingInvite.id).where(
                BriefingInvite.briefing_id == briefing_id,
                or_(BriefingInvite.user_id == user_id, BriefingInvite.agency_id == agency_id),
            )
        )
    ).first()
    return found is not None


async def list_briefings_for_txn(
    session: AsyncSession, user_id: int, agency_id: int, *, everything: bool = False
) -> list[BriefingView]:
    """Briefings the person chairs, created or is invited to (all of them with ``everything``)."""
    query = select(Briefing).order_by(Briefing.id.desc()).limit(200)
    if not everything:
        invited = select(BriefingInvite.briefing_id).where(
            or_(BriefingInvite.user_id == user_id, BriefingInvite.agency_id == agency_id)
        )
        query = query.where(
            or_(
                Briefing.chair_user_id == user_id,
                Briefing.created_by_user_id == user_id,
                Briefing.id.in_(invited),
            )
        )
    rows = (await session.execute(query)).scalars().all()
    return [await _view_txn(session, r) for r in rows]


async def set_status_txn(session: AsyncSession, briefing_id: int, status: BriefingStatus) -> None:
    row = await session.get(Briefing, briefing_id)
    if row is None:
        raise BriefingNotFound()
    row.status = status.value
    if status is BriefingStatus.ENDED:
        row.ended_at = utcnow()
