"""Files shipped with the package (the stamp font) and demo images drawn by code.

The demo signature (blue scribble) and seal (red circle with the agency's name) are transparent
PNGs, as Decree 30 asks of the real ones; they stand in for scans in the demo and the tests.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONTS_DIR = Path(__file__).parent / "fonts"
STAMP_FONT = FONTS_DIR / "DejaVuSerif-1000upm.ttf"
"""Serif font with full Vietnamese coverage, rescaled to 1000 units per em (see LICENSE-DejaVu)."""

SIGNATURE_BLUE = (20, 40, 200)
SEAL_RED = (220, 20, 30)


def draw_signature(size: tuple[int, int] = (600, 240)) -> Image.Image:
    """A blue handwritten-looking scribble on a transparent background."""
    width, height = size
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    points = []
    for i in range(200):
        t = i / 199
        x = width * (0.08 + 0.84 * t)
        y = height * (0.5 + 0.28 * math.sin(t * 5 * math.pi) * (1 - 0.5 * t))
        points.append((x, y))
    draw.line(points, fill=(*SIGNATURE_BLUE, 255), width=max(4, height // 30), joint="curve")
    draw.line(
        [(width * 0.15, height * 0.8), (width * 0.9, height * 0.7)],
        fill=(*SIGNATURE_BLUE, 255),
        width=max(3, height // 40),
    )
    return image


def draw_seal(text: str = "UBND TỈNH DEMO", diameter: int = 480) -> Image.Image:
    """A red round seal: two rings, a star and the agency's name, transparent around it."""
    image = Image.new("RGBA", (diameter, diameter), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    red = (*SEAL_RED, 255)
    c = diameter / 2
    ring = max(6, diameter // 40)
    draw.ellipse((ring, ring, diameter - ring, diameter - ring), outline=red, width=ring)
    inner = diameter * 0.18
    draw.ellipse((inner, inner, diameter - inner, diameter - inner), outline=red, width=ring // 2)
    star = []
    for k in range(10):
        radius = diameter * (0.2 if k % 2 == 0 else 0.08)
        angle = -math.pi / 2 + k * math.pi / 5
        star.append((c + radius * math.cos(angle), c + radius * math.sin(angle)))
    draw.polygon(star, fill=red)
    font = ImageFont.truetype(str(STAMP_FONT), size=max(12, diameter // 11))
    # the name runs around the upper ring, one glyph at a time
    radius = diameter * 0.34
    span = math.pi * 1.1
    for i, ch in enumerate(text):
        angle = -math.pi / 2 - span / 2 + span * (i + 0.5) / len(text)
        glyph = Image.new("RGBA", (diameter // 8, diameter // 8), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text(
            (glyph.width / 2, glyph.height / 2), ch, font=font, fill=red, anchor="mm"
        )
        glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BICUBIC)
        x = c + radius * math.cos(angle) - glyph.width / 2
        y = c + radius * math.sin(angle) - glyph.height / 2
        image.alpha_composite(glyph, (round(x), round(y)))
    return image


def write_demo_images(directory: Path) -> tuple[Path, Path]:
    """Write ``signature.png`` and ``seal.png`` into ``directory``; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    signature, seal = directory / "signature.png", directory / "seal.png"
    draw_signature().save(signature)
    draw_seal().save(seal)
    return signature, seal
