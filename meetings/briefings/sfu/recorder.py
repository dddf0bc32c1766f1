"""Recording of the hall stream (ghi hình hội trường) to WebM or Matroska, without decoding.

The chair's forwarded RTP is copied, as plain bytes, onto a queue; a writer thread reassembles
VP8 frames (RFC 7741) or H.264 access units (RFC 6184, :mod:`.h264`) and Opus packets and muxes
them with PyAV.  Nothing is decoded or encoded: the file holds the publisher's own frames.  A
video frame with a missing packet is dropped and the recording waits for the next key frame.
WebM carries only VP8/VP9/AV1, so an H.264 hall goes to Matroska (``.mkv``), which, like WebM,
stays readable up to the last whole cluster if the process dies while writing.
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

from meetings.briefings.sfu import codecs, h264, rtp

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


def _first_size(kind: str, packet: bytes, is_h264: bool) -> tuple[int, int] | None:
    """The picture size when ``packet`` starts a key frame that gives it, else None."""
    if kind != "video":
        return None
    if is_h264:
        parsed = h264.nal_units(rtp.h264_payload(packet))
        sps = [u for u in parsed[0] if u[0] & 0x1F == rtp.H264_SPS] if parsed else []
        return h264.picture_size(sps[0]) if sps else None
    payload = vp8_payload(packet)
    return vp8_size(payload[0]) if payload and payload[1] else None


class HallRecorder:
    """Writes one publisher's audio and video to ``path`` until :meth:`stop`.

    ``video_codec`` is what the publisher's camera sends; for H.264 the file is Matroska and
    ``path``'s suffix becomes ``.mkv``.
    """

    def __init__(self, path: Path, video_codec: str = codecs.VP8) -> None:
        if video_codec == codecs.H264:
            path = path.with_suffix(".mkv")
        self.path = path
        self._mux = _Muxer(path, video_codec)
        self._queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue(maxsize=4096)
        self._thread = threading.Thread(target=self._run, name=f"record-{path.name}", daemon=True)
        self._thread.start()
        self.dropped = 0

    @property
    def frames(self) -> int:
        """Video frames written."""
        return self._mux.frames

    @property
    def audio_packets(self) -> int:
        return self._mux.audio_packets

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
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    break
                self._mux.feed(*item)
        except Exception:
            log.exception("recording %s failed", self.path)
        finally:
            self._mux.close()


class _Muxer:
    """The writer thread's side: RTP packets in, a WebM file out (opened at the first key frame)."""

    def __init__(self, path: Path, video_codec: str = codecs.VP8) -> None:
        self.path = path
        self.h264 = h264.AccessUnits() if video_codec == codecs.H264 else None
        """Reassembles H.264 access units (None: the stream is VP8)."""
        self._last_dts: int | None = None
        self.frames = 0
        self.audio_packets = 0
        self._container: Any = None
        self._video: Any = None
        self._audio: Any = None
        self._pending: list[tuple[str, bytes]] = []
        self._parts: list[bytes] = []
        self._frame_ts: int | None = None
        self._next_seq: int | None = None
        self._broken = True  # until a key frame starts cleanly
        self._first_ts: dict[str, int] = {}

    def feed(self, kind: str, packet: bytes) -> None:
        """One packet of the publisher's ``kind`` stream, in arrival order."""
        backlog = [(kind, packet)] if self._container is not None else self._open(kind, packet)
        for what, data in backlog:
            ts = rtp.timestamp(data)
            base = self._first_ts.setdefault(what, ts)
            pts = (ts - base) & 0xFFFFFFFF
            if what == "audio":
                self._write_audio(data, pts)
            else:
                self._write_video(data, ts, pts)

    def _open(self, kind: str, packet: bytes) -> list[tuple[str, bytes]]:
        """The header needs the picture size: packets wait for the first key frame.

        Returns the packets to write once the file is open (that key frame's packet and a few
        recent audio packets), or none while waiting.
        """
        self._pending.append((kind, packet))
        size = _first_size(kind, packet, self.h264 is not None)
        if size is None:
            if len(self._pending) > 2000:
                self._pending.clear()
            return []
        video: Any
        if self.h264 is None:
            container = self._container = av.open(str(self.path), mode="w", format="webm")
            video = self._video = container.add_stream("vp8")
            video.width, video.height = size
        else:
            # a stream without a codec context: the SPS/PPS stay in band and the muxer takes
            # them from the first access unit for the header (no encoder is ever opened)
            container = self._container = av.open(str(self.path), mode="w", format="matroska")
            video = self._video = container.add_mux_stream("h264", width=size[0], height=size[1])
        video.time_base = VIDEO_CLOCK
        audio = self._audio = container.add_stream("libopus", rate=48000)
        audio.layout = "stereo"
        audio.codec_context.extradata = OPUS_HEAD
        audio.time_base = AUDIO_CLOCK
        backlog, self._pending = self._pending, []
        # the key frame's packets (one for VP8: the file opens at its first; H.264 may have put
        # an SEI or AUD before the SPS) and a few recent audio packets
        key_ts = rtp.timestamp(packet)
        firsts = [b for b in backlog if b[0] == "video" and rtp.timestamp(b[1]) == key_ts]
        audio_backlog = [b for b in backlog if b[0] == "audio"][-5:]
        return (firsts[-1:] if self.h264 is None else firsts) + audio_backlog

    def _write_audio(self, packet: bytes, pts: int) -> None:
        data = packet[rtp.payload_offset(packet) :]
        if data:
            out = av.Packet(data)
            out.stream, out.pts, out.dts = self._audio, pts, pts
            out.time_base = AUDIO_CLOCK
            self._container.mux(out)
            self.audio_packets += 1

    def _write_video(self, packet: bytes, ts: int, pts: int) -> None:
        if self.h264 is not None:
            unit = self.h264.push(packet)
            if unit is not None:
                self._mux_video(unit[0], pts, unit[1])
            return
        seq = rtp.sequence(packet)
        payload = vp8_payload(packet)
        if payload is None:
            return
        data, start = payload
        if start:
            self._parts, self._frame_ts = [], ts
        elif self._next_seq is None or seq != self._next_seq or ts != self._frame_ts:
            # a lost packet: drop this frame and wait for a key frame
            self._parts, self._frame_ts, self._broken = [], None, True
        self._next_seq = (seq + 1) & 0xFFFF
        if self._frame_ts is None:
            return
        self._parts.append(data)
        if not packet[1] & 0x80:  # no marker: the frame is not whole yet
            return
        frame = b"".join(self._parts)
        self._parts, self._frame_ts = [], None
        key = not frame[0] & 0x01
        if self._broken and not key:
            return
        self._broken = False
        self._mux_video(frame, pts, key)

    def _mux_video(self, frame: bytes, pts: int, key: bool) -> None:
        """One whole frame; VP8 and constrained-baseline H.264 have no B-frames, so dts = pts.

        A timestamp that does not move forward (a publisher that restarted its clock) would
        make the muxer raise and end the recording: such a frame is left out.
        """
        if self._last_dts is not None and pts <= self._last_dts:
            return
        self._last_dts = pts
        out = av.Packet(frame)
        out.stream, out.pts, out.dts = self._video, pts, pts
        out.time_base = VIDEO_CLOCK
        out.is_keyframe = key
        self._container.mux(out)
        self.frames += 1

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
