"""Render the signed page with pdftoppm and check the stamps are where Decree 30 puts them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from signing.anchor import Box
from signing.devpki import DevPki
from signing.pades import Level, SignOptions, sign_file
from signing.stamps import Role
from signing.tokens import TokenSession

pytestmark = [
    pytest.mark.hsm,
    pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils missing"),
]

PAGE_H = 841.89


def _render(pdf: Path, tmp: Path) -> Image.Image:
    # 72 dpi: one pixel per PDF point
    subprocess.run(
        ["pdftoppm", "-r", "72", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp / "p")], check=True
    )
    return Image.open(next(tmp.glob("p*.png"))).convert("RGB")


def _count(img: Image.Image, box: Box | None, colour: str) -> tuple[int, int]:
    """Pixels of ``colour`` inside and outside ``box`` (PDF coordinates)."""
    inside = outside = 0
    x1, y1, x2, y2 = box or (0, 0, 0, 0)
    px = img.load()
    assert px is not None
    for y in range(img.height):
        for x in range(img.width):
            r, g, b = px[x, y]  # type: ignore[misc]
            if colour == "blue":
                hit = b > 150 and r < 100 and g < 120
            else:
                hit = r > 170 and g < 90 and b < 90
            if not hit:
                continue
            pdf_y = PAGE_H - y
            if x1 - 2 <= x <= x2 + 2 and y1 - 2 <= pdf_y <= y2 + 2:
                inside += 1
            else:
                outside += 1
    return inside, outside


def test_leader_signature_and_seal_are_placed(
    pki: DevPki, token: TokenSession, sample_pdf: Path, tmp_path: Path
) -> None:
    leader, sealed = tmp_path / "leader.pdf", tmp_path / "sealed.pdf"
    r1 = sign_file(sample_pdf, leader, token.signer("leader"), SignOptions(role=Role.LEADER))
    r2 = sign_file(leader, sealed, token.signer("agency"), SignOptions(role=Role.AGENCY))
    assert r1.box is not None and r2.box is not None
    # signature between "CHỦ TỊCH" (baseline 484) and the name (baseline 390)
    assert r1.box[3] < 484 and r1.box[1] > 390 + 10
    # the seal's right edge covers the left third of the signature image
    third = r1.box[0] + (r1.box[2] - r1.box[0]) / 3
    assert abs(r2.box[2] - third) < 1 and r2.box[0] < r1.box[0]

    img = _render(sealed, tmp_path)
    blue_in, blue_out = _count(img, r1.box, "blue")
    red_in, red_out = _count(img, r2.box, "red")
    assert blue_in > 200 and blue_out == 0
    assert red_in > 500 and red_out == 0


def test_attachment_stamp_is_top_right_with_text(
    pki: DevPki, token: TokenSession, sample_pdf: Path, tmp_path: Path
) -> None:
    out = tmp_path / "phu-luc.pdf"
    result = sign_file(
        sample_pdf,
        out,
        token.signer("agency"),
        SignOptions(Level.B_T, pki.tsa_url, Role.ATTACHMENT, number="45/UBND-VP"),
    )
    assert result.stamp_text is not None
    text = subprocess.run(
        [
            "pdftotext",
            "-f",
            "1",
            "-l",
            "1",
            "-x",
            "380",
            "-y",
            "0",
            "-W",
            "215",
            "-H",
            "50",
            str(out),
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "45/UBND-VP" in text
    assert result.stamp_text.split("\n")[1] in text  # 2026-…+07:00
    # no image: neither blue nor red pixels anywhere
    img = _render(out, tmp_path)
    assert _count(img, None, "blue") == (0, 0)
    assert _count(img, None, "red") == (0, 0)
    # 10 pt: the words' boxes are about 11.6 pt tall in poppler's bbox output
    bbox = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", str(out), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in bbox.splitlines() if "45/UBND-VP" in line)
    y_min = float(line.split('yMin="')[1].split('"')[0])
    y_max = float(line.split('yMax="')[1].split('"')[0])
    assert 10.5 < y_max - y_min < 12.5
    assert y_max < 50  # top of the page


def test_explicit_box_overrides_anchor(
    token: TokenSession, sample_pdf: Path, tmp_path: Path
) -> None:
    from signing.pades import Placement

    out = tmp_path / "box.pdf"
    box = (60.0, 100.0, 210.0, 160.0)
    result = sign_file(
        sample_pdf,
        out,
        token.signer("leader"),
        SignOptions(role=Role.LEADER, placement=Placement(0, box)),
    )
    assert result.box == box
    blue_in, blue_out = _count(_render(out, tmp_path), box, "blue")
    assert blue_in > 200 and blue_out == 0
