"""The JSON bodies of the sessions API, each declared once (``server.http.body``).

A handler reads one with ``read_body``; the same class documents the route in OpenAPI and is what
the action receives, so the shape is written nowhere else.  Rules that need the database (a
deadline in the future, an absence with a reason) are the actions' (``actions/``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, StrictBool, StringConstraints, field_validator

from meetings.sessions.rules import Choice, InviteRole, Presence, SpeakerKind, Threshold
from server.http.body import Body, Id

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
ItemTitle = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Login = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Short = Annotated[str, StringConstraints(max_length=300)]


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


class NewSession(Body):
    """A new draft session, or with ``from_session`` a copy of that one's agenda and people."""

    title: Title
    place: Short = ""
    starts_on: date | None = None
    from_session: Id | None = None

    _blank_date = field_validator("starts_on", mode="before")(_blank_is_none)


class StatusChange(Body):
    status: Literal["draft", "open", "closed"]


class Invitations(Body):
    """One person (``login``) or several (``logins``, all or none) with the same role."""

    role: InviteRole
    login: Login | None = None
    logins: Annotated[list[Login], Field(min_length=1, max_length=500)] | None = None


class NewSitting(Body):
    title: Title


class NewItem(Body):
    title: ItemTitle
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    parent_id: Id | None = None


class CurrentItem(Body):
    item_id: Id | None = None
    """The item under discussion; null for none."""


class Mark(Body):
    """Check in (no ``login``: oneself) or mark someone (``login``: the secretariat)."""

    status: Presence
    reason: Short = ""
    login: Login | None = None


class Registration(Body):
    kind: SpeakerKind = SpeakerKind.FOR


class QueueOrder(Body):
    order: Annotated[list[Id], Field(max_length=1000)]
    """Speaker ids in the order they will speak."""


class SpeakerCommand(Body):
    action: Literal["start", "stop", "withdraw", "pause", "resume", "reset"]
    """``pause`` keeps the time left, ``resume`` runs it again, ``reset`` sets it back to
    ``limit_s`` (paused) — the desk's timer control for the one speaking."""
    limit_s: Annotated[int, Field(ge=10, le=3600)] = 300
    """Speaking time when starting or resetting, in seconds."""


class NewPoll(Body):
    """A vote at the sitting, or with ``deadline`` an opinion collection (lấy ý kiến)."""

    title: ItemTitle
    item_id: Id | None = None
    secret: StrictBool = False
    threshold: Threshold = Threshold.MAJORITY_ALL
    deadline: AwareDatetime | None = None

    _blank_deadline = field_validator("deadline", mode="before")(_blank_is_none)


class Conclusions(Body):
    text: Annotated[str, StringConstraints(max_length=50_000)]


class CastVote(Body):
    choice: Choice
