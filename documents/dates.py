"""Dates as the documents domain speaks them: Vietnam's time zone, ISO text, edXML input."""

from __future__ import annotations

import datetime as dt
from typing import Any

from documents.errors import BadField
from server.vntime import VN, today_vn

__all__ = ["VN", "iso", "parse_date", "today_vn"]


def iso(value: dt.date | dt.datetime | None) -> str | None:
    """``value`` as ISO 8601 text for JSON, None kept as None."""
    return value.isoformat() if value is not None else None


def parse_date(key: str, value: Any) -> dt.date | None:
    """``yyyy-mm-dd`` (ISO) or ``yyyy/mm/dd`` (edXML), empty for none."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip().replace("/", "-"))
        except ValueError:
            pass
    raise BadField(
        key, f"{key} must be a date yyyy-mm-dd.", f"Trường {key} phải là ngày yyyy-mm-dd."
    )
