"""Tables of council sessions (kỳ họp): sittings, agenda, invitations, attendance, speakers, votes.

A vote's choices live apart from who voted, by design: :class:`PollVote` says who voted, and the
counts live on :class:`Poll` (a named vote) or, while a secret vote (bỏ phiếu kín) is open, in
:class:`PollTally`, one row per choice updated in place.  For a secret vote ``PollVote.choice`` is
always NULL and ``PollVote.at`` is the time the vote opened, so no row links a member to a choice
or says in which order members voted; the counts are added in the same batched transaction that
records who voted.  See docs/sessions.md, "Secret ballots".
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, UtcDateTime, utcnow


class CouncilSession(Base):
    """A session of the People's Council (kỳ họp HĐND), held over one or more sittings."""

    __tablename__ = "council_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    place: Mapped[str] = mapped_column(String(300), default="")
    starts_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    """``draft`` (being prepared), ``open`` (being held), ``closed``."""
    current_item_id: Mapped[int | None] = mapped_column(Integer)
    """The agenda item under discussion (nội dung đang thảo luận); no FK to avoid a cycle."""
    current_sitting_id: Mapped[int | None] = mapped_column(Integer)
    """The sitting (phiên) being held; attendance and votes belong to it."""
    conclusions: Mapped[str] = mapped_column(Text, default="", server_default="")
    """Kết luận kỳ họp, written by the secretariat; printed in the minutes."""
    minutes_sha256: Mapped[str | None] = mapped_column(String(64))
    """The minutes as signed by the secretariat (biên bản đã ký số), a file under ``minutes/``."""
    minutes_signer: Mapped[str | None] = mapped_column(String(300))
    minutes_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Sitting(Base):
    """One sitting (phiên họp) of a session: a morning or afternoon in the hall."""

    __tablename__ = "session_sittings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("council_sessions.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer, default=0)
    starts_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AgendaItem(Base):
    """A node of the agenda tree (chương trình kỳ họp); ``parent_id`` None for top-level items."""

    __tablename__ = "session_agenda_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("council_sessions.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("session_agenda_items.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")


class Invitation(Base):
    """Who is invited (triệu tập / mời) and as what: ``chair``, ``member``, ``guest``,
    ``secretariat``.  Only a chair or member counts towards the total and may vote."""

    __tablename__ = "session_invitations"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("council_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))


class Attendance(Base):
    """A person's attendance at one sitting (điểm danh): ``hall``, ``online`` or ``absent``."""

    __tablename__ = "session_attendance"

    sitting_id: Mapped[int] = mapped_column(
        ForeignKey("session_sittings.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    session_id: Mapped[int] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(300), default="")
    """Lý do vắng mặt, for ``absent``."""
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Speaker(Base):
    """A request to speak (đăng ký phát biểu) on an agenda item, in the secretariat's order."""

    __tablename__ = "session_speakers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("council_sessions.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("session_agenda_items.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    """``for`` (tán thành), ``against`` (không tán thành), ``question`` (chất vấn)."""
    position: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    """``waiting``, ``speaking``, ``done``, ``withdrawn``."""
    limit_s: Mapped[int] = mapped_column(Integer, default=300)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Poll(Base):
    """A vote (biểu quyết) with its running counts; ``secret`` means bỏ phiếu kín."""

    __tablename__ = "session_polls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("council_sessions.id", ondelete="CASCADE"), index=True
    )
    sitting_id: Mapped[int | None] = mapped_column(Integer)
    """The sitting whose attendance decides who may vote; set when the vote opens."""
    item_id: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(16), default="vote", server_default="vote")
    """``vote`` (biểu quyết tại phiên: members present at the sitting) or ``opinion`` (lấy ý
    kiến between sittings: every invited member, until ``deadline``)."""
    deadline: Mapped[datetime | None] = mapped_column(UtcDateTime)
    secret: Mapped[bool] = mapped_column(Boolean, default=False)
    threshold: Mapped[str] = mapped_column(String(24), default="majority_all")
    """``majority_all`` (quá nửa tổng số đại biểu) or ``two_thirds_all`` (hai phần ba)."""
    status: Mapped[str] = mapped_column(String(16), default="draft")
    """``draft``, ``open``, ``closed``."""
    members_total: Mapped[int] = mapped_column(Integer, default=0)
    present: Mapped[int] = mapped_column(Integer, default=0)
    yes: Mapped[int] = mapped_column(Integer, default=0)
    no: Mapped[int] = mapped_column(Integer, default=0)
    abstain: Mapped[int] = mapped_column(Integer, default=0)
    """For a secret vote the three counts stay 0 until it closes (they live in :class:`PollTally`)."""
    voted: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """How many members voted so far: all anyone learns of a secret vote before it closes."""
    passed: Mapped[bool | None] = mapped_column(Boolean)
    opened_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PollVote(Base):
    """That a member voted (primary key: once each); ``choice`` is NULL for a secret vote."""

    __tablename__ = "session_poll_votes"

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("session_polls.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    choice: Mapped[str | None] = mapped_column(String(8))
    """``yes`` (Đồng ý), ``no`` (Không đồng ý), ``abstain`` (Không biểu quyết); NULL if secret."""
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    """When the vote was cast; for a secret vote the time the vote opened (the same for all)."""


class PollTally(Base):
    """The count of one choice in a secret vote, updated in place (``count = count + n``) in the
    transaction that records who voted; the rows are made when the vote opens, so their keys and
    order say nothing about who voted when."""

    __tablename__ = "session_poll_tally"

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("session_polls.id", ondelete="CASCADE"), primary_key=True
    )
    choice: Mapped[str] = mapped_column(String(8), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
