"""H.264 packets without peers: key frames, access units, SPS sizes and the recorder.

Checked on packets aiortc itself makes (``H264Encoder.pack``, ``RtpPacket.serialize``) and on
malformed payloads, which must never raise.
"""

from __future__ import annotations

import os
from pathlib import Path

import av
import pytest

from meetings.briefings.sfu import codecs, h264, rtp
from meetings.briefings.sfu.recorder import HallRecorder
from tests.briefings.h264_media import (
    IDR,
    PPS,
    SLICE,
    SPS,
    access_units,
    h264_clip_fixture,  # noqa: F401
    nals,
    rtp_of,
    rtp_packets,
    stap,
)

VIDEO_FRAMES = 90
"""Three seconds of the 30 fps clip (a count, never a rate)."""


# -- key frames ------------------------------------------------------------------------------


def test_h264_keyframe_in_single_nal_stap_a_and_fu_a() -> None:
    assert rtp.h264_keyframe(rtp_of(IDR))
    assert rtp.h264_keyframe(rtp_of(SPS))
    assert not rtp.h264_keyframe(rtp_of(SLICE))
    assert not rtp.h264_keyframe(rtp_of(PPS))  # a PPS alone: wait for the SPS or the IDR
    assert rtp.h264_keyframe(rtp_of(stap(SPS, PPS, IDR)))
    assert rtp.h264_keyframe(rtp_of(stap(PPS, IDR)))
    assert not rtp.h264_keyframe(rtp_of(stap(SLICE, SLICE)))
    fu_start, fu_middle = bytes([0x7C, 0x85, 1, 2]), bytes([0x7C, 0x05, 3, 4])
    assert rtp.h264_keyframe(rtp_of(fu_start))
    assert not rtp.h264_keyframe(rtp_of(fu_middle))
    assert not rtp.h264_keyframe(rtp_of(bytes([0x7C, 0x81, 1])))  # start of a non-IDR slice


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        bytes([0x7C]),  # FU-A without its header
        bytes([0x78]),  # empty STAP-A
        bytes([0x78, 0x00]),  # STAP-A cut inside a length
        bytes([0x78, 0x00, 0x09, 0x67]),  # STAP-A length past the end
        bytes([0x78, 0x00, 0x00, 0x65]),  # STAP-A unit of length 0
        bytes([0x79, 0x00]),  # STAP-B: interleaved mode, never negotiated
        bytes([0x00]),  # NAL type 0
    ],
)
def test_malformed_h264_payloads_are_no_key_frame_and_no_crash(payload: bytes) -> None:
    assert not rtp.h264_keyframe(rtp_of(payload))
    assert h264.nal_units(payload) is None
    units = h264.AccessUnits()
    assert units.push(rtp_of(payload)) is None
    assert units.push(b"\x80") is None  # shorter than an RTP header


def test_h264_keyframe_with_padding_and_truncated_header() -> None:
    padded = bytearray(rtp_of(stap(SPS, PPS, IDR) + bytes([0, 0, 3])))
    padded[0] |= 0x20
    assert rtp.h264_keyframe(bytes(padded))
    assert not rtp.h264_keyframe(bytes([0x90, 102]) + bytes(10))  # extension cut short


def test_keyframes_on_aiortc_packets(h264_clip: Path) -> None:
    """aiortc's own packetizer: only the packets of key frames are flagged, and each key
    frame's first packet (the STAP-A with SPS and PPS) is."""
    units = access_units(h264_clip, 65)
    by_ts: dict[int, list[bool]] = {}
    for packet in rtp_packets(units):
        by_ts.setdefault(rtp.timestamp(packet), []).append(rtp.h264_keyframe(packet))
    flags = list(by_ts.values())
    assert [f[0] for f in flags] == [key for _, key in units]
    assert all(not any(f) for f, (_, key) in zip(flags, units, strict=True) if not key)
    assert any(len(f) > 3 for f in flags)  # key frames span FU-A fragments


# -- access units ------------------------------------------------------------------------------


def test_access_units_round_trip_and_decode(h264_clip: Path) -> None:
    units = access_units(h264_clip, 65)
    assembler = h264.AccessUnits()
    out = [u for p in rtp_packets(units) if (u := assembler.push(p)) is not None]
    assert len(out) == len(units)
    for (mine, key), (theirs, their_key) in zip(out, units, strict=True):
        assert key == their_key
        assert h264.units_of(mine) == nals(theirs)
    assert h264.access_unit_size(out[0][0]) == (320, 240)
    decoder = av.CodecContext.create("h264", "r")
    frames = sum(len(decoder.decode(av.Packet(au))) for au, _ in out)
    frames += len(decoder.decode(None))
    assert frames == len(units)


def test_a_lost_packet_drops_frames_until_the_next_idr(h264_clip: Path) -> None:
    units = access_units(h264_clip, 65)
    packets = list(rtp_packets(units))
    frame_ts = sorted({rtp.timestamp(p) for p in packets})
    victim = next(i for i, p in enumerate(packets) if rtp.timestamp(p) == frame_ts[5])
    assembler = h264.AccessUnits()
    out = [
        (rtp.timestamp(p), u[1])
        for i, p in enumerate(packets)
        if i != victim and (u := assembler.push(p)) is not None
    ]
    kept = [ts for ts, _ in out]
    assert kept[:5] == frame_ts[:5]
    next_idr = frame_ts[[key for _, key in units].index(True, 1)]
    assert frame_ts[5] not in kept and kept[5] == next_idr  # nothing until the next key frame
    assert out[5][1]


def test_truncated_fu_a_spoils_only_its_access_unit() -> None:
    assembler = h264.AccessUnits()
    assert assembler.push(rtp_of(stap(SPS, PPS, IDR), seq=1, ts=0)) is not None
    # an FU-A that never ends, then the marker on a single NAL: the unit is cut short
    assert assembler.push(rtp_of(bytes([0x7C, 0x81, 1, 2]), marker=False, seq=2, ts=3000)) is None
    assert assembler.push(rtp_of(SLICE, seq=3, ts=3000)) is None
    # a fragment with no start, and a stray end
    assert assembler.push(rtp_of(bytes([0x7C, 0x41, 9]), seq=4, ts=6000)) is None
    assert assembler.push(rtp_of(SLICE, seq=5, ts=9000)) is None  # broken until an IDR
    unit = assembler.push(rtp_of(bytes([0x7C, 0x85, 7]), marker=False, seq=6, ts=12000))
    assert unit is None
    unit = assembler.push(rtp_of(bytes([0x7C, 0x45, 8]), seq=7, ts=12000))
    assert unit == (b"\x00\x00\x00\x01" + bytes([0x65, 7, 8]), True)


def test_picture_size_of_bad_sps() -> None:
    assert h264.picture_size(b"") is None
    assert h264.picture_size(PPS) is None
    assert h264.picture_size(bytes([0x67, 0x42])) is None  # cut short
    assert h264.picture_size(bytes([0x67]) + b"\x00" * 12) is None  # a runaway exp-Golomb code


# -- recording ---------------------------------------------------------------------------------


def test_recorder_muxes_h264_to_matroska(h264_clip: Path, tmp_path: Path) -> None:
    units = access_units(h264_clip, 95)
    recorder = HallRecorder(tmp_path / "hall.webm", codecs.H264)
    assert recorder.path == tmp_path / "hall.mkv"
    tap = recorder.tap("video")
    tap(rtp_of(bytes([0x78])))  # malformed packets before and among the others
    for i, packet in enumerate(rtp_packets(units)):
        tap(packet)
        if i == 40:
            tap(rtp_of(bytes([0x7C]), seq=7))
    recorder.stop()
    # the stray packet broke one frame; the recording waits for the next IDR after it
    assert 30 <= recorder.frames < len(units)
    with av.open(str(recorder.path)) as container:
        video = container.streams.video[0]
        assert (video.codec_context.name, video.width, video.height) == ("h264", 320, 240)
        packets = [p for p in container.demux(video) if p.size]
        assert len(packets) == recorder.frames
        assert all(p.pts == p.dts for p in packets)
        times = [p.pts or 0 for p in packets]
        assert times == sorted(times) and len(set(times)) == len(times)
        assert sum(p.is_keyframe for p in packets) >= 2
    with av.open(str(recorder.path)) as container:
        assert sum(1 for _ in container.decode(video=0)) == recorder.frames


def test_recorder_survives_garbage(tmp_path: Path) -> None:
    recorder = HallRecorder(tmp_path / "hall.webm", codecs.H264)
    tap = recorder.tap("video")
    for payload in (b"", bytes([0x78]), bytes([0x7C]), bytes([0x67, 0x42]), os.urandom(50)):
        tap(rtp_of(payload))
    tap(b"\x80\x66")
    recorder.stop()
    assert recorder.frames == 0 and not recorder.path.exists()
