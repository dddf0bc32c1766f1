"""The private internals we hook, checked against aiortc's own parse/serialize and source.

If an upgrade of aiortc, aioice or pylibsrtp moves any of them, these fail before a briefing does.
"""

from __future__ import annotations

import fractions
import gc
import inspect
import os
from importlib.metadata import version
from typing import Any

import aioice.ice
import pytest
from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpSender
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtcrtpreceiver import NackGenerator, StreamStatistics
from aiortc.rtp import (
    HeaderExtensionsMap,
    RtcpByePacket,
    RtcpSenderInfo,
    RtcpSrPacket,
    RtpPacket,
)
from av import VideoFrame
from pylibsrtp import Policy, Session

from meetings.briefings.sfu import hooks, rtp
from meetings.briefings.sfu.forwarder import PATCH

EXTENSIONS = HeaderExtensionsMap()
EXTENSIONS.configure(
    RTCRtpParameters(
        headerExtensions=[
            RTCRtpHeaderExtensionParameters(id=1, uri="urn:ietf:params:rtp-hdrext:sdes:mid"),
            RTCRtpHeaderExtensionParameters(id=3, uri=rtp.AUDIO_LEVEL_URI),
            RTCRtpHeaderExtensionParameters(
                id=4, uri="http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
            ),
        ]
    )
)


def test_pinned_versions_are_installed() -> None:
    for name, pinned in hooks.PINNED.items():
        assert version(name) == pinned, f"{name} moved: re-check meetings/briefings/sfu/hooks.py"


def _packet(**kw: Any) -> RtpPacket:
    packet = RtpPacket(
        payload_type=111, sequence_number=65530, timestamp=4294967000, ssrc=0xDEADBEEF
    )
    packet.marker = 1
    packet.csrc = kw.get("csrc", [])
    packet.payload = kw.get("payload", b"\x90\x80\x12\x00payload-bytes")
    packet.extensions.mid = kw.get("mid")
    packet.extensions.audio_level = kw.get("audio_level")
    packet.extensions.abs_send_time = kw.get("abs_send_time")
    return packet


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"mid": "12", "audio_level": (True, 42), "abs_send_time": 0x123456},
        {"mid": "0", "csrc": [1, 2]},
        {"audio_level": (False, 127), "csrc": [7]},
    ],
)
def test_byte_helpers_agree_with_aiortc(kw: dict[str, Any]) -> None:
    packet = _packet(**kw)
    raw = packet.serialize(EXTENSIONS)
    assert rtp.sequence(raw) == packet.sequence_number
    assert rtp.timestamp(raw) == packet.timestamp
    assert rtp.ssrc(raw) == packet.ssrc
    assert raw[rtp.payload_offset(raw) :] == packet.payload
    assert not rtp.is_rtcp(raw)
    level = kw.get("audio_level")
    assert rtp.audio_level(raw, 3) == (level[1] if level else None)

    stripped = rtp.strip_extensions(raw)
    parsed = RtpPacket.parse(stripped, EXTENSIONS)
    assert parsed.extensions.mid is None and parsed.extensions.audio_level is None
    assert (parsed.payload, parsed.csrc, parsed.marker) == (packet.payload, packet.csrc, 1)

    buffer = bytearray(stripped)
    PATCH.pack_into(buffer, 1, 0x80 | 96, 7, 123456, 0x01020304)
    patched = RtpPacket.parse(bytes(buffer), EXTENSIONS)
    assert (patched.payload_type, patched.sequence_number, patched.timestamp, patched.ssrc) == (
        96,
        7,
        123456,
        0x01020304,
    )
    assert patched.marker == 1 and patched.payload == packet.payload


def test_truncated_and_rtcp_inputs() -> None:
    assert rtp.payload_offset(bytes([0x90]) + bytes(12)) == -1
    assert rtp.one_byte_extension(bytes([0x90]) + bytes(11), 1) is None
    assert rtp.is_rtcp(bytes([0x80, 200]))
    assert not rtp.vp8_keyframe(bytes([0x80, 96]) + bytes(10))


def test_vp8_keyframe_detection_on_aiortc_packets() -> None:
    encoder = Vp8Encoder()
    frames = []
    for i in range(3):
        frame = VideoFrame(width=160, height=120)
        for plane in frame.planes:
            plane.update(os.urandom(plane.buffer_size))
        frame.pts = i * 3000
        frame.time_base = fractions.Fraction(1, 90000)
        frames.append(encoder.encode(frame, force_keyframe=(i == 0))[0])
    for index, payloads in enumerate(frames):
        flags = []
        for seq, payload in enumerate(payloads):
            packet = _packet(payload=payload, mid="1")
            packet.sequence_number = seq
            flags.append(rtp.vp8_keyframe(packet.serialize(EXTENSIONS)))
        assert flags == [index == 0] + [False] * (len(payloads) - 1)


def test_in_place_protect_matches_pylibsrtp() -> None:
    key = bytes(range(30))
    tx1 = Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND))
    tx2 = Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND))
    rx = Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_INBOUND))
    protector = hooks.InPlaceProtector(tx1)
    for seq in range(3):
        packet = _packet(mid="3")
        packet.sequence_number = seq
        plain = packet.serialize(EXTENSIONS)
        protector.buffer[0 : len(plain)] = plain
        protected = protector.protect(len(plain))
        assert protected == tx2.protect(plain)
        assert rx.unprotect(protected) == plain


def test_private_attributes_still_exist() -> None:
    # aioice: the host-address function, the datagram callback and the nominated pairs
    assert inspect.signature(aioice.ice.get_host_addresses).parameters.keys() == {
        "use_ipv4",
        "use_ipv6",
    }
    assert "self.receiver.data_received(data" in inspect.getsource(
        aioice.ice.StunProtocol.datagram_received
    )
    connection = aioice.Connection(ice_controlling=True)
    assert connection._nominated == {}
    # nominated_pairs: the dict is made once and only changed in place
    source = inspect.getsource(aioice.Connection)
    assert "self._nominated: dict[int, CandidatePair] = {}" in source
    assert "self._nominated =" not in source
    assert callable(connection.data_received)
    # aiortc: SRTP sessions on the DTLS transport, RTCP routing to senders, sender report fields
    assert "self._rx_srtp.unprotect" in inspect.getsource(RTCDtlsTransport._recv_next)
    assert "await recipient._handle_rtcp_packet(packet)" in inspect.getsource(
        RTCDtlsTransport._handle_rtcp_data
    )
    run_rtcp = inspect.getsource(RTCRtpSender._run_rtcp)
    for name in ("__ntp_timestamp", "__rtp_timestamp", "__packet_count", "__octet_count"):
        assert f"self.{name}" in run_rtcp
    assert "await self._send_rtcp(packets)" in run_rtcp  # quiet_sender_reports
    assert "self.__rtt" in inspect.getsource(RTCRtpSender._handle_rtcp_packet)
    assert "self.__remote_streams.items()" in inspect.getsource(RTCRtpReceiver._run_rtcp)
    assert "self.__decoder_thread.start()" in inspect.getsource(RTCRtpReceiver.receive)
    handle = inspect.getsource(RTCRtpReceiver._handle_rtp_packet)
    assert "if self.__remote_bitrate_estimator is not None:" in handle
    assert "self.__remote_bitrate_estimator = RemoteBitrateEstimator()" in inspect.getsource(
        RTCRtpReceiver.__init__
    )
    assert hasattr(RTCRtpReceiver, "_RTCRtpReceiver__stop_decoder")
    add = inspect.getsource(StreamStatistics.add)
    assert "packet.sequence_number" in add and "packet.timestamp" in add
    assert "packet.payload" not in add  # our _Seen stand-in carries only those two
    nack = inspect.getsource(NackGenerator)
    assert "packet.sequence_number" in nack and "packet.payload" not in nack
    # pylibsrtp: the libsrtp 2 call Session makes, which InPlaceProtector repeats
    assert "func(self._srtp[0], self._cdata, len_p)" in inspect.getsource(Session)


async def test_quiet_sender_reports_only_while_idle() -> None:
    sent: list[list[Any]] = []

    class FakeSender:
        async def _send_rtcp(self, packets: list[Any]) -> None:
            sent.append(packets)

    sender: Any = FakeSender()
    idle = [True]
    hooks.quiet_sender_reports(sender, lambda: idle[0])
    report = RtcpSrPacket(ssrc=1, sender_info=RtcpSenderInfo(0, 0, 0, 0))
    bye = RtcpByePacket(sources=[1])
    await sender._send_rtcp([report])
    await sender._send_rtcp([bye])
    assert sent == [[bye]]
    idle[0] = False
    await sender._send_rtcp([report])
    assert sent == [[bye], [report]]


def test_restrict_host_addresses_round_trip() -> None:
    original = aioice.ice.get_host_addresses
    hooks.restrict_host_addresses(["127.0.0.1"])
    try:
        assert aioice.ice.get_host_addresses(True, True) == ["127.0.0.1"]
    finally:
        hooks.restrict_host_addresses(None)
    assert aioice.ice.get_host_addresses is original


async def test_without_bitrate_estimator_frees_the_rate_counter() -> None:
    pc = RTCPeerConnection()
    receiver = pc.addTransceiver("video").receiver
    private: Any = receiver
    assert private._RTCRtpReceiver__remote_bitrate_estimator is not None
    before = len(gc.get_objects())
    hooks.without_bitrate_estimator(receiver)
    gc.collect()
    assert private._RTCRtpReceiver__remote_bitrate_estimator is None
    assert before - len(gc.get_objects()) >= 1000  # the rate counter's buckets are gone
    await pc.close()
