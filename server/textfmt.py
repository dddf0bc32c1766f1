"""How every page and PDF writes a time or a number: Vietnam time, day first, vi-VN digits.

One rule for the whole platform (pages through :mod:`web.format`, PDFs such as the session
minutes directly, scripts through ``web/static/format.js`` which mirrors it):

- a time is shown in Vietnam's time (UTC+7), ``dd/MM/yyyy HH:mm`` — in both languages, since an
  English reader of a Vietnamese register still reads Vietnamese dates;
- a date is ``dd/MM/yyyy``;
- a number groups thousands with ``.`` and writes decimals after ``,`` in Vietnamese
  (``1.234``, ``66,67``), and the English way in English (``1,234``, ``66.67``);
- a percentage is the number followed by a space and ``%`` (``66,67 %``, ``66.67 %``).

A naive ``datetime`` (SQLite gives them back so) is taken as UTC, the server's clock.
"""

from __future__ import annotations

import datetime as dt

from server.vntime import VN

DATE = "%d/%m/%Y"
DATETIME = "%d/%m/%Y %H:%M"
DATETIME_SECONDS = "%d/%m/%Y %H:%M:%S"


def _parse(value: dt.datetime | dt.date | str) -> dt.datetime | dt.date:
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        return dt.datetime.fromisoformat(text)
    return value


def to_vn(value: dt.datetime) -> dt.datetime:
    """The same instant in Vietnam's time (naive values are UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(VN)


def format_datetime(value: dt.datetime | dt.date | str | None, *, seconds: bool = False) -> str:
    """``07/12/2026 09:30`` in Vietnam's time; a bare date gives ``07/12/2026``; None gives ""."""
    if value is None or value == "":
        return ""
    parsed = _parse(value)
    if not isinstance(parsed, dt.datetime):
        return parsed.strftime(DATE)
    return to_vn(parsed).strftime(DATETIME_SECONDS if seconds else DATETIME)


def format_date(value: dt.datetime | dt.date | str | None) -> str:
    """``07/12/2026``: a date as it is, a time by its day in Vietnam."""
    if value is None or value == "":
        return ""
    parsed = _parse(value)
    if isinstance(parsed, dt.datetime):
        parsed = to_vn(parsed).date()
    return parsed.strftime(DATE)


def format_number(value: float, lang: str = "vi", decimals: int = 0) -> str:
    """``1.234`` / ``66,67`` in Vietnamese, ``1,234`` / ``66.67`` in English."""
    text = f"{value:,.{decimals}f}"  # 1,234.57
    if lang == "en":
        return text
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def format_percent(value: float, lang: str = "vi", decimals: int = 2) -> str:
    """A share already in percent: ``66,67 %`` (vi) or ``66.67 %`` (en)."""
    return f"{format_number(value, lang, decimals)} %"


def format_share(part: float, whole: float, lang: str = "vi", decimals: int = 2) -> str:
    """``part`` out of ``whole`` in percent (``2/3`` → ``66,67 %``); an empty whole gives 0."""
    return format_percent(part * 100 / whole if whole else 0.0, lang, decimals)
