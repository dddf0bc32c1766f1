"""Finding where a stamp goes: the anchor text (the position title, e.g. ``CHỦ TỊCH``) located on
the page with pypdf's text extraction, and the boxes Decree 30 implies around it.

Stamp boxes in a PDF are absolute coordinates, so the page has to be searched; explicit
coordinates (``--page N --box x1,y1,x2,y2``) override the search.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from pypdf import PdfReader

from signing.errors import AnchorNotFound, InvalidPdf
from signing.library_errors import PYPDF_ERRORS

Box = tuple[float, float, float, float]

SIGNATURE_SIZE = (150.0, 60.0)
"""Width and height (pt) of the leader's signature image box."""
SEAL_DIAMETER = 100.0
"""The red seal at about real size (35 mm ≈ 100 pt)."""
ATTACHMENT_SIZE = (160.0, 40.0)
"""Box of the attachment stamp (two lines of 10 pt text)."""


@dataclass(frozen=True, slots=True)
class TextHit:
    """Where the anchor text was found: page index, baseline start and approximate width."""

    page: int
    x: float
    y: float
    width: float
    font_size: float

    @property
    def centre_x(self) -> float:
        return self.x + self.width / 2


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


def find_text(pdf: bytes, anchor: str) -> TextHit:
    """The last occurrence of ``anchor`` (signature blocks sit at the end), searching pages from
    the last one back."""
    wanted = _norm(anchor)
    if not wanted:
        raise AnchorNotFound(anchor)
    try:
        reader = PdfReader(BytesIO(pdf))
        pages = list(reader.pages)
    except PYPDF_ERRORS as exc:  # pypdf raises many kinds on hostile input
        raise InvalidPdf(f"cannot read pages: {exc}", "không đọc được các trang.") from None
    for index in range(len(pages) - 1, -1, -1):
        hits: list[TextHit] = []

        def visit(
            text: str,
            cm: list[float],
            tm: list[float],
            font_dict: Any,
            font_size: float,
            hits: list[TextHit] = hits,
            index: int = index,
        ) -> None:
            norm = _norm(text)
            at = norm.find(wanted)
            if at < 0:
                return
            # the text matrix times the current transformation matrix gives page coordinates
            d, e, f = tm[3], tm[4], tm[5]
            ca, cb, cc, cd, ce, cf = cm
            x = e * ca + f * cc + ce
            y = e * cb + f * cd + cf
            size = font_size * (abs(d * cd) or 1.0)
            char_w = 0.62 * size  # capitals of a serif font, roughly
            hits.append(TextHit(index, x + at * char_w, y, len(wanted) * char_w, size))

        try:
            pages[index].extract_text(visitor_text=visit)
        except PYPDF_ERRORS as exc:
            raise InvalidPdf(
                f"cannot extract text of page {index + 1}: {exc}",
                f"không trích được chữ ở trang {index + 1}.",
            ) from None
        if hits:
            return hits[-1]
    raise AnchorNotFound(anchor)


def signature_box(hit: TextHit) -> Box:
    """The leader's signature box: centred under the position title, above the name."""
    width, height = SIGNATURE_SIZE
    top = hit.y - 8
    return (hit.centre_x - width / 2, top - height, hit.centre_x + width / 2, top)


def seal_box(signature: Box) -> Box:
    """The seal covers about the left third of the signature image (Decree 30, Annex I)."""
    x1, y1, _x2, y2 = signature
    third = (signature[2] - x1) / 3
    cy = (y1 + y2) / 2
    r = SEAL_DIAMETER / 2
    right = x1 + third
    return (right - SEAL_DIAMETER, cy - r, right, cy + r)


def attachment_box(page_width: float, page_height: float) -> Box:
    """Top right of page 1, 20 pt from the right edge, 6 pt from the top."""
    width, height = ATTACHMENT_SIZE
    return (page_width - 20 - width, page_height - 6 - height, page_width - 20, page_height - 6)


def parse_box(text: str) -> Box:
    """``"x1,y1,x2,y2"`` → box; x1<x2 and y1<y2."""
    try:
        x1, y1, x2, y2 = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError("box must be four numbers x1,y1,x2,y2") from None
    if not (x1 < x2 and y1 < y2):
        raise ValueError("box must have x1 < x2 and y1 < y2")
    return (x1, y1, x2, y2)
