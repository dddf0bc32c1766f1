"""Strict JSON in and out: the one loader for every JSON a client sends, HTTP body or WebSocket frame.

Python's :mod:`json` accepts more than JSON (RFC 8259): ``NaN``, ``Infinity`` and ``-Infinity``,
numbers such as ``1e400`` that become an infinite float, integers of any size, and nesting as
deep as the C stack allows (``RecursionError`` near 1,000 levels).  Each of these reached the
database or the event loop as a 500 (OverflowError binding a 2⁶⁴ id in SQLite, RecursionError,
NaN written back out as invalid JSON that browsers cannot parse).  :func:`loads` refuses them all
with :class:`StrictJsonError`, a ``ValueError`` carrying an English and a Vietnamese sentence, so
that the HTTP reader answers 400 problem+json and a WebSocket loop answers an error frame.

Out, :func:`dumps` never writes ``NaN``/``Infinity``: a non-finite float that reached a response
anyway (a row stored before this check) is written as ``null`` and logged, rather than answering
500 for data that is already committed.
"""

from __future__ import annotations

import json
import logging
import math
import re
from typing import Any

log = logging.getLogger("lienthong.json")

MAX_DEPTH = 32
"""Deepest nesting of arrays and objects accepted; our messages need fewer than 6 levels."""
INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
"""Integers are limited to the signed 64-bit range that SQLite and PostgreSQL ``BIGINT`` store."""
_INT_DIGITS = 20
"""No integer in range has more characters than this (``-9223372036854775808``)."""

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


class StrictJsonError(ValueError):
    """The text is not JSON we accept; ``detail`` in English, ``detail_vi`` for people."""

    def __init__(self, detail: str, detail_vi: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.detail_vi = detail_vi


def _check_depth(text: str, max_depth: int) -> None:
    """Refuse nesting deeper than ``max_depth`` before the recursive parser sees it."""
    if text.count("[") + text.count("{") <= max_depth:
        return  # cannot be too deep: the common case costs two C scans
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = 0
    for char in brackets:
        if char in "[{":
            depth += 1
            if depth > max_depth:
                raise StrictJsonError(
                    f"JSON is nested deeper than {max_depth} levels.",
                    f"Dữ liệu JSON lồng nhau quá {max_depth} cấp.",
                )
        else:
            depth -= 1


def _parse_int(text: str) -> int:
    value = int(text) if len(text) <= _INT_DIGITS else INT_MAX + 1
    if not INT_MIN <= value <= INT_MAX:
        raise StrictJsonError(
            "JSON integers must fit in 64 bits (-2^63 .. 2^63-1).",
            "Số nguyên trong dữ liệu JSON vượt quá giới hạn cho phép.",
        )
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise StrictJsonError(
            f"JSON number {text[:40]} is out of range.",
            "Số thực trong dữ liệu JSON vượt quá giới hạn cho phép.",
        )
    return value


def _refuse_constant(name: str) -> Any:
    raise StrictJsonError(
        f"{name} is not JSON; send numbers only.",
        "Dữ liệu JSON không được chứa NaN hoặc Infinity.",
    )


def loads(raw: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``raw`` as strict JSON; :class:`StrictJsonError` for anything we do not accept.

    Bytes must be UTF-8.  Malformed text, NaN/Infinity, non-finite numbers, integers outside
    64 bits and nesting deeper than ``max_depth`` are all refused the same way.
    """
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes | bytearray) else raw
    except UnicodeDecodeError:
        raise StrictJsonError("JSON must be UTF-8.", "Dữ liệu JSON phải mã hoá UTF-8.") from None
    _check_depth(text, max_depth)
    try:
        return json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_refuse_constant,
        )
    except StrictJsonError:
        raise
    except (json.JSONDecodeError, ValueError, RecursionError) as exc:
        raise StrictJsonError(
            f"Not valid JSON: {exc}", "Dữ liệu gửi lên không phải JSON hợp lệ."
        ) from None


def finite(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None (JSON ``null``)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def dumps(value: Any, **options: Any) -> str:
    """``json.dumps`` that never writes NaN or Infinity (they become ``null``, with a warning).

    Refusing would turn data already committed into a 500 on every later read; writing the
    tokens would send text that ``JSON.parse`` in browsers rejects.
    """
    try:
        return json.dumps(value, allow_nan=False, **options)
    except ValueError as exc:
        if "Out of range float" not in str(exc):
            raise
        log.warning("non-finite float in outgoing JSON written as null")
        return json.dumps(finite(value), allow_nan=False, **options)
