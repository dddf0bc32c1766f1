"""Every use of a private internal of aiortc 1.16.0, aioice 0.13.0 and pylibsrtp 1.0.0.

These versions are pinned in ``pyproject.toml``; ``tests/briefings/test_hooks.py`` checks each hook
against the libraries' own parse/serialize so that an upgrade that moves them fails loudly.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Callable
from typing import Any

import aioice.ice
from aiortc import RTCDtlsTransport, RTCRtpReceiver, RTCRtpSender, RTCRtpTransceiver
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtcpSrPacket
from pylibsrtp import Session
from pylibsrtp._binding import ffi, lib

PINNED = {"aiortc": "1.16.0", "aioice": "0.13.0", "pylibsrtp": "1.0.0"}

DatagramHandler = Callable[[bytes, int], None]


def restrict_host_addresses(addresses: list[str] | None) -> None:
    """Gather ICE candidates only on ``addresses`` (aioice picks every interface but 127.0.0.1).

    Process-wide: aioice reads the module function when a connection gathers.  ``None`` restores
    aioice's own choice.
    """
    if addresses is None:
        aioice.ice.get_host_addresses = _ORIGINAL_HOST_ADDRESSES
        return
    fixed = list(addresses)
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: list(fixed)


_ORIGINAL_HOST_ADDRESSES = aioice.ice.get_host_addresses


def ice_connection(dtls: RTCDtlsTransport) -> aioice.Connection:
    """The aioice connection under a DTLS transport."""
    conn: aioice.Connection = dtls.transport._connection
    return conn


def intercept_datagrams(dtls: RTCDtlsTransport, fast: Callable[[bytes], bool]) -> None:
    """Offer every datagram of ``dtls``'s ICE connection to ``fast`` first.

    ``fast`` returns True when it consumed the datagram; anything else (STUN answers, DTLS,
    SRTCP, RTP before the keys exist) continues on aiortc's path unchanged.  aioice's
    ``StunProtocol.datagram_received`` calls ``Connection.data_received(data, component)`` for
    every non-STUN datagram, so an instance attribute replaces it for this connection only.
    """
    conn = ice_connection(dtls)
    original: DatagramHandler = conn.data_received

    def data_received(data: bytes, component: int) -> None:
        if not fast(data):
            original(data, component)

    conn.data_received = data_received  # type: ignore[method-assign]


def rx_session(dtls: RTCDtlsTransport) -> Session | None:
    """The SRTP session that unprotects what the peer sends (None until DTLS completes)."""
    session: Session | None = dtls._rx_srtp
    return session


def tx_session(dtls: RTCDtlsTransport) -> Session | None:
    session: Session | None = dtls._tx_srtp
    return session


def nominated_pair(dtls: RTCDtlsTransport) -> tuple[Any, tuple[str, int]] | None:
    """(asyncio datagram transport, remote address) of the nominated pair, or None.

    Looked up again when the pair changes (an ICE restart nominates a new one).
    """
    pair = ice_connection(dtls)._nominated.get(1)
    if pair is None:
        return None
    return pair.protocol.transport, pair.remote_addr


def nominated_key(dtls: RTCDtlsTransport) -> object | None:
    """An identity for the nominated pair, to notice that it changed."""
    return ice_connection(dtls)._nominated.get(1)


def nominated_pairs(dtls: RTCDtlsTransport) -> dict[int, Any]:
    """aioice's nominated pairs by component: ``.get(1)`` is what :func:`nominated_key` gives.

    The dict is made once in ``Connection.__init__`` and only changed in place (a nomination,
    ``close()``), and the DTLS transport keeps its ICE connection for life, so a downlink may
    hold it and look it up per packet without the attribute walk.
    """
    pairs: dict[int, Any] = ice_connection(dtls)._nominated
    return pairs


class InPlaceProtector:
    """SRTP-protects into one preallocated buffer with libsrtp directly.

    pylibsrtp's ``Session.protect`` copies in and out of its own buffer on every call; here the
    caller writes the plain packet into :attr:`buffer`, patches it, and protects it in place.
    The libsrtp 2 call is the one ``Session.__process`` makes.
    """

    __slots__ = ("_cdata", "_len", "_srtp", "buffer")

    def __init__(self, session: Session) -> None:
        self._srtp = session._srtp[0]
        self._cdata = ffi.new("char[]", 1600)
        self._len = ffi.new("int *")
        self.buffer: Any = ffi.buffer(self._cdata)

    def protect(self, length: int) -> bytes:
        """Protect the ``length`` plain bytes at the start of :attr:`buffer`; the SRTP packet."""
        self._len[0] = length
        rc = lib.srtp_protect(self._srtp, self._cdata, self._len)
        if rc != 0:
            raise ValueError(f"srtp_protect failed: {rc}")
        out: bytes = self.buffer[0 : self._len[0]]
        return out


def sender_rtcp_handler(sender: RTCRtpSender, handler: Callable[[Any], Any]) -> None:
    """Route the RTCP aiortc gives ``sender`` (NACK, PLI, FIR, RR, REMB) to ``handler``.

    ``RTCDtlsTransport._handle_rtcp_data`` awaits ``recipient._handle_rtcp_packet(packet)``
    for the sender whose SSRC the packet names; an instance attribute takes its place.
    """
    sender._handle_rtcp_packet = handler  # type: ignore[method-assign,assignment]


def original_sender_rtcp(sender: RTCRtpSender) -> Callable[[Any], Any]:
    handler: Callable[[Any], Any] = RTCRtpSender._handle_rtcp_packet.__get__(sender)
    return handler


def feed_sender_report(
    sender: RTCRtpSender, ntp: int, rtp_timestamp: int, packets: int, octets: int
) -> None:
    """Give the sender's own RTCP loop the figures of what we forwarded on its SSRC.

    Its sender reports then carry a true NTP/RTP pair (lip sync) and, through LSR/DLSR in the
    subscriber's receiver reports, aiortc computes the round-trip time for us.
    """
    private: Any = sender
    private._RTCRtpSender__ntp_timestamp = ntp
    private._RTCRtpSender__rtp_timestamp = rtp_timestamp & 0xFFFFFFFF
    private._RTCRtpSender__packet_count = packets & 0xFFFFFFFF
    private._RTCRtpSender__octet_count = octets & 0xFFFFFFFF


def quiet_sender_reports(sender: RTCRtpSender, idle: Callable[[], bool]) -> None:
    """Leave out the sender report (SR + SDES) aiortc's RTCP loop sends about once a second
    while ``idle()`` is true; anything else it sends (the BYE at stop) goes out as before.

    A slot that has forwarded nothing has nothing to report, and no receiver report of the
    endpoint refers to it; with 5 + 5 slots per endpoint, 8 of 10 are idle when one hall
    speaks, and their reports were most of the server's RTCP (``RTCRtpSender._run_rtcp`` calls
    ``self._send_rtcp(packets)``, so an instance attribute takes its place).
    """
    original = sender._send_rtcp

    async def send_rtcp(packets: list[Any]) -> None:
        if packets and isinstance(packets[0], RtcpSrPacket) and idle():
            return
        await original(packets)

    sender._send_rtcp = send_rtcp  # type: ignore[method-assign]


def sender_rtt(sender: RTCRtpSender) -> float | None:
    private: Any = sender
    rtt: float | None = private._RTCRtpSender__rtt
    return rtt


def receiver_stream_stats(receiver: RTCRtpReceiver) -> dict[int, Any]:
    """The receiver's per-SSRC statistics its RTCP loop reports from (we feed them)."""
    private: Any = receiver
    streams: dict[int, Any] = private._RTCRtpReceiver__remote_streams
    return streams


def without_bitrate_estimator(receiver: RTCRtpReceiver) -> None:
    """Drop the receiver's remote bitrate estimator: our datagram hook takes every RTP packet
    before aiortc's receiver would see it, so the estimator is never fed, yet each video
    receiver holds one with a 1,000-bucket rate counter (1,000 objects: 5 video m-lines per
    endpoint make 850,000 at 170 endpoints, kept alive and walked by every full garbage
    collection).  ``_handle_rtp_packet`` checks it for None, as for audio receivers."""
    private: Any = receiver
    private._RTCRtpReceiver__remote_bitrate_estimator = None


def without_decoder(receiver: RTCRtpReceiver) -> None:
    """Stop the decoder thread aiortc starts in ``receive()``: we forward, never decode.

    ``RTCRtpReceiver.receive`` starts a ``decoder_worker`` thread per receiver; with our hook no
    packet ever reaches it, so it would only sit idle (two threads per publishing endpoint).
    ``__stop_decoder`` is what aiortc itself calls on BYE or disconnect.
    """
    private: Any = receiver
    original = receiver.receive

    async def receive(parameters: Any) -> None:
        await original(parameters)
        private._RTCRtpReceiver__stop_decoder()

    private.receive = receive


async def send_rtcp(dtls: RTCDtlsTransport, data: bytes) -> None:
    """Send serialized RTCP through aiortc (SRTCP protect + ICE send)."""
    with contextlib.suppress(ConnectionError):
        await dtls._send_rtp(data)


def keep_codecs(transceiver: RTCRtpTransceiver, mime_type: str) -> list[RTCRtpCodecParameters]:
    """Negotiate only ``mime_type`` (no RTX), as the benchmark's clients do."""
    kept = [c for c in offered_codecs(transceiver) if c.mimeType.lower() == mime_type.lower()]
    return use_codecs(transceiver, kept[:1])


def offered_codecs(transceiver: RTCRtpTransceiver) -> list[RTCRtpCodecParameters]:
    """The codecs both sides support on this m-line, in the remote offer's order.

    ``setCodecPreferences`` only acts before the offer is applied, and on the answering side
    the transceiver does not exist before; ``_codecs`` is what ``createAnswer`` writes.
    """
    return list(transceiver._codecs)


def use_codecs(
    transceiver: RTCRtpTransceiver, codecs: list[RTCRtpCodecParameters]
) -> list[RTCRtpCodecParameters]:
    """Answer with exactly ``codecs`` on this m-line (what ``createAnswer`` reads)."""
    for codec in codecs:
        if codec.mimeType.lower() == "audio/opus":
            # RFC 7587: we (and the browsers we forward to) decode in-band FEC, so ask for it
            codec.parameters = {**codec.parameters, "useinbandfec": 1}
    transceiver._codecs = list(codecs)
    return list(codecs)


def header_extension_id(transceiver: RTCRtpTransceiver, uri: str) -> int | None:
    for ext in transceiver._headerExtensions:
        if ext.uri == uri:
            return int(ext.id)
    return None


def offer_direction(transceiver: RTCRtpTransceiver) -> str | None:
    """What the remote offer lets us do on this m-line (``sendonly`` = we may only send)."""
    direction: str | None = transceiver._offerDirection
    return direction


NTP = struct.Struct("!Q")
