"""Test media: a VP8 + Opus WebM clip made with PyAV, longer than any run, with inter frames."""

from __future__ import annotations

import fractions
import math
import struct
from pathlib import Path

import av


def _luma(width: int, height: int, i: int) -> bytes:
    """A grey picture with a bar moving across and a line moving down: every frame differs."""
    row = bytearray([90]) * width
    x = (i * 4) % width
    row[max(0, x - 20) : x + 20] = bytes([220]) * len(row[max(0, x - 20) : x + 20])
    plane = bytearray(bytes(row) * height)
    y = (i * 2) % height
    plane[y * width : (y + 1) * width] = bytes([255]) * width
    return bytes(plane)


def make_clip(
    path: Path, seconds: float = 30.0, fps: int = 30, size: tuple[int, int] = (320, 240)
) -> Path:
    """Write a WebM with a moving picture (key frame every second) and a 400 Hz tone."""
    width, height = size
    chroma = bytes([128]) * ((width // 2) * (height // 2))
    per_frame = 48000 // fps
    # a 400 Hz tone: 120 samples per period at 48 kHz, repeated
    period = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * k / 120))) for k in range(120)
    )
    with av.open(str(path), mode="w", format="webm") as container:
        video = container.add_stream(
            "libvpx",
            rate=fps,
            options={"deadline": "realtime", "cpu-used": "16", "lag-in-frames": "0"},
        )
        video.width, video.height = width, height
        video.pix_fmt = "yuv420p"
        video.bit_rate = 300_000
        video.gop_size = fps
        audio = container.add_stream("libopus", rate=48000)
        audio.layout = "mono"
        audio.bit_rate = 32_000
        for i in range(int(seconds * fps)):
            frame = av.VideoFrame(width, height, "yuv420p")
            frame.planes[0].update(_luma(width, height, i))
            frame.planes[1].update(chroma)
            frame.planes[2].update(chroma)
            frame.pts = i
            frame.time_base = fractions.Fraction(1, fps)
            for packet in video.encode(frame):
                container.mux(packet)
            start = i * per_frame
            pcm = (period * (per_frame // 120 + 2))[
                2 * (start % 120) : 2 * (start % 120) + 2 * per_frame
            ]
            aframe = av.AudioFrame(format="s16", layout="mono", samples=per_frame)
            aframe.planes[0].update(pcm)
            aframe.sample_rate = 48000
            aframe.pts = start
            aframe.time_base = fractions.Fraction(1, 48000)
            for packet in audio.encode(aframe):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        for packet in audio.encode():
            container.mux(packet)
    return path
