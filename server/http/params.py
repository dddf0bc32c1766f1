"""Integers from the path and the query string, bounded before they reach the database.

``int("99999999999999999999")`` is a fine Python int, but SQLite cannot bind it (OverflowError)
and PostgreSQL cannot compare it with an ``INTEGER`` id (out of int32 range): both were 500s.
Every row id is an ``INTEGER`` primary key, so a path id outside ``1 .. 2^31-1`` names nothing.
"""

from __future__ import annotations

from aiohttp import web

from server.errors import BadRequest, NotFound

ID_MAX = 2**31 - 1
"""Largest row id: ids are ``INTEGER`` columns, 32-bit on PostgreSQL."""
QUERY_MAX = 2**31 - 1
"""Largest ``limit``/``offset``-like query value we pass to SQL."""


def path_int(request: web.Request, name: str) -> int:
    """The path parameter ``name`` as a row id; 404 problem+json when it cannot name a row."""
    raw = request.match_info.get(name, "")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10 or not 1 <= int(raw) <= ID_MAX:
        raise NotFound(
            f"No such resource ({name}={raw[:20]!r}).",
            detail_vi="Không tìm thấy tài nguyên này.",
            extra={"param": name},
        )
    return int(raw)


def query_int(
    request: web.Request, name: str, default: int, *, low: int = 0, high: int = QUERY_MAX
) -> int:
    """The query parameter ``name`` (``default`` when absent); 400 problem+json when it is not an
    integer in ``low .. high``, rather than clamping a value the caller did not mean."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    text = raw.strip()
    digits = text[1:] if text[:1] in "+-" else text
    well_formed = digits.isascii() and digits.isdigit() and len(digits) <= 10
    value = int(text) if well_formed else None
    if value is None or not low <= value <= high:
        raise BadRequest(
            f"Query parameter {name} must be an integer from {low} to {high}.",
            detail_vi=f"Tham số {name} phải là số nguyên từ {low} đến {high}.",
            code="bad_param",
            extra={"param": name},
        )
    return value
