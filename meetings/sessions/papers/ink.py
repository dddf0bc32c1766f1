"""Ink (free drawing) annotations: the one SVG form a tablet may store in an ``SvgSelector``.

A drawing is shared with other people and drawn on their tablets, so its SVG is data from someone
else: only ``<svg xmlns=… viewBox="0 0 W H">`` holding ``<path d="M…L…" fill="none"
stroke="#rrggbb" stroke-width="N"/>`` elements is accepted — no other element, attribute, entity
or script can get through.  The reader draws the path data with ``Path2D`` and never inserts the
SVG into the page.
"""

from __future__ import annotations

import re
from typing import Any

from meetings.sessions.errors import BadInput

MAX_INK_BYTES = 64 * 1024
"""An annotation carrying ink may be this large (a text note: 16 kB)."""

_NUM = r"\d{1,5}(?:\.\d{1,3})?"
_PATH = (
    rf'<path d="M{_NUM} {_NUM}(?:[ML]{_NUM} {_NUM}){{1,4000}}" fill="none" '
    rf'stroke="#[0-9a-fA-F]{{6}}" stroke-width="{_NUM}"/>'
)
_SVG = re.compile(
    rf'<svg xmlns="http://www\.w3\.org/2000/svg" viewBox="0 0 {_NUM} {_NUM}">(?:{_PATH}){{1,200}}</svg>'
)


MAX_DEPTH = 16
"""How deeply an annotation's JSON may nest; bounds ``refinedBy`` chains and every walk of it."""


def _too_deep() -> BadInput:
    return BadInput(
        f"An annotation nests at most {MAX_DEPTH} levels deep.",
        detail_vi="Ghi chú lồng nhau quá sâu.",
        extra={"field": "target.selector"},
    )


def svg_selectors(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every object typed ``SvgSelector`` anywhere in the annotation, not only the top-level
    selectors: one inside ``refinedBy`` (or any other nesting) is drawn just the same, so it
    must pass the same check.  Deeper than ``MAX_DEPTH`` is refused."""
    found: list[dict[str, Any]] = []
    stack: list[tuple[Any, int]] = [(body, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _too_deep()
        if isinstance(value, dict):
            if value.get("type") == "SvgSelector":
                found.append(value)
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return found


def has_ink(body: dict[str, Any]) -> bool:
    """Whether the annotation carries a drawing (it may then be larger than a text note)."""
    return bool(svg_selectors(body))


def check_ink(body: dict[str, Any]) -> None:
    """Refuse an ``SvgSelector`` that is not strokes in our form (422, ``field``), wherever it is
    (top level, a list of selectors, a ``refinedBy`` chain)."""
    for selector in svg_selectors(body):
        value = selector.get("value")
        if not isinstance(value, str) or _SVG.fullmatch(value) is None:
            raise BadInput(
                "An SvgSelector must be <svg viewBox> with <path> strokes only.",
                detail_vi="Nét vẽ không đúng định dạng.",
                extra={"field": "target.selector"},
            )
