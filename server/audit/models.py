"""The audit log table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, UtcDateTime


class AuditEntry(Base):
    """One act.  ``hash = sha256(prev_hash + canonical JSON of the row)``; ``seq`` has no gaps."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(100))
    """Login of the person or machine, or ``system`` / ``anonymous``."""
    action: Mapped[str] = mapped_column(String(64), index=True)
    """Dotted name: ``auth.login``, ``auth.login_failed``, ``user.roles_changed``, ``document.sent``…"""
    target: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[str] = mapped_column(Text, default="{}")
    """Canonical JSON (sorted keys, no spaces)."""
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
