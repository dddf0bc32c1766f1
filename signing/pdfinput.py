"""Checking a PDF before anything is signed or validated: refuse what is not a PDF, encrypted,
truncated, malformed or hostile, with a clear error (never a pyHanko or pypdf traceback)."""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any, cast

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.errors import InvalidPdf, SigningError, SigningErrorCode
from signing.library_errors import PDF_READ_ERRORS

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


@dataclass(frozen=True, slots=True)
class PdfLimits:
    """How big a PDF's structure may be before it is refused (:class:`PdfTooComplex`): each bounds
    work that grows with it, so that checking a small hostile file stays cheap."""

    max_pages: int = 10_000
    """Official documents with annexes have hundreds of pages; a gazette a few thousand."""
    max_objects: int = 500_000
    """Objects in all cross-reference sections (a 1,000-page scan has tens of thousands)."""
    max_depth: int = 64
    """Levels of the page tree (writers balance it: 10,000 pages fit in 5 levels)."""
    max_revisions: int = 1_000
    """Incremental updates (each signature adds one or two)."""


LIMITS = PdfLimits()
"""The limits :func:`open_reader` and :func:`open_for_signing` apply (tests may lower them)."""


class PdfTooComplex(InvalidPdf):
    """The PDF is over one of the :class:`PdfLimits` (too many pages, objects, levels…)."""

    code = SigningErrorCode.PDF_TOO_COMPLEX
    title = "PDF too complex"

    def __init__(self, what: str, what_vi: str, found: int, limit: int) -> None:
        SigningError.__init__(
            self,
            f"the PDF has too many {what} ({found}, at most {limit})",
            detail_vi=f"Tệp PDF có quá nhiều {what_vi} ({found}, tối đa {limit}); "
            "máy chủ không kiểm tra tệp này.",
            extra={"limit": what, "found": found, "max": limit},
        )


def _check_size(reader: PdfFileReader, limits: PdfLimits) -> None:
    xrefs = reader.xrefs
    revisions = int(xrefs.total_revisions)
    if revisions > limits.max_revisions:
        raise PdfTooComplex("revisions", "lần cập nhật", revisions, limits.max_revisions)
    objects = sum(len(xrefs.explicit_refs_in_revision(r)) for r in range(revisions))
    if objects > limits.max_objects:
        raise PdfTooComplex("objects", "đối tượng", objects, limits.max_objects)


def _malformed_tree(reason: str) -> InvalidPdf:
    return InvalidPdf(f"malformed page tree: {reason}", "cây trang của tệp PDF bị hỏng.")


def _resolve(ref: generic.IndirectObject) -> Any:
    return ref.get_object()  # type: ignore[no-untyped-call]


def _kid_refs(node: Any) -> list[generic.IndirectObject]:
    kids = node["/Kids"]
    if isinstance(kids, generic.IndirectObject):
        kids = _resolve(kids)
    if not isinstance(kids, generic.ArrayObject):
        raise _malformed_tree("/Kids is not an array")
    refs = list(kids)
    if not all(isinstance(k, generic.IndirectObject) for k in refs):
        raise _malformed_tree("page tree node children must be indirect objects")
    return cast(list[generic.IndirectObject], refs)


def _walk_pages(reader: PdfFileReader, limits: PdfLimits) -> int:
    """Visit every node of the page tree once (linear in its size, iterative, so neither a flat
    ``/Kids`` of many pages nor deep nesting costs more than its size), within ``limits``.

    pyHanko later finds a page by descending with the declared ``/Count`` of each node, so a node
    must hold at least the pages it declares; a node met twice (a cycle, or a subtree shared to
    multiply the pages) is refused."""
    root_ref = reader.root.raw_get("/Pages")
    if not isinstance(root_ref, generic.IndirectObject):
        raise _malformed_tree("/Pages is not an indirect object")
    declared = int(_resolve(root_ref)["/Count"])
    if declared < 1:
        raise InvalidPdf("the PDF has no pages", "tệp PDF không có trang nào.")
    if declared > limits.max_pages:
        raise PdfTooComplex("pages", "trang", declared, limits.max_pages)
    seen = {root_ref.reference}
    pages = 0
    # ("enter", node ref, depth) pushes its kids; ("leave", node, pages before it) checks /Count
    stack: list[tuple[bool, generic.IndirectObject, int]] = [(True, root_ref, 0)]
    starts: list[int] = []
    while stack:
        enter, ref, depth = stack.pop()
        node = _resolve(ref)
        if not enter:
            if pages - starts.pop() < int(node["/Count"]):
                raise _malformed_tree("a node has fewer pages than its /Count")
            continue
        if depth > limits.max_depth:
            raise PdfTooComplex("page tree levels", "tầng lồng nhau", depth, limits.max_depth)
        starts.append(pages)
        stack.append((False, ref, depth))
        for kid_ref in reversed(_kid_refs(node)):
            kid = _resolve(kid_ref)
            kind = kid["/Type"]
            if kind == "/Pages":
                if kid_ref.reference in seen:
                    raise _malformed_tree(
                        "a page tree node appears twice (a cycle or shared subtree)"
                    )
                seen.add(kid_ref.reference)
                stack.append((True, kid_ref, depth + 1))
            elif kind == "/Page":
                pages += 1
                if pages > limits.max_pages:
                    raise PdfTooComplex("pages", "trang", pages, limits.max_pages)
                _ = kid.get("/MediaBox")
    return declared


def _check_structure(reader: PdfFileReader, limits: PdfLimits | None) -> None:
    """Refuse an encrypted file, or one over ``limits``, before pyHanko works on it."""
    if reader.encrypted:
        raise InvalidPdf("the PDF is encrypted", "tệp PDF bị mã hoá (đặt mật khẩu).")
    limits = limits or LIMITS
    _check_size(reader, limits)
    _walk_pages(reader, limits)


def open_reader(data: bytes, limits: PdfLimits | None = None) -> PdfFileReader:
    """A pyHanko reader over ``data``, after the checks; for validation."""
    _check_envelope(data)
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        _check_structure(reader, limits)
    except InvalidPdf:
        raise
    except RecursionError:
        raise InvalidPdf(
            "the PDF nests objects too deeply", "cấu trúc PDF lồng nhau quá sâu."
        ) from None
    except PDF_READ_ERRORS as exc:  # every parser error of a hostile file ends here
        raise InvalidPdf(
            f"malformed PDF: {type(exc).__name__}: {exc}", "cấu trúc PDF bị hỏng."
        ) from None
    return reader


def open_for_signing(data: bytes, limits: PdfLimits | None = None) -> IncrementalPdfFileWriter:
    """An incremental writer over ``data`` (existing signatures stay intact), after the checks."""
    _check_envelope(data)
    try:
        writer = IncrementalPdfFileWriter(BytesIO(data), strict=False)
        _check_structure(writer.prev, limits)
    except InvalidPdf:
        raise
    except RecursionError:
        raise InvalidPdf(
            "the PDF nests objects too deeply", "cấu trúc PDF lồng nhau quá sâu."
        ) from None
    except PDF_READ_ERRORS as exc:
        raise InvalidPdf(
            f"malformed PDF: {type(exc).__name__}: {exc}", "cấu trúc PDF bị hỏng."
        ) from None
    return writer
