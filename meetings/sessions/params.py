"""Path parameters of the sessions and papers routes."""

from __future__ import annotations

from aiohttp import web

from meetings.sessions.errors import BadInput


def path_int(request: web.Request, name: str) -> int:
    """The path parameter ``name`` as a number; 400 (``sessions.bad_input``) otherwise."""
    try:
        return int(request.match_info[name])
    except (KeyError, ValueError):
        raise BadInput(f"{name} must be a number.", detail_vi=f"{name} phải là số.") from None
