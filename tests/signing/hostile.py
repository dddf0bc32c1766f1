"""Hostile PDFs for the resource limits (:class:`signing.pdfinput.PdfLimits`), built as raw bytes so
that nothing repairs them on the way: a flat ``/Kids`` of many pages, a deeply nested page tree, a
``/Kids`` cycle, a page tree sharing its subtrees (exponentially many pages in a few objects), many
objects and many incremental updates."""

from __future__ import annotations

PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>"


def raw_pdf(objects: list[bytes], updates: int = 0) -> bytes:
    """A PDF whose object ``i + 1`` is ``objects[i]`` (object 1 the catalog), with a classic
    cross-reference table; ``updates`` incremental updates each rewrite the catalog."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    size = len(objects) + 1
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    for _ in range(updates):
        catalog = len(out)
        out += b"1 0 obj\n" + objects[0] + b"\nendobj\n"
        previous, xref = xref, len(out)
        out += b"xref\n0 1\n0000000000 65535 f \n1 1\n%010d 00000 n \n" % catalog
        out += b"trailer\n<< /Size %d /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
            size,
            previous,
            xref,
        )
    return bytes(out)


CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"


def flat(pages: int, declared: int | None = None) -> bytes:
    """One ``/Pages`` node whose ``/Kids`` lists every page (``/Count`` = ``declared``)."""
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(pages))
    count = pages if declared is None else declared
    tree = b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % count
    return raw_pdf([CATALOG, tree, *[PAGE] * pages])


def deep(levels: int) -> bytes:
    """A chain of ``levels`` ``/Pages`` nodes, one page at the bottom."""
    nodes = [b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (3 + i) for i in range(levels)]
    page = b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 10 10] >>" % (2 + levels - 1)
    return raw_pdf([CATALOG, *nodes, page])


def cycle() -> bytes:
    """``/Pages`` 2 → 3 → 2: a page tree that never ends."""
    return raw_pdf(
        [
            CATALOG,
            b"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
            b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>",
            PAGE,
        ]
    )


def shared(levels: int) -> bytes:
    """Each node lists the next one twice: 2**levels pages from ``levels`` objects (declared
    /Count 1, which is enough for a check that only looks up the first page)."""
    nodes = [
        b"<< /Type /Pages /Kids [%d 0 R %d 0 R] /Count 1 >>" % (3 + i, 3 + i) for i in range(levels)
    ]
    return raw_pdf([CATALOG, *nodes, PAGE])


def many_objects(count: int) -> bytes:
    """One page and ``count`` unused objects."""
    tree = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    return raw_pdf([CATALOG, tree, PAGE, *[b"null"] * count])


def many_updates(count: int) -> bytes:
    """One page, then ``count`` incremental updates."""
    tree = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    return raw_pdf([CATALOG, tree, PAGE], updates=count)
