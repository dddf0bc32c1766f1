"""Small helpers shared by the signing tests."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import IO, Any, cast

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from signing.validate import DocumentReport, verify_file


def verify(path: Path, roots: list[Any], *, online: bool = True) -> DocumentReport:
    return asyncio.run(verify_file(path, roots, online=online))


def pdfsig(path: Path) -> str:
    """poppler's independent check of every signature (its verdict text)."""
    assert shutil.which("pdfsig"), "poppler-utils (pdfsig) is required"
    done = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False)
    return done.stdout + done.stderr


def written(writer: IncrementalPdfFileWriter) -> bytes:
    """The bytes of the incremental update (pyHanko's ``write`` is not annotated)."""
    write = cast(Callable[[IO[bytes]], None], writer.write)
    out = BytesIO()
    write(out)
    return out.getvalue()


def add_page_content(writer: IncrementalPdfFileWriter, page: int, content: bytes) -> None:
    """Append a content stream to ``page`` (pyHanko's ``add_stream_to_page``, typed)."""
    add = cast(Callable[[int, generic.IndirectObject], None], writer.add_stream_to_page)
    add(page, writer.add_object(generic.StreamObject(stream_data=content)))
