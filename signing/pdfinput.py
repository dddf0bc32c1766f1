"""Checking a PDF before anything is signed or validated: refuse what is not a PDF, encrypted,
truncated, malformed or hostile, with a clear error (never a pyHanko or pypdf traceback)."""

from __future__ import annotations

import os
import tempfile
from io import BytesIO
from pathlib import Path

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.errors import InvalidPdf

MAX_PDF_BYTES = 200 * 1024 * 1024
"""Largest PDF accepted (official documents are a few MB; scans of annexes tens of MB)."""


def read_pdf_file(path: Path, max_bytes: int = MAX_PDF_BYTES) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InvalidPdf(
                f"{path} is {size} bytes, more than {max_bytes}",
                f"tệp quá lớn ({size // (1024 * 1024)} MB).",
            )
        return path.read_bytes()
    except OSError as exc:
        raise InvalidPdf(f"cannot read {path}: {exc.strerror}", "không đọc được tệp.") from None


def _check_envelope(data: bytes) -> None:
    if b"%PDF-" not in data[:1024]:
        raise InvalidPdf("not a PDF file (no %PDF- header)", "đây không phải là tệp PDF.")
    if b"%%EOF" not in data[-2048:]:
        raise InvalidPdf("the PDF is truncated (no %%EOF at the end)", "tệp PDF bị cắt cụt.")


def _walk_pages(reader: PdfFileReader) -> int:
    root = reader.root
    pages = root["/Pages"]
    count = int(pages["/Count"])
    if count < 1:
        raise InvalidPdf("the PDF has no pages", "tệp PDF không có trang nào.")
    # resolving every page forces the page tree (where hostile nesting lives) to be read
    for index in range(count):
        page_ref, _ = reader.find_page_for_modification(index)  # type: ignore[no-untyped-call]
        _ = page_ref.get_object().get("/MediaBox")
    return count


def open_reader(data: bytes) -> PdfFileReader:
    """A pyHanko reader over ``data``, after the checks; for validation."""
    _check_envelope(data)
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        if reader.encrypted:
            raise InvalidPdf("the PDF is encrypted", "tệp PDF bị mã hoá (đặt mật khẩu).")
        _walk_pages(reader)
    except InvalidPdf:
        raise
    except RecursionError:
        raise InvalidPdf(
            "the PDF nests objects too deeply", "cấu trúc PDF lồng nhau quá sâu."
        ) from None
    except Exception as exc:  # every parser error of a hostile file ends here
        raise InvalidPdf(
            f"malformed PDF: {type(exc).__name__}: {exc}", "cấu trúc PDF bị hỏng."
        ) from None
    return reader


def open_for_signing(data: bytes) -> IncrementalPdfFileWriter:
    """An incremental writer over ``data`` (existing signatures stay intact), after the checks."""
    _check_envelope(data)
    try:
        writer = IncrementalPdfFileWriter(BytesIO(data), strict=False)
        if writer.prev.encrypted:
            raise InvalidPdf("the PDF is encrypted", "tệp PDF bị mã hoá (đặt mật khẩu).")
        _walk_pages(writer.prev)
    except InvalidPdf:
        raise
    except RecursionError:
        raise InvalidPdf(
            "the PDF nests objects too deeply", "cấu trúc PDF lồng nhau quá sâu."
        ) from None
    except Exception as exc:
        raise InvalidPdf(
            f"malformed PDF: {type(exc).__name__}: {exc}", "cấu trúc PDF bị hỏng."
        ) from None
    return writer


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and a rename,
    so that a failure never leaves a partial file at ``path``."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
