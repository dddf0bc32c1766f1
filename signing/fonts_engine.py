"""The stamp font as a pyHanko font engine, read from memory (no file handle left open)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from pyhanko.pdf_utils.font.api import FontEngineFactory
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator

from signing.assets import STAMP_FONT


@functools.cache
def _font_bytes() -> bytes:
    return STAMP_FONT.read_bytes()


@dataclass(frozen=True)
class StampFont(FontEngineFactory):
    """DejaVu Serif at 1000 units per em, embedded as a subset; ``font_size`` in points."""

    font_size: int = 10

    def create_font_engine(self, writer: Any, obj_stream: Any = None) -> GlyphAccumulator:
        if obj_stream is None and writer.stream_xrefs:
            obj_stream = writer.prepare_object_stream()
        return GlyphAccumulator(
            writer=writer,
            font_handle=BytesIO(_font_bytes()),
            font_size=self.font_size,
            bcp47_lang_code="vi",
            obj_stream=obj_stream,
        )
