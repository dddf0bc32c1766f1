"""The forwarding path: one publisher stream (:class:`Source`) to many subscriber slots (:class:`Sink`).

Per packet: unprotect once (in :mod:`.peer`), strip the header extension, keep it in the source's
ring for retransmissions, then per sink copy into the downlink's preallocated buffer, patch payload
type, sequence number, timestamp and SSRC in one ``pack_into``, SRTP-protect in place and
``sendto``.  No parse, no serialize, no await.
"""

from __future__ import annotations

import contextlib
import logging
import struct
import time
from collections.abc import Callable
from typing import Any

from aiortc.rtcrtpreceiver import NackGenerator, StreamStatistics

from meetings.briefings.sfu import codecs, rtp
from meetings.briefings.sfu.hooks import InPlaceProtector, nominated_pair, nominated_pairs

log = logging.getLogger(__name__)

RING = 1024
"""Packets kept per source for NACKs: about 3 s of 1 Mbit/s video."""
RING_MASK = RING - 1
PATCH = struct.Struct("!BHII")
"""Byte 1 (marker + payload type), sequence number, timestamp, SSRC: bytes 1–11."""
KEYFRAME_INTERVAL = 0.3
"""Seconds between keyframe requests relayed to one publisher."""
NTP_EPOCH = 2208988800


def ntp_of(unix: float) -> int:
    return int((unix + NTP_EPOCH) * (1 << 32)) & 0xFFFFFFFFFFFFFFFF


class _Seen:
    """What aiortc's ``StreamStatistics.add`` reads of a packet, without parsing one."""

    __slots__ = ("sequence_number", "timestamp")

    def __init__(self) -> None:
        self.sequence_number = 0
        self.timestamp = 0


class Downlink:
    """One subscriber's way out: its SRTP context and nominated ICE pair."""

    __slots__ = ("_addr", "_dtls", "_key", "_pairs", "_transport", "closed", "protector", "sent")

    def __init__(self, dtls: Any, protector: InPlaceProtector) -> None:
        self._dtls = dtls
        self._pairs: dict[int, Any] = {} if dtls is None else nominated_pairs(dtls)
        """aioice's nominated pairs, looked at per packet: the pair may change (hooks)."""
        self.protector = protector
        self._key: object | None = None
        self._transport: Any = None
        self._addr: tuple[str, int] | None = None
        self.sent = 0
        self.closed = False

    def send(self, data: bytes) -> None:
        key = self._pairs.get(1)
        if key is not self._key:
            found = nominated_pair(self._dtls)
            if found is None:
                return
            self._transport, self._addr = found
            self._key = key
        try:
            self._transport.sendto(data, self._addr)
            self.sent += 1
        except (OSError, AttributeError, RuntimeError):  # closing transport
            pass


class Sink:
    """A subscriber's receiving slot (one server-side sender): which source fills it, and how.

    Sequence numbers and timestamps are rewritten by fixed offsets; when the slot switches to
    another source the offsets are recomputed so the receiver sees one continuous stream, and a
    video slot waits for the new source's key frame so it never decodes across sources.

    A slot may carry several codecs (``pts``: VP8 and H.264, as its endpoint offered); packets
    go out with the payload type of the source's codec.  A source in a codec the slot cannot
    take still fills it (the client names who it is and why there is no picture) but is never
    forwarded: the slot is then ``mismatch`` and stays out of the source's list.
    """

    __slots__ = (
        "clock_rate",
        "downlink",
        "kind",
        "last_out_seq",
        "last_out_time",
        "last_out_ts",
        "mid",
        "mismatch",
        "octets",
        "packets",
        "pt",
        "pts",
        "retransmitted",
        "seq_off",
        "source",
        "ssrc",
        "started",
        "ts_off",
        "waiting",
    )

    def __init__(
        self,
        downlink: Downlink,
        kind: str,
        mid: str,
        ssrc: int,
        pts: dict[str, int],
        clock: int,
    ) -> None:
        self.downlink = downlink
        self.kind = kind
        self.mid = mid
        self.ssrc = ssrc
        self.pts = dict(pts)
        """Payload type of each codec the slot negotiated (``opus``, ``VP8``, ``H264``)."""
        self.pt = next(iter(self.pts.values()), 0)
        """The payload type of what the slot carries now."""
        self.mismatch = False
        """The source fills the slot in a codec the endpoint did not negotiate: nothing flows."""
        self.clock_rate = clock
        self.source: Source | None = None
        self.seq_off = 0
        self.ts_off = 0
        self.waiting = True
        self.started = False
        self.last_out_seq = 0
        self.last_out_ts = 0
        self.last_out_time = 0.0
        self.packets = 0
        self.octets = 0
        self.retransmitted = 0

    def attach(self, source: Source | None) -> None:
        """Fill the slot from ``source`` (None empties it)."""
        if source is self.source:
            return
        self.detach()
        if source is None:
            return
        self.source = source
        self.waiting = True
        pt = self.pts.get(source.codec)
        self.mismatch = pt is None
        if pt is None:
            self.waiting = False  # nothing to wait for: no key frame is asked for this slot
            return
        self.pt = pt
        source.sinks.append(self)
        if self.kind == "video":
            source.request_keyframe()

    def detach(self) -> None:
        old = self.source
        if old is None:
            return
        if self.mismatch:
            self.source, self.mismatch = None, False
            return
        if self.started and not self.waiting:
            self.last_out_seq = (old.last_seq + self.seq_off) & 0xFFFF
            self.last_out_ts = (old.last_ts + self.ts_off) & 0xFFFFFFFF
            self.last_out_time = old.last_arrival
        with contextlib.suppress(ValueError):
            old.sinks.remove(self)
        self.source = None

    def resync(self, seq: int, ts: int, now: float) -> None:
        """First packet from a new source: continue our numbering where the last one stopped."""
        if self.started:
            gap = max(1, int((now - self.last_out_time) * self.clock_rate))
            self.seq_off = (self.last_out_seq + 1 - seq) & 0xFFFF
            self.ts_off = (self.last_out_ts + gap - ts) & 0xFFFFFFFF
        self.started = True
        self.waiting = False

    @property
    def flowing(self) -> Source | None:
        """The source whose packets the slot forwards, or None (empty, or a codec it lacks)."""
        return None if self.mismatch else self.source

    def retransmit(self, out_seqs: list[int]) -> int:
        """Answer a NACK from the source's ring; how many packets were sent again."""
        source = self.flowing
        if source is None or self.waiting:
            return 0
        sent = 0
        for out_seq in out_seqs:
            in_seq = (out_seq - self.seq_off) & 0xFFFF
            packet = source.ring[in_seq & RING_MASK]
            if packet is None or rtp.sequence(packet) != in_seq:
                continue
            self._emit(packet, in_seq, rtp.timestamp(packet))
            sent += 1
        self.retransmitted += sent
        return sent

    def _emit(self, base: bytes, seq: int, ts: int) -> None:
        downlink = self.downlink
        protector = downlink.protector
        n = len(base)
        protector.buffer[0:n] = base
        PATCH.pack_into(
            protector.buffer,
            1,
            (base[1] & 0x80) | self.pt,
            (seq + self.seq_off) & 0xFFFF,
            (ts + self.ts_off) & 0xFFFFFFFF,
            self.ssrc,
        )
        downlink.send(protector.protect(n))

    def report_figures(self) -> tuple[int, int] | None:
        """(NTP, RTP timestamp) of our output now, for the sender report; None when idle."""
        source = self.flowing
        if source is None or self.waiting or not source.last_arrival:
            return None
        now = time.time()
        rtp_ts = source.last_ts + self.ts_off + int((now - source.last_arrival) * self.clock_rate)
        return ntp_of(now), rtp_ts & 0xFFFFFFFF


class Source:
    """One publisher's stream (audio or video) and the slots it currently fills."""

    __slots__ = (
        "_last_pli",
        "_seen",
        "clock_rate",
        "codec",
        "forwarded",
        "is_keyframe",
        "kind",
        "last_arrival",
        "last_seq",
        "last_ts",
        "level_count",
        "level_id",
        "level_sum",
        "nack",
        "on_keyframe_request",
        "on_nack",
        "owner",
        "received",
        "ring",
        "sinks",
        "ssrc",
        "stats",
        "stream",
        "taps",
    )

    def __init__(
        self,
        owner: str,
        kind: str,
        clock_rate: int,
        level_id: int | None,
        on_keyframe_request: Callable[[int], None],
        on_nack: Callable[[int, list[int]], None] | None = None,
        codec: str | None = None,
    ) -> None:
        self.owner = owner
        """The participant id of the publisher."""
        self.kind = kind
        self.codec = codec or (codecs.OPUS if kind == "audio" else codecs.VP8)
        """What the publisher sends (``opus``, ``VP8``, ``H264``): only slots that negotiated it
        are filled with its packets."""
        self.is_keyframe = rtp.h264_keyframe if self.codec == codecs.H264 else rtp.vp8_keyframe
        """Whether a packet starts a key frame, where a waiting video slot may begin."""
        self.clock_rate = clock_rate
        self.level_id = level_id
        self.on_keyframe_request = on_keyframe_request
        self.on_nack = on_nack
        self.nack = NackGenerator() if kind == "video" and on_nack is not None else None
        """Asks the publisher again for video lost on its uplink (aiortc does not NACK audio)."""
        self.ssrc = 0
        self.stream = 0
        """Id of this stream on the pipe between media workers (0: not piped)."""
        self.sinks: list[Sink] = []
        self.taps: list[Callable[[bytes], None]] = []
        """Also given every plain packet (the hall recorder)."""
        self.ring: list[bytes | None] = [None] * RING
        self.last_seq = 0
        self.last_ts = 0
        self.last_arrival = 0.0
        self.received = 0
        self.forwarded = 0
        self.level_sum = 0
        self.level_count = 0
        self._last_pli = 0.0
        self._seen = _Seen()
        self.stats = StreamStatistics(clock_rate)
        """Fed per packet; aiortc's receiver turns it into receiver reports to the publisher."""

    def request_keyframe(self) -> None:
        now = time.monotonic()
        if self.ssrc and now - self._last_pli >= KEYFRAME_INTERVAL:
            self._last_pli = now
            self.on_keyframe_request(self.ssrc)

    def take_level(self) -> float | None:
        """Mean loudness (127 − level, higher is louder) since the last call, or None."""
        if not self.level_count:
            return None
        mean = self.level_sum / self.level_count
        self.level_sum = 0
        self.level_count = 0
        return mean

    def forward(self, plain: bytes) -> None:
        """One decrypted RTP packet from the publisher, to every sink."""
        seq = (plain[2] << 8) | plain[3]
        ts = int.from_bytes(plain[4:8], "big")
        now = time.time()
        if not self.ssrc:
            self.ssrc = int.from_bytes(plain[8:12], "big")
        seen = self._seen
        seen.sequence_number = seq
        seen.timestamp = ts
        self.stats.add(seen)  # type: ignore[arg-type]  # reads the two fields _Seen has
        nack = self.nack
        if nack is not None and nack.add(seen) and self.on_nack is not None:  # type: ignore[arg-type]
            self.on_nack(self.ssrc, sorted(nack.missing))
        self.received += 1
        if self.level_id is not None:
            level = rtp.audio_level(plain, self.level_id)
            if level is not None:
                self.level_sum += 127 - level
                self.level_count += 1
        if self.taps:
            for tap in self.taps:
                tap(plain)
        base = rtp.strip_extensions(plain)
        self.ring[seq & RING_MASK] = base
        if ((seq - self.last_seq) & 0xFFFF) < 0x8000 or not self.last_arrival:
            self.last_seq = seq
            self.last_ts = ts
            self.last_arrival = now
        sinks = self.sinks
        if not sinks:
            return
        n = len(base)
        marker = base[1] & 0x80
        key: bool | None = None
        for sink in sinks:
            if sink.waiting:
                if self.kind == "video":
                    if key is None:
                        key = self.is_keyframe(base)
                    if not key:
                        continue
                sink.resync(seq, ts, now)
            downlink = sink.downlink
            protector = downlink.protector
            buffer = protector.buffer
            buffer[0:n] = base
            PATCH.pack_into(
                buffer,
                1,
                marker | sink.pt,
                (seq + sink.seq_off) & 0xFFFF,
                (ts + sink.ts_off) & 0xFFFFFFFF,
                sink.ssrc,
            )
            downlink.send(protector.protect(n))
            sink.packets += 1
            sink.octets += n
        self.forwarded += len(sinks)
