"""Checking an annotation before it is stored, and reading stored ones back strictly.

An annotation is someone else's data on every tablet it is shared with, and it travels as JSON
through the realtime hub and the list of a paper's notes.  A value JSON cannot carry (``NaN``,
``Infinity``, a number a browser cannot hold) is refused before anything is written, so one bad
note can never make another member's list or event unreadable; a stored note that somehow holds
one (older data) is left out of the list and logged rather than breaking it for everybody.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StrictInt

from meetings.sessions.errors import BadInput
from meetings.sessions.papers.ink import MAX_DEPTH, MAX_INK_BYTES, check_ink, has_ink
from server.http.body import Body

log = logging.getLogger(__name__)

MAX_ANNOTATION_BYTES = 16 * 1024
MAX_NUMBER = 2**53 - 1
"""The largest magnitude a browser holds exactly; every coordinate and offset is far below."""
MAX_AUDIENCE = 200


class AnnotationBody(Body):
    """A W3C Web Annotation as a tablet sends it: ``lt:page`` its page, ``lt:audience`` the logins
    it is shared with.  Its other members are the W3C model's (``target``, ``body``, ink in an
    ``SvgSelector``…), kept as sent and checked by :func:`check_annotation` before anything is
    written."""

    model_config = ConfigDict(frozen=True, extra="allow", allow_inf_nan=False)

    page: Annotated[StrictInt, Field(alias="lt:page", ge=1)]
    audience: Annotated[
        list[str], Field(alias="lt:audience", max_length=MAX_AUDIENCE, default_factory=list)
    ]

    def document(self) -> dict[str, Any]:
        """The annotation as JSON, exactly the members that were sent."""
        document: dict[str, Any] = self.model_dump(by_alias=True, exclude_unset=True)
        return document


def dumps(value: Any) -> str:
    """Strict JSON (``NaN`` and ``Infinity`` raise), as an annotation is stored."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is not a finite number")
    return number


def loads_stored(text: str) -> Any:
    """Parse stored JSON strictly: ``ValueError`` for ``NaN``, ``Infinity`` or ``1e400``."""
    return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite)


def _not_json(path: str) -> BadInput:
    # 400 like the JSON reader's own refusal of NaN: such a value is not JSON at all
    return BadInput(
        f"{path or 'The annotation'} holds NaN or Infinity, which JSON cannot carry.",
        detail_vi="Ghi chú có giá trị số không hợp lệ (NaN hoặc vô cực).",
        code="bad_json",
        status=400,
        extra={"field": path},
    )


def _out_of_range(path: str) -> BadInput:
    return BadInput(
        f"{path} holds a number larger than {MAX_NUMBER}.",
        detail_vi="Ghi chú có giá trị số quá lớn.",
        extra={"field": path},
    )


def check_values(body: dict[str, Any]) -> None:
    """Every number finite (else 400) and within ``MAX_NUMBER``; nesting at most ``MAX_DEPTH``."""
    stack: list[tuple[Any, str, int]] = [(body, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BadInput(
                f"An annotation nests at most {MAX_DEPTH} levels deep.",
                detail_vi="Ghi chú lồng nhau quá sâu.",
                extra={"field": path},
            )
        if isinstance(value, bool):
            continue
        if isinstance(value, float) and not math.isfinite(value):
            raise _not_json(path)
        if isinstance(value, int | float) and abs(value) > MAX_NUMBER:
            raise _out_of_range(path)
        if isinstance(value, dict):
            stack.extend(
                (v, f"{path}.{k}" if path else str(k), depth + 1) for k, v in value.items()
            )
        elif isinstance(value, list):
            stack.extend((v, f"{path}.{i}", depth + 1) for i, v in enumerate(value))


def check_annotation(body: dict[str, Any]) -> tuple[int, list[str]]:
    """The page and the audience's logins of a well-formed annotation; 422 otherwise.

    Nothing is written before this passes; the page's upper bound is checked against the paper
    (``check_page``) in the same transaction as the write."""
    check_values(body)
    limit = MAX_INK_BYTES if has_ink(body) else MAX_ANNOTATION_BYTES
    if len(dumps(body).encode("utf-8")) > limit:
        raise BadInput(
            f"An annotation is at most {limit // 1024} kB.", detail_vi="Ghi chú quá dài."
        )
    page = body.get("lt:page")
    if not isinstance(page, int) or isinstance(page, bool) or page < 1:
        raise BadInput(
            "lt:page must be the page number.",
            detail_vi="Thiếu số trang của ghi chú.",
            extra={"field": "lt:page"},
        )
    audience = body.get("lt:audience", [])
    if (
        not isinstance(audience, list)
        or len(audience) > MAX_AUDIENCE
        or not all(isinstance(a, str) for a in audience)
    ):
        raise BadInput(
            "lt:audience must be a list of logins.",
            detail_vi="Danh sách người được chia sẻ không hợp lệ.",
            extra={"field": "lt:audience"},
        )
    if not isinstance(body.get("target", {}), dict | str):
        raise BadInput("target must be an object.", detail_vi="Đích của ghi chú không hợp lệ.")
    check_ink(body)
    return page, sorted({a.strip() for a in audience if a.strip()})


def check_page(page: int, pages: int) -> None:
    """``lt:page`` within the paper (its longest version, so notes on history still fit)."""
    if page > pages:
        raise BadInput(
            f"lt:page must be between 1 and {pages}.",
            detail_vi=f"Số trang phải từ 1 đến {pages}.",
            extra={"field": "lt:page"},
        )


def refuse_audience(logins: Sequence[str]) -> BadInput:
    """A note may be shared only with people who may read its paper: refused, never narrowed,
    so the author knows who will not see it."""
    names = ", ".join(logins[:20])
    return BadInput(
        f"These people may not read this paper, so the note cannot be shared with them: {names}.",
        detail_vi=f"Những người sau không được đọc tài liệu này nên không chia sẻ được: {names}.",
        extra={"field": "lt:audience", "logins": list(logins)},
    )
