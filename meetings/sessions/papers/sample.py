"""Sample papers for tests, the demo and the benchmark: N pages of Vietnamese-looking text.

Made with pikepdf (no other PDF writer needed); ``image_bytes`` adds an incompressible image to
each page to reach realistic sizes (a scanned 200-page paper is ~20 MB).  Each page dictionary is
written next to its content, as reportlab and most producers do, which is what makes object
streams matter for the first page.
"""

from __future__ import annotations

import io
import os


def sample_pdf(pages: int, *, title: str = "Tờ trình", image_bytes: int = 0) -> bytes:
    import pikepdf

    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.Type1,
            BaseFont=pikepdf.Name.Helvetica,
            Encoding=pikepdf.Name.WinAnsiEncoding,
        )
    )
    heading = title.encode("latin-1", "replace").decode("latin-1")
    for n in range(1, pages + 1):
        resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        lines = [
            "BT /F1 20 Tf 72 760 Td (" + _esc(f"{heading} - Trang {n}") + ") Tj ET",
            f"BT /F1 11 Tf 72 730 Td (Noi dung ngan sach tinh nam 2027, muc {n}.) Tj ET",
        ]
        if n % 50 == 0:
            lines.append("BT /F1 11 Tf 72 710 Td (Tu khoa dac biet: thuy loi) Tj ET")
        if image_bytes:
            side = max(8, int((image_bytes / 3) ** 0.5))
            image = pikepdf.Stream(pdf, os.urandom(side * side * 3))
            image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
            image.Width, image.Height = side, side
            image.ColorSpace, image.BitsPerComponent = pikepdf.Name.DeviceRGB, 8
            resources.XObject = pikepdf.Dictionary(Im1=image)
            lines.append("q 200 0 0 200 72 300 cm /Im1 Do Q")
        page = pikepdf.Page(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Page,
                MediaBox=[0, 0, 595, 842],
                Resources=resources,
                Contents=pikepdf.Stream(pdf, "\n".join(lines).encode("latin-1")),
            )
        )
        pdf.pages.append(page)
    out = io.BytesIO()
    pdf.save(
        out,
        object_stream_mode=pikepdf.ObjectStreamMode.disable,
        compress_streams=False,
        linearize=False,
    )
    return out.getvalue()


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def encrypted_pdf() -> bytes:
    import pikepdf

    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(sample_pdf(1))) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(owner="o", user="u"))
    return out.getvalue()
