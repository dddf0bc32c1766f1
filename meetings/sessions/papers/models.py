"""Tables of session papers (tài liệu kỳ họp): versions, page texts, readers, annotations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, UtcDateTime, utcnow
from server.search import folded_default, keep_folded


class Paper(Base):
    """A paper attached to an agenda item: a report, a draft resolution, a verification report."""

    __tablename__ = "session_papers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("council_sessions.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("session_agenda_items.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(500))
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    """Tài liệu mật: only the named readers see it, each page marked with who reads it."""
    allow_download: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_print: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    """``active`` or ``withdrawn`` (rút tài liệu)."""
    version: Mapped[int] = mapped_column(Integer, default=0)
    """The current version number; earlier versions stay readable as history."""
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PaperVersion(Base):
    """One uploaded file of a paper, as rewritten for fast first-page reading."""

    __tablename__ = "session_paper_versions"
    __table_args__ = (UniqueConstraint("paper_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("session_papers.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(300))
    note: Mapped[str] = mapped_column(String(500), default="")
    pages: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    """Of the stored (rewritten) file; also its ETag."""
    original_sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    """``none``; ``valid`` or ``invalid`` for a file uploaded with digital signatures (checked
    with ``signing`` at upload; such a file is stored as uploaded, never rewritten)."""
    signature_summary: Mapped[str] = mapped_column(Text, default="", server_default="")
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PaperPage(Base):
    """The text of one page, for search inside a paper and across a session's papers."""

    __tablename__ = "session_paper_pages"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("session_paper_versions.id", ondelete="CASCADE"), primary_key=True
    )
    page: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text, default="")
    text_folded: Mapped[str] = mapped_column(
        Text, default=folded_default("text"), server_default=""
    )
    """``text`` by the search fold (:mod:`server.search`): what the search compares."""


keep_folded(PaperPage, "text_folded", "text")


class PaperReader(Base):
    """A person named to read a confidential paper."""

    __tablename__ = "session_paper_readers"

    paper_id: Mapped[int] = mapped_column(
        ForeignKey("session_papers.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)


class PaperSeen(Base):
    """The version of a paper a person last opened, so the tablet can show what is new."""

    __tablename__ = "session_paper_seen"

    paper_id: Mapped[int] = mapped_column(
        ForeignKey("session_papers.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Annotation(Base):
    """A highlight or note, kept as W3C Web Annotation JSON, apart from the PDF.

    Private to its author unless ``audience`` names other people (a JSON list of user ids).
    """

    __tablename__ = "session_annotations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    paper_id: Mapped[int] = mapped_column(
        ForeignKey("session_papers.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    page: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    """The annotation's JSON, as the client sent it, with our ``id``/``creator`` set."""
    audience: Mapped[str] = mapped_column(Text, default="[]")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
