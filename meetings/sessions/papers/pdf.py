"""PDF work for papers, all blocking (run it in an executor): check, rewrite, mark.

* **Check** with pypdf: a file that does not parse, has no pages or is encrypted is refused with
  the reason; the page count and each page's text (for search) come out of the same pass.
* **Rewrite** with pikepdf (qpdf) into object streams, *not* linearized: PDF.js reads every page
  dictionary before page 1, and object streams put them in one or two 64 KiB chunks instead of
  spreading them over the whole file (DESIGN.md, "Tablets": page 1 of a 200-page paper after
  ~300 kB instead of ~10 MB).  A signed file must never be rewritten (it would break the
  signature), so signing, when it comes, happens after this step.
* **Mark** a confidential paper: every page carries the reader's name, agency and the time, burnt
  into the content (a diagonal line and a footer, in the DejaVu font `signing` ships, with the
  Vietnamese diacritics), so a leaked copy names its reader.
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from meetings.sessions.papers.errors import PaperRefused

log = logging.getLogger(__name__)

MAX_TEXT_PER_PAGE = 20_000
SIGNATURE_MARK = b"/ByteRange"
"""Every PDF signature dictionary carries one; a file holding it is treated as signed."""

MALFORMED = (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError)
"""What pypdf raises on a file it cannot make sense of: its own errors, and the built-in ones its
parser lets through on hostile structure.  Anything else is not the file's fault and propagates."""


@dataclass(frozen=True, slots=True)
class CheckedPdf:
    """A PDF that passed the checks, as it will be stored."""

    data: bytes
    """The rewritten file (or the original when it could not be improved)."""
    pages: int
    texts: list[str]
    sha256: str
    original_sha256: str
    signed: bool = False
    """The upload carries digital signatures: stored byte for byte (a rewrite would break them)."""


def check_and_prepare(data: bytes) -> CheckedPdf:
    """Check ``data`` and prepare it for fast reading; :class:`PaperRefused` says why not."""
    if not data.startswith(b"%PDF-"):
        raise PaperRefused("not_pdf", "The file is not a PDF.", "Tệp không phải định dạng PDF.")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise PaperRefused(
                "encrypted",
                "The PDF is encrypted; upload it without a password.",
                "Tệp PDF đã bị mã hoá (đặt mật khẩu); hãy tải lên bản không mã hoá.",
            )
        pages = len(reader.pages)
        texts = []
        for page in reader.pages:
            try:
                texts.append((page.extract_text() or "")[:MAX_TEXT_PER_PAGE])
            except MALFORMED as exc:  # a page whose text cannot be read is still a page
                log.info("page text not extracted: %s", exc.__class__.__name__)
                texts.append("")
    except PaperRefused:
        raise
    except MALFORMED as exc:
        raise PaperRefused(
            "malformed",
            f"The PDF cannot be read: {exc.__class__.__name__}: {str(exc)[:200]}",
            "Tệp PDF bị hỏng, không đọc được.",
        ) from None
    if pages == 0:
        raise PaperRefused("no_pages", "The PDF has no pages.", "Tệp PDF không có trang nào.")
    signed = _has_signatures(reader, data)
    stored = data if signed else rewrite_with_object_streams(data)
    return CheckedPdf(
        data=stored,
        pages=pages,
        texts=texts,
        sha256=hashlib.sha256(stored).hexdigest(),
        original_sha256=hashlib.sha256(data).hexdigest(),
        signed=signed,
    )


def _has_signatures(reader: PdfReader, data: bytes) -> bool:
    """True when a signature field of the document holds a signature value.

    A signed file must be kept byte for byte, so doubt counts as signed or refuses: a form that
    pypdf cannot read is refused (never taken for "not signed" and rewritten, which would destroy
    a signature it failed to see), and so is a file with a signature's byte range but no readable
    signature field."""
    try:
        fields = reader.get_fields() or {}
        signed = any(f.get("/FT") == "/Sig" and f.get("/V") is not None for f in fields.values())
    except MALFORMED as exc:
        log.info("signature fields unreadable: %s: %s", exc.__class__.__name__, str(exc)[:200])
        raise _unreadable_signatures() from None
    if not signed and SIGNATURE_MARK in data:
        raise _unreadable_signatures()
    return signed


def _unreadable_signatures() -> PaperRefused:
    return PaperRefused(
        "signature_unreadable",
        "The PDF's signature fields cannot be read; the file was neither stored nor changed.",
        "Không đọc được chữ ký số trong tệp PDF; tệp không được lưu và không bị thay đổi. "
        "Hãy kiểm tra lại bản đã ký.",
    )


def rewrite_with_object_streams(data: bytes) -> bytes:
    """The same document with its objects packed into object streams (not linearized)."""
    import pikepdf  # a dependency (pyproject.toml), imported here to keep start-up light

    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            out = io.BytesIO()
            pdf.save(
                out,
                object_stream_mode=pikepdf.ObjectStreamMode.generate,
                compress_streams=True,
                linearize=False,
            )
            return out.getvalue()
    except pikepdf.PdfError as exc:  # qpdf's own refusal; anything else is not the file's fault
        raise PaperRefused(
            "malformed",
            f"The PDF cannot be rewritten: {exc.__class__.__name__}",
            "Tệp PDF bị hỏng, không xử lý được.",
        ) from None


def _overlay_pdf(lines: list[str], sizes: list[tuple[float, float]]) -> bytes:
    """One overlay page per page size: the reader's line at the foot and across the middle, in
    the DejaVu font ``signing`` ships (Vietnamese with its diacritics), embedded as a subset."""
    from io import BytesIO

    from pyhanko.pdf_utils import generic as _generic
    from pyhanko.pdf_utils import writer as _writer
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulator

    from signing.assets import STAMP_FONT

    generic: Any = _generic
    pyhanko_writer: Any = _writer
    writer: Any = pyhanko_writer.PdfFileWriter(stream_xrefs=False)
    with STAMP_FONT.open("rb") as fh:
        font: Any = GlyphAccumulator(writer, BytesIO(fh.read()), font_size=10, bcp47_lang_code="vi")
    resources = generic.DictionaryObject(
        {
            generic.pdf_name("/Font"): generic.DictionaryObject(
                {generic.pdf_name("/F1"): font.as_resource()}
            )
        }
    )
    footer = font.shape(" · ".join(lines))
    big = font.shape(lines[0])
    for width, height in sizes:
        ops = BytesIO()
        ops.write(b"q 0.8 0.1 0.1 rg\n")
        ops.write(b"BT /F1 8 Tf 20 12 Td " + footer.graphics_ops + b" ET\n")
        size = min(30.0, 0.9 * (width**2 + height**2) ** 0.5 / max(1.0, big.x_advance))
        ops.write(b"0.85 0.25 0.25 rg\n")
        start = (width - big.x_advance * size * 0.7071) / 2
        ops.write(
            f"BT /F1 {size:.1f} Tf 0.7071 0.7071 -0.7071 0.7071 {start:.1f} "
            f"{height / 2 - big.x_advance * size * 0.35:.1f} Tm ".encode()
            + big.graphics_ops
            + b" ET\nQ\n"
        )
        stream = generic.StreamObject(stream_data=ops.getvalue())
        page = pyhanko_writer.PageObject(
            writer.add_object(stream), (0, 0, width, height), resources
        )
        writer.insert_page(page)
    font.prepare_write()
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def mark_pages(source: Path, lines: list[str]) -> bytes:
    """``source`` with ``lines`` (reader, agency, time) burnt into every page."""
    import pikepdf

    with pikepdf.open(source) as pdf:
        sizes: list[tuple[float, float]] = []
        for page in pdf.pages:
            box = page.mediabox
            size = (float(box[2]) - float(box[0]), float(box[3]) - float(box[1]))
            if size not in sizes:
                sizes.append(size)
        with pikepdf.open(io.BytesIO(_overlay_pdf(lines, sizes))) as overlay:
            local = [pdf.copy_foreign(p.obj) for p in overlay.pages]
            forms = [pikepdf.Page(o).as_form_xobject() for o in local]
            for page in pdf.pages:
                box = page.mediabox
                size = (float(box[2]) - float(box[0]), float(box[3]) - float(box[1]))
                form = pdf.make_indirect(forms[sizes.index(size)])
                page.add_overlay(form, pikepdf.Rectangle(*[float(v) for v in box]))
        out = io.BytesIO()
        pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate, linearize=False)
        return out.getvalue()
