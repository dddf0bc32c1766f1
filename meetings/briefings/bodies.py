"""The JSON bodies of the briefings API, each declared once (``server.http.body``)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AwareDatetime, Field, StringConstraints

from server.http.body import Body, Id

MAX_INVITES = 500
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class BriefingBody(Body):
    """A briefing to create: scheduled (``starts_at``) or ad hoc (none: open at once)."""

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    starts_at: AwareDatetime | None = None
    chair: Name | None = None
    """The chair's login; the creator when absent."""
    endpoints: Annotated[list[Name], Field(max_length=MAX_INVITES)] = Field(default_factory=list)
    """Codes of the invited agencies' halls (điểm cầu)."""
    officials: Annotated[list[Name], Field(max_length=MAX_INVITES)] = Field(default_factory=list)
    """Logins of officials invited by name."""
    meeting_ref: Annotated[str, StringConstraints(max_length=100)] = ""


class CascadeBody(Body):
    """Relay a briefing of the node above into this one."""

    upstream: Annotated[str, StringConstraints(max_length=500)]
    """Base URL of a configured upstream node."""
    briefing: Id
    """The briefing's id on that node."""
    token: Annotated[str, StringConstraints(min_length=8, max_length=200)]
    """API token of this hall, invited there."""


BRIEFING_VIEW: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "title": {"type": "string"},
        "starts_at": {"type": ["string", "null"], "format": "date-time"},
        "adhoc": {"type": "boolean"},
        "status": {"type": "string"},
        "join_link": {"type": "string"},
        "chair": {"type": "object"},
        "meeting_ref": {"type": "string"},
        "invites": {"type": "array", "items": {"type": "object"}},
    },
}
"""A briefing as the API answers it (``BriefingView.to_json``)."""
