"""Tables of briefings and who is invited to them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
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


class LiveRoom(Base):
    """A briefing's live room as every media worker sees it; kept across restarts.

    One row per briefing that has been opened: who has the floor, whether the hall is being
    recorded, whether the chair ended it.  The workers hosting the briefing's endpoints read it
    when told it changed (and once a second as a safety net).
    """

    __tablename__ = "briefing_live_rooms"

    briefing_id: Mapped[int] = mapped_column(
        ForeignKey("briefings.id", ondelete="CASCADE"), primary_key=True
    )
    spotlight: Mapped[str | None] = mapped_column(String(64))
    """Participant id given the floor (trao quyền phát biểu), or None."""
    recording: Mapped[bool] = mapped_column(Boolean, default=False)
    ended: Mapped[bool] = mapped_column(Boolean, default=False)
    walls: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    """JSON list of the participant ids the chair made the hall's walls (màn hình hội trường)."""
    wall_page: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    """The page the walls show."""


class LiveParticipant(Base):
    """One participant's live state in a briefing, shared by the media workers.

    ``worker``/``epoch`` say which worker process hosts the participant now (None: not
    connected anywhere); a row of a worker that died or restarted (another epoch) counts as
    absent.  Hands and mutes stay in the row when the participant leaves, so a rejoin or a
    server restart finds them again.
    """

    __tablename__ = "briefing_live_participants"

    briefing_id: Mapped[int] = mapped_column(
        ForeignKey("briefings.id", ondelete="CASCADE"), primary_key=True
    )
    participant: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    agency_code: Mapped[str] = mapped_column(String(32), default="")
    chair: Mapped[bool] = mapped_column(Boolean, default=False)
    endpoint: Mapped[bool] = mapped_column(Boolean, default=False)
    worker: Mapped[int | None] = mapped_column(Integer)
    epoch: Mapped[str] = mapped_column(String(32), default="")
    """Random token of the worker process's start: a restarted worker has another."""
    connected: Mapped[bool] = mapped_column(Boolean, default=False)
    streams: Mapped[str] = mapped_column(Text, default="[]")
    """JSON list of the participant's uplink streams: kind, pipe stream id, clock rate, level id."""
    audio_muted: Mapped[bool] = mapped_column(Boolean, default=False)
    video_muted: Mapped[bool] = mapped_column(Boolean, default=False)
    muted_by_chair: Mapped[bool] = mapped_column(Boolean, default=False)
    hand: Mapped[bool] = mapped_column(Boolean, default=False)
    audio_only: Mapped[bool] = mapped_column(Boolean, default=False)
    rtt_ms: Mapped[float | None] = mapped_column(Float)
    loss: Mapped[float | None] = mapped_column(Float)
