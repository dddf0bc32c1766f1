"""The server's side of one endpoint: an aiortc peer connection whose RTP we forward ourselves.

The endpoint offers its uplink (``sendonly`` camera and microphone) and the slots it wants to
receive (``recvonly`` m-lines); we answer each slot with a sender whose track never yields, so
aiortc negotiates SSRCs and runs RTCP for it while the media comes from :mod:`.forwarder`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import pylibsrtp
from aiortc import (
    MediaStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    RtcpPsfbPacket,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSrPacket,
    unpack_remb_fci,
)

from meetings.briefings.sfu import codecs, hooks
from meetings.briefings.sfu.forwarder import Downlink, Sink, Source
from meetings.briefings.sfu.rtp import AUDIO_LEVEL_URI

log = logging.getLogger(__name__)

CODEC = {"audio": "Opus", "video": "VP8 or H.264 (constrained baseline, packetization mode 1)"}
LOSS_MEMORY = 3.0
"""Seconds a stream's receiver report counts towards the link's loss."""


class OfferRefused(ValueError):
    """The offer is well formed but cannot be served (no VP8/Opus, no BUNDLE…)."""

    def __init__(
        self, detail: str, code: str = "sdp.refused", detail_vi: str = "Không chấp nhận được SDP."
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.detail_vi = detail_vi


BUNDLE_VI = "Mô tả phiên (SDP) phải gộp mọi luồng (BUNDLE)."


def no_codec(kind: str) -> OfferRefused:
    """An m-line without any codec we forward for its kind."""
    return OfferRefused(
        f"the {kind} m-line offers no {CODEC[kind]}",
        "sdp.codec",
        "Thiết bị không có bộ mã hoá máy chủ dùng được (hình VP8 hoặc H.264, tiếng Opus).",
    )


class IdleTrack(MediaStreamTrack):
    """A track that never yields a frame: the sender exists for SDP and RTCP only."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    async def recv(self) -> Any:
        await asyncio.Event().wait()  # cancelled when the sender stops


def _idle(sink: Sink) -> Callable[[], bool]:
    """Whether the slot has nothing to report in a sender report: never forwarded, or empty."""

    def idle() -> bool:
        return not sink.started or sink.flowing is None

    return idle


class ServerPeer:
    """One participant's peer connection, uplink sources and downlink slots."""

    def __init__(
        self,
        owner: str,
        *,
        on_connected: Callable[[ServerPeer], None],
        on_failed: Callable[[ServerPeer], None],
    ) -> None:
        self.owner = owner
        # MAX_BUNDLE: with the default BALANCED policy aiortc 1.16 leaves a second m-line of
        # the same kind on a transport it then discards when it applies BUNDLE.
        self.pc = RTCPeerConnection(
            RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        )
        self.sources: dict[int, Source] = {}
        """Uplink sources by payload type (one Opus, one VP8)."""
        self.audio_sinks: list[Sink] = []
        self.video_sinks: list[Sink] = []
        self.senders: dict[int, Any] = {}
        """Server-side sender per sink SSRC."""
        self.connected = False
        self.loss = 0.0
        """Fraction lost on the worst of our streams in the endpoint's recent receiver reports."""
        self._losses: dict[int, tuple[float, float]] = {}
        """Per slot SSRC: the fraction lost in its latest receiver report, and when it came."""
        self.remb: int | None = None
        self._dtls: Any = None
        self._rx: pylibsrtp.Session | None = None
        self._downlink: Downlink | None = None
        self._on_connected = on_connected
        self._on_failed = on_failed
        self._tasks: set[asyncio.Task[None]] = set()
        self.closed = False
        self.nacks_sent = 0

    @property
    def sinks(self) -> list[Sink]:
        return self.audio_sinks + self.video_sinks

    def source(self, kind: str) -> Source | None:
        return next((s for s in self.sources.values() if s.kind == kind), None)

    async def accept(self, offer_sdp: str) -> str:
        """Apply the endpoint's offer and return our answer (ICE candidates included)."""
        pc = self.pc
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        slots: list[tuple[RTCRtpTransceiver, str]] = []
        for t in pc.getTransceivers():
            kind = t.kind
            hooks.without_bitrate_estimator(t.receiver)
            receiving = hooks.offer_direction(t) == "sendonly"  # the endpoint only receives here
            offered = hooks.offered_codecs(t)
            chosen = (codecs.for_slot if receiving else codecs.for_publisher)(offered)
            if not chosen:
                raise no_codec(kind)
            hooks.use_codecs(t, chosen)
            if receiving:
                t.sender.replaceTrack(IdleTrack(kind))
                t.direction = "sendonly"
                slots.append((t, kind))
            else:
                self._publish(t, chosen[0])
        answer = await pc.createAnswer()
        await pc.setLocalDescription(answer)
        transports = {t.sender.transport for t in pc.getTransceivers()}
        if len(transports) != 1:
            raise OfferRefused(
                "the offer must bundle every m-line (a=group:BUNDLE)", "sdp.bundle", BUNDLE_VI
            )
        self._dtls = transports.pop()
        hooks.intercept_datagrams(self._dtls, self._datagram)
        self._dtls.on("statechange", self._dtls_state)
        for t, kind in slots:
            negotiated = hooks.offered_codecs(t)
            sink = Sink(
                Downlink(self._dtls, None),  # type: ignore[arg-type]  # protector set when connected
                kind,
                t.mid or "",
                t.sender._ssrc,
                codecs.payload_types(negotiated),
                negotiated[0].clockRate,
            )
            (self.audio_sinks if kind == "audio" else self.video_sinks).append(sink)
            self.senders[sink.ssrc] = t.sender
            hooks.sender_rtcp_handler(t.sender, self._rtcp_handler(sink, t.sender))
            hooks.quiet_sender_reports(t.sender, _idle(sink))
        self._receivers = {t.kind: t.receiver for t in pc.getTransceivers() if t.kind}
        pc.on("connectionstatechange", self._pc_state)
        local = pc.localDescription
        assert local is not None
        return str(local.sdp)

    def _publish(self, t: RTCRtpTransceiver, codec: RTCRtpCodecParameters) -> None:
        """The endpoint sends on ``t`` in ``codec``: a source we forward from, never decode."""
        kind = t.kind
        t.direction = "recvonly"
        hooks.without_decoder(t.receiver)
        pt = codec.payloadType
        if pt is None:
            raise OfferRefused(f"the {kind} codec has no payload type")
        level = hooks.header_extension_id(t, AUDIO_LEVEL_URI) if kind == "audio" else None
        self.sources[pt] = Source(
            self.owner,
            kind,
            codec.clockRate,
            level,
            self._keyframe_request,
            self._nack,
            codecs.name_of(codec),
        )

    def _dtls_state(self) -> None:
        if self._dtls.state == "connected" and not self.connected:
            tx = hooks.tx_session(self._dtls)
            self._rx = hooks.rx_session(self._dtls)
            if tx is None or self._rx is None:
                return
            protector = hooks.InPlaceProtector(tx)
            for sink in self.sinks:
                sink.downlink.protector = protector
            self.connected = True
            self._on_connected(self)

    def _pc_state(self) -> None:
        if self.pc.connectionState in ("failed", "closed") and not self.closed:
            self._on_failed(self)

    def _datagram(self, data: bytes) -> bool:
        """The ICE datagram hook: forward the publisher's SRTP, leave the rest to aiortc."""
        if len(data) < 12 or not 127 < data[0] < 192 or 192 <= data[1] <= 223:
            return False
        rx = self._rx
        if rx is None:
            return False
        try:
            plain = rx.unprotect(data)
        except pylibsrtp.Error:
            return True
        source = self.sources.get(plain[1] & 0x7F)
        if source is None:
            return True  # RTX, padding probes, FEC streams: not forwarded
        if not source.ssrc:
            self._register(source, int.from_bytes(plain[8:12], "big"))
        source.forward(plain)
        return True

    def _register(self, source: Source, ssrc: int) -> None:
        source.ssrc = ssrc
        receiver = self._receivers.get(source.kind)
        if receiver is not None:
            hooks.receiver_stream_stats(receiver)[ssrc] = source.stats

    def _keyframe_request(self, media_ssrc: int) -> None:
        if self._dtls is None or self.closed:
            return
        rtcp_ssrc = next(iter(self.senders), 1)
        packet = RtcpPsfbPacket(fmt=RTCP_PSFB_PLI, ssrc=rtcp_ssrc, media_ssrc=media_ssrc)
        self._spawn(hooks.send_rtcp(self._dtls, bytes(packet)))

    def _nack(self, media_ssrc: int, lost: list[int]) -> None:
        """Ask the publisher to resend video lost on its uplink."""
        if self._dtls is None or self.closed or not lost:
            return
        rtcp_ssrc = next(iter(self.senders), 1)
        packet = RtcpRtpfbPacket(fmt=RTCP_RTPFB_NACK, ssrc=rtcp_ssrc, media_ssrc=media_ssrc)
        packet.lost = lost[-64:]
        self.nacks_sent += 1
        self._spawn(hooks.send_rtcp(self._dtls, bytes(packet)))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _rtcp_handler(self, sink: Sink, sender: Any) -> Callable[[Any], Any]:
        original = hooks.original_sender_rtcp(sender)

        async def handle(packet: Any) -> None:
            if isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
                sink.retransmit(list(packet.lost))
            elif isinstance(packet, RtcpPsfbPacket) and packet.fmt in (
                RTCP_PSFB_PLI,
                RTCP_PSFB_FIR,
            ):
                if sink.flowing is not None:
                    sink.flowing.request_keyframe()
            elif isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
                with contextlib.suppress(ValueError):
                    self.remb, _ = unpack_remb_fci(packet.fci)
            elif isinstance(packet, (RtcpRrPacket, RtcpSrPacket)):
                for report in packet.reports:
                    if report.ssrc == sink.ssrc:
                        self._report_loss(sink.ssrc, report.fraction_lost / 256)
                await original(packet)

        return handle

    def _report_loss(self, ssrc: int, fraction: float) -> None:
        """One stream's receiver report: the link's loss is the worst stream's, recent ones only.

        Streams differ: video lost on the way is resent on a NACK and reported nearly whole,
        audio is not; taking whichever report came last made a lossy link look clean every
        other report.
        """
        now = time.monotonic()
        self._losses[ssrc] = (fraction, now)
        recent = [f for f, at in self._losses.values() if now - at <= LOSS_MEMORY]
        self.loss = max(recent, default=0.0)

    def feed_sender_reports(self) -> None:
        """Give each slot's sender the figures of what we forwarded (called about twice a second)."""
        for sink in self.sinks:
            figures = sink.report_figures()
            sender = self.senders.get(sink.ssrc)
            if figures is not None and sender is not None:
                hooks.feed_sender_report(sender, figures[0], figures[1], sink.packets, sink.octets)

    def rtt(self) -> float | None:
        """Round-trip time in seconds from the endpoint's receiver reports, or None yet."""
        values = [r for s in self.senders.values() if (r := hooks.sender_rtt(s)) is not None]
        return min(values) if values else None

    def uplink_loss(self) -> float:
        """Fraction of the endpoint's packets lost on the way to us (all its streams)."""
        expected = lost = 0
        for source in self.sources.values():
            stats = source.stats
            if stats.max_seq is not None and stats.base_seq is not None:
                expected += stats.cycles + stats.max_seq - stats.base_seq + 1
                lost += max(0, stats.packets_lost)
        return lost / expected if expected else 0.0

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for sink in self.sinks:
            sink.detach()
        for source in self.sources.values():
            for sink in list(source.sinks):
                sink.detach()
        for task in list(self._tasks):
            task.cancel()
        await self.pc.close()
