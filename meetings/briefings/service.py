"""What may be done with briefings and by whom (the domain layer between HTTP and SQL)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from meetings.briefings.bodies import BriefingBody
from meetings.briefings.errors import BadBriefing, BriefingEnded, NotChair, NotInvited
from meetings.briefings.models import BriefingStatus
from meetings.briefings.repository import (
    BriefingView,
    create_briefing_txn,
    get_briefing_txn,
    is_invited_txn,
    list_briefings_for_txn,
    set_status_txn,
)
from server.audit.log import append_txn
from server.auth.principal import Principal, Role
from server.db import Database
from server.http.body import body_error

ORGANISERS = (Role.LEADER, Role.SECRETARIAT, Role.CLERK, Role.ADMIN)
"""Who may create a briefing (lãnh đạo, thư ký, văn thư)."""


@dataclass(frozen=True, slots=True)
class NewBriefing:
    """A briefing to create, its shape checked by :class:`BriefingBody`."""

    title: str
    starts_at: datetime | None
    """None: ad hoc (họp đột xuất), open at once."""
    chair_login: str
    endpoints: list[str] = field(default_factory=list)
    """Codes of the invited agencies' halls (điểm cầu)."""
    officials: list[str] = field(default_factory=list)
    """Logins of officials invited by name."""
    meeting_ref: str = ""

    @classmethod
    def from_body(cls, body: BriefingBody, default_chair: str) -> NewBriefing:
        """The briefing the API body describes; ``default_chair`` chairs unless it names one."""
        return cls(
            title=body.title,
            starts_at=body.starts_at.astimezone(UTC) if body.starts_at else None,
            chair_login=body.chair or default_chair,
            endpoints=list(body.endpoints),
            officials=list(body.officials),
            meeting_ref=body.meeting_ref,
        )

    @classmethod
    def from_json(cls, data: dict[str, Any], default_chair: str) -> NewBriefing:
        """The same from already-parsed JSON (the page's form): a wrong field is a
        :class:`BadBriefing` naming it, as the API's 422 does."""
        try:
            body = BriefingBody.model_validate(data)
        except ValidationError as exc:
            problem = body_error(exc)
            raise BadBriefing(problem.extra["field"], problem.detail, problem.detail_vi) from None
        return cls.from_body(body, default_chair)


@dataclass(frozen=True, slots=True)
class Admission:
    """Who joins a briefing's room and as what."""

    briefing: BriefingView
    user_id: int
    login: str
    display_name: str
    agency_code: str
    is_chair: bool
    is_endpoint: bool
    """True when joining for an agency's hall (điểm cầu) rather than as a named official."""


async def create_briefing(db: Database, p: Principal, new: NewBriefing) -> BriefingView:
    if not p.has(*ORGANISERS):
        raise NotChair()

    async def run(session: AsyncSession) -> BriefingView:
        bid = await create_briefing_txn(
            session,
            title=new.title,
            starts_at=new.starts_at,
            join_code=secrets.token_urlsafe(12),
            chair_login=new.chair_login,
            created_by_user_id=p.user_id,
            meeting_ref=new.meeting_ref,
            endpoint_codes=new.endpoints,
            official_logins=new.officials,
        )
        await append_txn(
            session,
            "briefing.created",
            actor=p.login,
            actor_user_id=p.user_id,
            target=f"briefing:{bid}",
            details={"title": new.title, "endpoints": len(new.endpoints)},
        )
        return await get_briefing_txn(session, bid)

    return await db.write("create_briefing", run)


async def visible_briefing(db: Database, p: Principal, briefing_id: int) -> BriefingView:
    """The briefing when ``p`` is its chair, organiser or invited; 403/404 otherwise."""
    admission = await admit(db, p, briefing_id, allow_ended=True)
    return admission.briefing


async def admit(
    db: Database, p: Principal, briefing_id: int, *, allow_ended: bool = False
) -> Admission:
    """Only the invited get in: the chair, named officials, and endpoint operators of invited halls."""

    async def run(session: AsyncSession) -> tuple[BriefingView, bool]:
        view = await get_briefing_txn(session, briefing_id)
        return view, await is_invited_txn(session, briefing_id, p.user_id, p.agency_id)

    view, invited = await db.read("admit_briefing", run)
    is_chair = view.chair_user_id == p.user_id
    named = any(i.login == p.login for i in view.invites)
    hall = any(i.agency_code == p.agency_code for i in view.invites) and p.has(Role.ENDPOINT)
    if not (is_chair or named or (invited and hall)):
        raise NotInvited()
    if view.status is BriefingStatus.ENDED and not allow_ended:
        raise BriefingEnded()
    hall_name = next((i.agency_name for i in view.invites if i.agency_code == p.agency_code), None)
    endpoint = hall and not named and not is_chair
    return Admission(
        briefing=view,
        user_id=p.user_id,
        login=p.login,
        display_name=(hall_name or p.full_name) if endpoint else p.full_name,
        agency_code=p.agency_code,
        is_chair=is_chair,
        is_endpoint=endpoint,
    )


async def list_briefings(db: Database, p: Principal) -> list[BriefingView]:
    async def run(session: AsyncSession) -> list[BriefingView]:
        return await list_briefings_for_txn(
            session, p.user_id, p.agency_id, everything=p.has(Role.ADMIN)
        )

    return await db.read("list_briefings", run)


async def mark_status(db: Database, actor: Admission, status: BriefingStatus) -> None:
    async def run(session: AsyncSession) -> None:
        await set_status_txn(session, actor.briefing.id, status)
        if status is BriefingStatus.ENDED:
            await append_txn(
                session,
                "briefing.ended",
                actor=actor.login,
                actor_user_id=actor.user_id,
                target=f"briefing:{actor.briefing.id}",
            )

    await db.write("briefing_status", run)


AUDITED_CHAIR_ACTIONS = frozenset(
    {"mute", "mute_all", "spotlight", "unspotlight", "record_start", "record_stop"}
)
"""Chair actions written to the audit chain (ending is written by :func:`mark_status`)."""


async def audit_chair_action(db: Database, actor: Admission, action: str, target: str) -> None:
    """Record who muted whom, gave the floor or recorded (điều hành cuộc họp)."""
    if action not in AUDITED_CHAIR_ACTIONS:
        return

    async def run(session: AsyncSession) -> None:
        await append_txn(
            session,
            f"briefing.{action}",
            actor=actor.login,
            actor_user_id=actor.user_id,
            target=f"briefing:{actor.briefing.id}",
            details={"participant": target} if target else None,
        )

    await db.write("briefing_chair_action", run)
