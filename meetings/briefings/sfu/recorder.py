"""Recording of the hall stream (ghi hình hội trường) to WebM, without decoding.

The chair's forwarded RTP is copied, as plain bytes, onto a queue; a writer thread reassembles
VP8 frames (RFC 7741) and Opus packets and muxes them with PyAV.  Nothing is decoded or encoded:
the file holds the publisher's own frames.  A video frame with a missing packet is dropped and
the recording waits for the next key frame.
"""

from __future__ import annotations

import fractions
import logging
import queue
import struct
import threading
from pathlib import Path
from typing import Any

import av

from meetings.briefings.sfu import rtp

log = logging.getLogger(__name__)

VIDEO_CLOCK = fractions.Fraction(1, 90000)
AUDIO_CLOCK = fractions.Fraction(1, 48000)
OPUS_HEAD = b"OpusHead" + struct.pack("<BBHIhB", 1, 2, 312, 48000, 0, 0)
"""RFC 7845 identification header: version 1, 2 channels (WebRTC Opus), 312 samples pre-skip."""


def vp8_payload(packet: bytes) -> tuple[bytes, bool] | None:
    """(VP8 data without the payload descriptor, start of a frame), or None if malformed."""
    pos = rtp.payload_offset(packet)
    if pos < 0 or pos >= len(packet):
        return None
    first = packet[pos]
    start = bool(first & 0x10) and not first & 0x07
    pos += 1
    if first & 0x80:
        if pos >= len(packet):
            return None
        ext = packet[pos]
        pos += 1
        if ext & 0x80:
            if pos >= len(packet):
                return None
            pos += 2 if packet[pos] & 0x80 else 1
        if ext & 0x40:
            pos += 1
        if ext & 0x30:
            pos += 1
    if pos > len(packet):
        return None
    end = len(packet)
    if packet[0] & 0x20:  # padding: the last byte says how much
        end -= packet[-1]
    return packet[pos:end], start


def vp8_size(frame: bytes) -> tuple[int, int] | None:
    """Width and height from a VP8 key frame header (RFC 6386 §9.1)."""
    if len(frame) < 10 or frame[0] & 0x01 or frame[3:6] != b"\x9d\x01\x2a":
        return None
    width, height = struct.unpack("<HH", frame[6:10])
    return width & 0x3FFF, height & 0x3FFF


class HallRecorder:
    """Writes one publisher's audio and video to ``path`` until :meth:`stop`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.frames = 0
        self.audio_packets = 0
        self._queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue(maxsize=4096)
        self._thread = threading.Thread(target=self._run, name=f"record-{path.name}", daemon=True)
        self._thread.start()
        self.dropped = 0

    def tap(self, kind: str) -> Any:
        """A function the source calls with each plain packet (cheap: one queue put)."""

        def put(packet: bytes) -> None:
            try:
                self._queue.put_nowait((kind, packet))
            except queue.Full:
                self.dropped += 1

        put.recorder = self  # type: ignore[attr-defined]  # lets the room remove its taps
        return put

    def stop(self) -> None:
        """Finish the file (blocking: call from an executor)."""
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        container: Any = None
        video: Any = None
        audio: Any = None
        pending: list[tuple[str, bytes]] = []
        parts: list[bytes] = []
        frame_ts: int | None = None
        next_seq: int | None = None
        broken = True  # until a key frame starts cleanly
        first_ts: dict[str, int] = {}
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    break
                kind, packet = item
                if container is None:
                    # the header needs the picture size: wait for the first key frame
                    pending.append(item)
                    payload = vp8_payload(packet) if kind == "video" else None
                    size = vp8_size(payload[0]) if payload and payload[1] else None
                    if size is None:
                        if len(pending) > 2000:
                            pending.clear()
                        continue
                    container = av.open(str(self.path), mode="w", format="webm")
                    video = container.add_stream("vp8")
                    video.width, video.height = size
                    video.time_base = VIDEO_CLOCK
                    audio = container.add_stream("libopus", rate=48000)
                    audio.layout = "stereo"
                    audio.codec_context.extradata = OPUS_HEAD
                    audio.time_base = AUDIO_CLOCK
                    backlog, pending = pending, []
                    backlog = [b for b in backlog if b[0] == "video"][-1:] + [
                        b for b in backlog if b[0] == "audio"
                    ][-5:]
                else:
                    backlog = [item]
                for kind, packet in backlog:
                    ts = rtp.timestamp(packet)
                    base = first_ts.setdefault(kind, ts)
                    pts = (ts - base) & 0xFFFFFFFF
                    if kind == "audio":
                        data = packet[rtp.payload_offset(packet) :]
                        if data:
                            out = av.Packet(data)
                            out.stream, out.pts, out.dts = audio, pts, pts
                            out.time_base = AUDIO_CLOCK
                            container.mux(out)
                            self.audio_packets += 1
                        continue
                    seq = rtp.sequence(packet)
                    payload = vp8_payload(packet)
                    if payload is None:
                        continue
                    data, start = payload
                    if start:
                        parts, frame_ts = [], ts
                    elif next_seq is None or seq != next_seq or ts != frame_ts:
                        # a lost packet: drop this frame and wait for a key frame
                        parts, frame_ts, broken = [], None, True
                    next_seq = (seq + 1) & 0xFFFF
                    if frame_ts is None:
                        continue
                    parts.append(data)
                    if packet[1] & 0x80:  # marker: the frame is whole
                        frame = b"".join(parts)
                        parts, frame_ts = [], None
                        key = not frame[0] & 0x01
                        if broken and not key:
                            continue
                        broken = False
                        out = av.Packet(frame)
                        out.stream, out.pts, out.dts = video, pts, pts
                        out.time_base = VIDEO_CLOCK
                        out.is_keyframe = key
                        container.mux(out)
                        self.frames += 1
        except Exception:
            log.exception("recording %s failed", self.path)
        finally:
            if container is not None:
                container.close()
