"""H.264 test media: an Annex-B clip (MPEG-TS) made with PyAV's libx264, and its RTP packets.

The clip plays through aiortc's ``MediaPlayer(decode=False)``: aiortc packetizes the stored
access units (STAP-A, FU-A) without encoding anything during the test.  The packets are made by
aiortc's own ``H264Encoder.pack`` and ``RtpPacket.serialize``, the way a publisher sends them.
"""

from __future__ import annotations

import fractions
import hashlib
import random
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from aiortc.codecs.h264 import H264Encoder
from aiortc.rtp import RtpPacket

from tests.briefings.conftest import CLIP_CACHE
from tests.briefings.media import _luma

TEXTURE = random.Random(5).randbytes(320 * 60)
"""A still band of noise at the top: key frames span several packets (FU-A), inter frames not."""

PT = 102


def make_h264_clip(
    path: Path, seconds: float = 24.0, fps: int = 30, size: tuple[int, int] = (320, 240)
) -> Path:
    """Constrained-baseline H.264 in MPEG-TS, a key frame (with SPS/PPS) every second."""
    width, height = size
    chroma = bytes([128]) * ((width // 2) * (height // 2))
    with av.open(str(path), mode="w", format="mpegts") as container:
        video = container.add_stream(
            "libx264", rate=fps, options={"tune": "zerolatency", "preset": "ultrafast", "crf": "20"}
        )
        video.width, video.height = width, height
        video.pix_fmt = "yuv420p"
        video.gop_size = fps
        video.codec_context.profile = "Constrained Baseline"
        for i in range(int(seconds * fps)):
            frame = av.VideoFrame(width, height, "yuv420p")
            luma = bytearray(_luma(width, height, i))
            luma[: len(TEXTURE)] = TEXTURE[: width * height]
            frame.planes[0].update(bytes(luma))
            frame.planes[1].update(chroma)
            frame.planes[2].update(chroma)
            frame.pts = i
            frame.time_base = fractions.Fraction(1, fps)
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
    return path


def access_units(clip: Path, count: int) -> list[tuple[bytes, bool]]:
    """The first ``count`` access units of the clip (Annex-B bytes, is a key frame)."""
    out: list[tuple[bytes, bool]] = []
    with av.open(str(clip)) as container:
        for packet in container.demux(video=0):
            if packet.size:
                out.append((bytes(packet), bool(packet.is_keyframe)))
            if len(out) >= count:
                break
    return out


def rtp_packets(units: list[tuple[bytes, bool]], seq: int = 1000) -> Iterator[bytes]:
    """The RTP packets aiortc would send for ``units`` at 30 fps (marker on each last one)."""
    encoder = H264Encoder()
    for i, (data, _key) in enumerate(units):
        packet = av.Packet(data)
        packet.pts = i * 3000
        packet.time_base = fractions.Fraction(1, 90000)
        payloads, timestamp = encoder.pack(packet)
        for j, payload in enumerate(payloads):
            rtp = RtpPacket(
                payload_type=PT,
                sequence_number=seq & 0xFFFF,
                timestamp=timestamp,
                ssrc=1234,
                marker=int(j == len(payloads) - 1),
                payload=payload,
            )
            seq += 1
            yield rtp.serialize()


@pytest.fixture(scope="session", name="h264_clip")
def h264_clip_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """24 s of constrained-baseline H.264 (MPEG-TS), kept between runs like the VP8 clip."""
    source = Path(make_h264_clip.__code__.co_filename).read_bytes()
    cached = CLIP_CACHE / f"clip-h264-{hashlib.sha256(source).hexdigest()[:16]}.ts"
    if not cached.exists():
        CLIP_CACHE.mkdir(parents=True, exist_ok=True)
        partial = make_h264_clip(tmp_path_factory.mktemp("media") / "clip.ts")
        shutil.copyfile(partial, cached.with_suffix(".part"))
        cached.with_suffix(".part").replace(cached)
    return cached


def rtp_of(payload: bytes, *, marker: bool = True, seq: int = 1, ts: int = 3000) -> bytes:
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | 102, seq, ts, 1) + payload


IDR = bytes([0x65, 0x88, 0x84])
SLICE = bytes([0x41, 0x9A, 0x02])
SPS = bytes([0x67, 0x42, 0xC0, 0x1F])
PPS = bytes([0x68, 0xCE, 0x3C, 0x80])


def nals(annex_b: bytes) -> list[bytes]:
    """NAL units of an encoder's Annex-B output (3- or 4-byte start codes)."""
    return [u.rstrip(b"\x00") for u in annex_b.split(b"\x00\x00\x01") if u.rstrip(b"\x00")]


def stap(*units: bytes) -> bytes:
    return bytes([0x78]) + b"".join(len(u).to_bytes(2, "big") + u for u in units)
