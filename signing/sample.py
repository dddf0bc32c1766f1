"""A sample administrative document (Quyết định) laid out as Decree 30 draws it, for the demo,
the tests and the benchmark: number/notation top left, the signature block bottom right with the
position title (``CHỦ TỊCH``) above the space for the signature and the signer's name below it.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from pyhanko.pdf_utils import generic as _generic
from pyhanko.pdf_utils import writer as _writer
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator

from signing.fonts_engine import _font_bytes

# pyHanko's writer API is untyped; seen through Any here rather than ignore on every line
generic: Any = _generic
PdfFileWriter: Any = _writer.PdfFileWriter
PageObject: Any = _writer.PageObject

A4 = (595.28, 841.89)


@dataclass(frozen=True, slots=True)
class Line:
    x: float
    y: float
    size: float
    text: str
    centre: bool = False
    """``x`` is the centre of the line rather than its start."""


def sample_lines(number: str = "123/QĐ-UBND", title: str = "CHỦ TỊCH") -> list[Line]:
    """The lines of the sample decision; the signature block is centred on x=430."""
    lines = [
        Line(150, 775, 12, "ỦY BAN NHÂN DÂN", centre=True),
        Line(150, 759, 12, "TỈNH DEMO", centre=True),
        Line(150, 735, 12, f"Số: {number}", centre=True),
        Line(420, 775, 12, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", centre=True),
        Line(420, 759, 12, "Độc lập - Tự do - Hạnh phúc", centre=True),
        Line(420, 735, 12, "Tỉnh Demo, ngày 23 tháng 11 năm 2026", centre=True),
        Line(297, 700, 14, "QUYẾT ĐỊNH", centre=True),
        Line(297, 682, 13, "Về việc ban hành quy chế phối hợp liên thông văn bản", centre=True),
        Line(80, 640, 13, "Điều 1. Ban hành kèm theo Quyết định này quy chế phối hợp."),
        Line(80, 620, 13, "Điều 2. Quyết định có hiệu lực kể từ ngày ký."),
        Line(80, 600, 13, "Điều 3. Chánh Văn phòng và các sở, ngành chịu trách nhiệm thi hành."),
        Line(430, 500, 13, "TM. ỦY BAN NHÂN DÂN", centre=True),
        Line(430, 484, 13, title, centre=True),
        Line(430, 390, 13, "Nguyễn Văn An", centre=True),
    ]
    return lines


def make_sample_pdf(
    path: Path | None = None,
    *,
    number: str = "123/QĐ-UBND",
    title: str = "CHỦ TỊCH",
    pages: int = 1,
    padding_kb: int = 0,
) -> bytes:
    """Write (if ``path``) and return a sample decision PDF; ``pages`` > 1 adds filler pages
    before the signature page, ``padding_kb`` adds an uncompressed filler stream (for benches)."""
    writer = PdfFileWriter(stream_xrefs=False)
    font: Any = GlyphAccumulator(writer, BytesIO(_font_bytes()), font_size=13, bcp47_lang_code="vi")
    resources = generic.DictionaryObject(
        {
            generic.pdf_name("/Font"): generic.DictionaryObject(
                {generic.pdf_name("/F1"): font.as_resource()}
            )
        }
    )

    def page_of(lines: list[Line]) -> None:
        ops = BytesIO()
        for line in lines:
            shaped = font.shape(line.text)
            x = line.x - shaped.x_advance * line.size / 2 if line.centre else line.x
            ops.write(f"BT /F1 {line.size:g} Tf {x:.2f} {line.y:.2f} Td ".encode())
            ops.write(shaped.graphics_ops)
            ops.write(b" ET\n")
        stream = generic.StreamObject(stream_data=ops.getvalue())
        writer.insert_page(PageObject(writer.add_object(stream), (0, 0, *A4), resources))

    for i in range(pages - 1):
        page_of(
            [Line(80, 780 - 20 * k, 13, f"Trang {i + 1}: nội dung phụ lục {k}.") for k in range(30)]
        )
    page_of(sample_lines(number, title))
    if padding_kb:
        filler = generic.StreamObject(stream_data=bytes(range(256)) * (4 * padding_kb))
        writer.root[generic.pdf_name("/LienThongPadding")] = writer.add_object(filler)
    font.prepare_write()
    out = BytesIO()
    writer.write(out)
    data = out.getvalue()
    if path is not None:
        path.write_bytes(data)
    return data
