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


def selectors(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The annotation's target selectors (one or a list), objects only."""
    target = body.get("target")
    found = target.get("selector") if isinstance(target, dict) else None
    items = found if isinstance(found, list) else [found]
    return [s for s in items if isinstance(s, dict)]


def has_ink(body: dict[str, Any]) -> bool:
    return any(s.get("type") == "SvgSelector" for s in selectors(body))


def check_ink(body: dict[str, Any]) -> None:
    """Refuse an ``SvgSelector`` that is not strokes in our form (422, ``field``)."""
    for selector in selectors(body):
        if selector.get("type") != "SvgSelector":
            continue
        value = selector.get("value")
        if not isinstance(value, str) or _SVG.fullmatch(value) is None:
            raise BadInput(
                "An SvgSelector must be <svg viewBox> with <path> strokes only.",
                detail_vi="Nét vẽ không đúng định dạng.",
                extra={"field": "target.selector"},
            )
