"""Signature appearances as Decree 30/2020/NĐ-CP Annex I draws them.

* leader (người có thẩm quyền): the blue signature image between the position title and the name;
* agency (cơ quan): the red seal image over the left third of the leader's image;
* attachment (phụ lục, văn bản kèm theo): no image; the number/notation and the signing time in
  ISO 8601 with ``+07:00``, serif 10 pt, black, top right of page 1.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from pathlib import Path

from pyhanko.pdf_utils import layout
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.stamp import StaticStampStyle, TextStampStyle
from pyhanko.stamp.base import BaseStampStyle

from signing.assets import write_demo_images
from signing.errors import SigningError
from signing.fonts_engine import StampFont

VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")


class Role(enum.StrEnum):
    """What the signature stands for, which fixes its appearance."""

    LEADER = "leader"
    AGENCY = "agency"
    ATTACHMENT = "attachment"
    INVISIBLE = "invisible"
    """No appearance (receipts, certified copies)."""


def iso_vietnam(moment: dt.datetime) -> str:
    """``2026-11-23T09:15:02+07:00``: strftime's ``%z`` gives ``+0700``, so format it ourselves."""
    local = moment.astimezone(VIETNAM).replace(microsecond=0)
    return local.strftime("%Y-%m-%dT%H:%M:%S") + "+07:00"


@dataclass(frozen=True, slots=True)
class StampText:
    """The text of the attachment stamp."""

    number: str
    """Số, ký hiệu văn bản, e.g. ``123/UBND-VP``."""
    signed_at: dt.datetime

    def render(self) -> str:
        return f"{self.number}\n{iso_vietnam(self.signed_at)}"


def _image(path: Path) -> PdfImage:
    try:
        from PIL import Image

        with Image.open(path) as img:
            img.load()
            return PdfImage(img.copy())
    except (OSError, ValueError) as exc:
        raise SigningError(
            f"cannot read stamp image {path}: {exc}",
            detail_vi=f"Không đọc được ảnh chữ ký/con dấu {path}.",
        ) from None


def default_image(role: Role) -> Path:
    """The demo image for a role: shipped in ``signing/assets``; drawn into a temporary
    directory if the package was installed without them (never written into the package)."""
    shipped = Path(__file__).parent / "assets"
    signature, seal = shipped / "signature.png", shipped / "seal.png"
    if not signature.exists() or not seal.exists():
        import tempfile

        signature, seal = write_demo_images(Path(tempfile.gettempdir()) / "lienthong-demo-images")
    return seal if role is Role.AGENCY else signature


def image_style(image: Path) -> BaseStampStyle:
    """An image-only stamp, opaque, no border, the image filling the box."""
    return StaticStampStyle(
        background=_image(image),
        background_opacity=1.0,
        border_width=0,
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins(0, 0, 0, 0),
            inner_content_scaling=layout.InnerScaling.SHRINK_TO_FIT,
        ),
    )


def text_style() -> BaseStampStyle:
    """The attachment stamp: serif 10 pt, black, no border, no background."""
    return TextStampStyle(
        stamp_text="%(stamp)s",
        text_box_style=TextBoxStyle(font=StampFont(font_size=10), leading=12),
        border_width=0,
        background=None,
        inner_content_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MAX,
            y_align=layout.AxisAlignment.ALIGN_MAX,
            margins=layout.Margins(1, 1, 1, 1),
            # never shrink: Decree 30 fixes the size at 10 pt
            inner_content_scaling=layout.InnerScaling.NO_SCALING,
        ),
    )
