"""Tables of briefings and who is invited to them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, UtcDateTime, utcnow


class BriefingStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    """Đã lên lịch: not started yet."""
    LIVE = "live"
    """Đang họp: someone has joined."""
    ENDED = "ended"
    """Đã kết thúc: the chair ended it; nobody can join any more."""


class InviteKind(enum.StrEnum):
    ENDPOINT = "endpoint"
    """An agency's hall (điểm cầu): any of its people holding the endpoint role joins for it."""
    OFFICIAL = "official"
    """One named official (cán bộ), joining from wherever they are."""


class Briefing(Base):
    """A video briefing (cuộc họp trực tuyến), scheduled or ad hoc."""

    __tablename__ = "briefings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """None for an ad hoc briefing (họp đột xuất), open at once."""
    status: Mapped[str] = mapped_column(String(16), default=BriefingStatus.SCHEDULED.value)
    join_code: Mapped[str] = mapped_column(String(32), unique=True)
    """Random code in the join link; the link alone admits nobody who is not invited."""
    chair_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    meeting_ref: Mapped[str] = mapped_column(String(100), default="")
    """Optional reference to a council session or meeting this briefing belongs to."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class BriefingInvite(Base):
    """One invitation: an agency's hall (``agency_id``) or one official (``user_id``)."""

    __tablename__ = "briefing_invites"
    __table_args__ = (UniqueConstraint("briefing_id", "agency_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    briefing_id: Mapped[int] = mapped_column(
        ForeignKey("briefings.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
