"""Who an official is to the system: the roles they hold and the authenticated caller.

These are account facts, so they live with the accounts; :mod:`server.auth.principal` adds how a
request carries them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal


class Role(enum.StrEnum):
    """Roles an official can hold in their agency (several at once)."""

    ADMIN = "admin"
    """Quản trị: manages agencies, people and trust roots."""
    CLERK = "clerk"
    """Văn thư: sends, registers and files official documents."""
    LEADER = "leader"
    """Lãnh đạo: signs documents, assigns incoming ones."""
    SECRETARIAT = "secretariat"
    """Thư ký kỳ họp: runs council sessions."""
    MEMBER = "member"
    """Đại biểu: reads papers, speaks and votes in sessions."""
    ENDPOINT = "endpoint"
    """Điểm cầu: operates a video-briefing endpoint."""
    OFFICIAL = "official"
    """Chuyên viên: handles documents assigned to them."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who made a request: an official logged in through a session, or a machine with an API token."""

    user_id: int
    login: str
    full_name: str
    agency_id: int
    agency_code: str
    roles: frozenset[Role]
    via: Literal["session", "token"]
    session_id: int | None = None
    """The login session's row id when ``via == "session"``."""
    agency_name: str = ""
    origin_session_id: int | None = None
    """The login session this request's authority comes from: the session itself, or the one
    that minted the API token (None for a machine token made by an administrator or the CLI).
    A token minted by this principal records it, so "log out everywhere" reaches it."""
    must_change_password: bool = False
    """An administrator reset the password: until the person chooses their own, a session may
    only reach the account page (:mod:`server.auth.middleware`)."""

    def has(self, *roles: Role) -> bool:
        """True when the principal holds at least one of ``roles``."""
        return any(r in self.roles for r in roles)
