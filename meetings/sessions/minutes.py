"""The minutes (biên bản kỳ họp) as a PDF: attendance of each sitting, every vote's result, the
conclusions (kết luận).  Vietnamese text through pyHanko's OpenType embedding and the font that
``signing`` ships, so the file is ready to be signed by the secretariat through ``signing``
(signing must come last: a signed file is never rewritten).
"""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta, timezone
from io import BytesIO
from typing import Any

from pyhanko.pdf_utils import generic as _generic
from pyhanko.pdf_utils import writer as _writer
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator

from server.textfmt import format_datetime, format_share
from signing.assets import STAMP_FONT

generic: Any = _generic
PdfFileWriter: Any = _writer.PdfFileWriter
PageObject: Any = _writer.PageObject
A4 = (595.28, 841.89)
VN = timezone(timedelta(hours=7))
CHOICE_VI = {"yes": "Đồng ý", "no": "Không đồng ý", "abstain": "Không biểu quyết"}
THRESHOLD_VI = {
    "majority_all": "quá nửa tổng số đại biểu",
    "two_thirds_all": "hai phần ba tổng số đại biểu",
}


def minutes_lines(data: dict[str, Any]) -> list[tuple[int, str]]:
    """``(size, text)`` lines of the minutes, before wrapping."""
    s = data["session"]
    now = datetime.now(UTC).astimezone(VN)
    lines: list[tuple[int, str]] = [
        (12, "HỘI ĐỒNG NHÂN DÂN"),
        (12, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM - Độc lập - Tự do - Hạnh phúc"),
        (16, "BIÊN BẢN KỲ HỌP"),
        (13, s["title"]),
        (11, f"Địa điểm: {s['place'] or '—'}; lập lúc {format_datetime(now)}."),
        (11, ""),
        (13, "I. Điểm danh"),
    ]
    for sitting in data["sittings"]:
        q = sitting["quorum"]
        if not sitting.get("started", True):  # nobody could be present yet: no quorum verdict
            lines.append((11, f"{sitting['title']}: phiên họp chưa bắt đầu."))
            continue
        lines.append(
            (
                11,
                f"{sitting['title']}: có mặt {q['present']}/{q['members_total']} đại biểu "
                f"(hội trường {q['hall']}, trực tuyến {q['online']}), vắng {q['absent']}; "
                + ("đủ số đại biểu theo quy định." if q["reached"] else "không đủ số đại biểu."),
            )
        )
        for name, reason in sitting["absent"]:
            lines.append((11, f"    Vắng: {name} — lý do: {reason or 'không rõ'}"))
    lines += [(11, ""), (13, "II. Kết quả biểu quyết")]
    if not data["polls"]:
        lines.append((11, "Không có biểu quyết nào."))
    for n, p in enumerate(data["polls"], start=1):
        how = "bỏ phiếu kín" if p["secret"] else "biểu quyết công khai"
        if p.get("kind") == "opinion":
            how += ", lấy ý kiến ngoài phiên họp"
        total = p["members_total"] or 1
        lines.append((11, f"{n}. {p['title']} ({how}; ngưỡng: {THRESHOLD_VI[p['threshold']]})"))
        lines.append(
            (
                11,
                "    "
                + "; ".join(
                    f"{CHOICE_VI[c]}: {p[c]} ({format_share(p[c], total)})"
                    for c in ("yes", "no", "abstain")
                )
                + f"; tổng số đại biểu: {p['members_total']}; tham gia: {p['voted']}.",
            )
        )
        lines.append((11, "    Kết quả: " + ("THÔNG QUA." if p["passed"] else "KHÔNG THÔNG QUA.")))
    lines += [(11, ""), (13, "III. Kết luận")]
    for paragraph in (data["conclusions"] or "(chưa có kết luận)").splitlines():
        lines.append((11, paragraph))
    lines += [(11, ""), (12, "THƯ KÝ KỲ HỌP"), (12, "CHỦ TỌA KỲ HỌP")]
    return lines


def render_minutes(data: dict[str, Any]) -> bytes:
    """The minutes PDF (blocking: run it in an executor)."""
    writer = PdfFileWriter(stream_xrefs=False)
    with STAMP_FONT.open("rb") as fh:
        font: Any = GlyphAccumulator(writer, BytesIO(fh.read()), font_size=11, bcp47_lang_code="vi")
    resources = generic.DictionaryObject(
        {
            generic.pdf_name("/Font"): generic.DictionaryObject(
                {generic.pdf_name("/F1"): font.as_resource()}
            )
        }
    )
    pages: list[bytes] = []
    ops = BytesIO()
    y = 790.0
    for size, text in minutes_lines(data):
        width = max(20, int(95 * 11 / size))
        for part in textwrap.wrap(text, width=width, subsequent_indent="    ") or [""]:
            if y < 60:
                pages.append(ops.getvalue())
                ops, y = BytesIO(), 790.0
            if part:
                shaped = font.shape(part)
                ops.write(f"BT /F1 {size:g} Tf 60 {y:.2f} Td ".encode())
                ops.write(shaped.graphics_ops)
                ops.write(b" ET\n")
            y -= size * 1.45
    pages.append(ops.getvalue())
    for content in pages:
        stream = generic.StreamObject(stream_data=content)
        writer.insert_page(PageObject(writer.add_object(stream), (0, 0, *A4), resources))
    font.prepare_write()
    out = BytesIO()
    writer.write(out)
    return out.getvalue()
