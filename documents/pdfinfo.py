"""What pypdf tells about a PDF without changing it: page count and text (read only)."""

from __future__ import annotations

import asyncio
import logging
import struct
import zlib
from dataclasses import dataclass
from io import BytesIO

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from documents.errors import BadField

log = logging.getLogger(__name__)

UNREADABLE = (
    PyPdfError,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    RecursionError,
    zlib.error,
    struct.error,
)
"""How pypdf fails on a malformed file: its own errors, and the built-in ones its parser lets
through on broken objects, streams and cross-reference tables. Anything else (out of memory, an
OS error) is not the file's fault: logged and raised."""


@dataclass(frozen=True, slots=True)
class PdfInfo:
    page_count: int
    text: str
    """Text of the first pages (for search and previews), at most ``max_chars``."""


def _read(data: bytes, max_pages: int, max_chars: int) -> PdfInfo:
    if not data.startswith(b"%PDF-") and b"%PDF-" not in data[:1024]:
        raise BadField("main", "The main file is not a PDF.", "Tệp văn bản chính không phải PDF.")
    try:
        reader = PdfReader(BytesIO(data), strict=False)
        count = len(reader.pages)
        parts: list[str] = []
        for page in reader.pages[:max_pages]:
            try:
                parts.append(page.extract_text() or "")
            except UNREADABLE as exc:  # text is a convenience; a page without it is fine
                log.debug("no text from a page: %s", exc)
    except UNREADABLE as exc:
        raise BadField(
            "main", f"The PDF cannot be read: {exc}", "Tệp PDF bị hỏng, không đọc được."
        ) from None
    except Exception:
        log.exception("reading a PDF failed")
        raise
    return PdfInfo(count, "\n".join(parts)[:max_chars])


async def pdf_info(data: bytes, *, max_pages: int = 3, max_chars: int = 4000) -> PdfInfo:
    """Page count and leading text of ``data``; :class:`BadField` when it is not a readable PDF."""
    return await asyncio.to_thread(_read, data, max_pages, max_chars)
