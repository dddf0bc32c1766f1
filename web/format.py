"""The pages' side of :mod:`server.textfmt`: Jinja filters in the page's language.

Templates write ``{{ e.at|datetime }}``, ``{{ d|date }}``, ``{{ n|number }}``,
``{{ x|percent }}`` (a value already in percent), ``{{ part|share(whole) }}`` or
``{{ cert.subject|subject }}``; the scripts use
``web/static/format.js``, which follows the same rule.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import jinja2

from server.textfmt import (
    format_date,
    format_datetime,
    format_number,
    format_percent,
    format_share,
)
from web.subject import subject_in

__all__ = [
    "format_date",
    "format_datetime",
    "format_number",
    "format_percent",
    "format_share",
    "install_filters",
]


def _lang(ctx: Any) -> str:
    lang = ctx.get("lang", "vi") if ctx is not None else "vi"
    return "en" if lang == "en" else "vi"


@jinja2.pass_context
def _number(ctx: Any, value: float, decimals: int = 0) -> str:
    return format_number(value, _lang(ctx), decimals)


@jinja2.pass_context
def _percent(ctx: Any, value: float, decimals: int = 2) -> str:
    return format_percent(value, _lang(ctx), decimals)


@jinja2.pass_context
def _share(ctx: Any, part: float, whole: float, decimals: int = 2) -> str:
    return format_share(part, whole, _lang(ctx), decimals)


def _datetime(value: dt.datetime | dt.date | str | None, seconds: bool = False) -> str:
    return format_datetime(value, seconds=seconds)


@jinja2.pass_context
def _subject(ctx: Any, value: str | None) -> str:
    return subject_in(value, _lang(ctx))


def install_filters(env: jinja2.Environment) -> None:
    """Register ``datetime``, ``date``, ``number``, ``percent``, ``share`` and ``subject`` (a
    certificate's subject with its field labels in the page's language)."""
    env.filters["datetime"] = _datetime
    env.filters["date"] = format_date
    env.filters["number"] = _number
    env.filters["percent"] = _percent
    env.filters["share"] = _share
    env.filters["subject"] = _subject
