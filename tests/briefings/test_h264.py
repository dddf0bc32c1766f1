"""H.264 beside VP8 (QĐ 157/QĐ-BTTTT): negotiated, forwarded and recorded without decoding.

Codec choice and slots, then real aiortc endpoints on loopback (one room, two media workers);
the packet-level tests are in ``test_h264_packets.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import pytest
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from meetings.briefings.live import StreamInfo, streams_from_json
from meetings.briefings.messages import SlotInfo
from meetings.briefings.sfu import codecs, hooks, rtp
from meetings.briefings.sfu.forwarder import Downlink, Sink, Source
from meetings.briefings.sfu.peer import ServerPeer
from meetings.briefings.sfu.room import Room
from meetings.briefings.signaling import POOL_KEY
from tests.briefings.h264_media import (
    IDR,
    PPS,
    SPS,
    h264_clip_fixture,  # noqa: F401
    rtp_of,
    stap,
)
from tests.briefings.sfu_support import Endpoint, Tone, frames_reach, join, keyframe_requests, until
from tests.briefings.signal_client import Socket, roster, you
from tests.briefings.test_workers import (  # the two-worker fixtures and signaling helpers
    Client,
    _briefing,
    _join,
    pool,  # noqa: F401
    two_workers,  # noqa: F401
)
from tests.conftest import People

VIDEO_FRAMES = 90
"""Three seconds of the 30 fps clip (a count, never a rate)."""


# -- negotiation and slots -------------------------------------------------------------------


def _codec(mime: str, pt: int, **params: Any) -> RTCRtpCodecParameters:
    return RTCRtpCodecParameters(mimeType=mime, clockRate=90000, payloadType=pt, parameters=params)


def test_codec_choice() -> None:
    vp8 = _codec("video/VP8", 96)
    cb = _codec("video/H264", 102, **{"packetization-mode": "1", "profile-level-id": "42e01f"})
    base = _codec("video/H264", 100, **{"packetization-mode": "1", "profile-level-id": "42001f"})
    mode0 = _codec("video/H264", 104, **{"packetization-mode": "0", "profile-level-id": "42e01f"})
    high = _codec("video/H264", 106, **{"packetization-mode": "1", "profile-level-id": "640c1f"})
    bad = _codec("video/H264", 108, **{"packetization-mode": "1", "profile-level-id": "zz"})
    assert codecs.for_publisher([base, cb, vp8]) == [vp8]  # VP8 first when offered
    assert codecs.for_publisher([mode0, base, high, cb]) == [cb]
    assert codecs.for_publisher([mode0, base, high, bad]) == []
    assert codecs.for_slot([base, cb, high, vp8]) == [base, vp8]
    assert codecs.payload_types([base, vp8]) == {"H264": 100, "VP8": 96}


def test_a_slot_in_another_codec_is_filled_but_never_forwarded() -> None:
    sent: list[bytes] = []

    class Counted(Downlink):
        def send(self, data: bytes) -> None:
            sent.append(data)

    downlink = Counted(None, None)  # type: ignore[arg-type]
    asked: list[int] = []
    source = Source("tablet", "video", 90000, None, asked.append, codec=codecs.H264)
    source.ssrc = 5
    vp8_only = Sink(downlink, "video", "3", 77, {"VP8": 96}, 90000)
    vp8_only.attach(source)
    assert vp8_only.source is source and vp8_only.mismatch and not vp8_only.waiting
    assert vp8_only.flowing is None and vp8_only not in source.sinks
    assert asked == []  # no key frame is asked for a slot that cannot take it
    source.forward(rtp_of(stap(SPS, PPS, IDR)))
    assert sent == [] and vp8_only.retransmit([1]) == 0 and vp8_only.report_figures() is None
    vp8_only.detach()
    assert vp8_only.source is None and not vp8_only.mismatch
    both = Sink(downlink, "video", "4", 78, {"VP8": 96, "H264": 102}, 90000)
    both.attach(source)
    assert not both.mismatch and both.pt == 102 and asked == [5]


def test_wire_formats_carry_the_codec() -> None:
    assert SlotInfo("1", "video", "tablet", True, "H.264").codec_mismatch
    with pytest.raises(ValueError, match="codec"):
        SlotInfo("1", "video", "tablet", False, "H.265")
    with pytest.raises(ValueError, match="empty slot"):
        SlotInfo("1", "video", None, True, None)
    info = StreamInfo("video", 9, 90000, None, "H264")
    assert streams_from_json(f"[{json.dumps(info.to_json())}]") == (info,)
    old = streams_from_json('[{"kind": "video", "stream": 9, "clock": 90000}]')
    assert old[0].codec is None  # a row from before: VP8
    assert streams_from_json('[{"kind": "video", "stream": 9, "clock": 1, "codec": "x"}]') == ()


# -- real peers --------------------------------------------------------------------------------


def _tablet(clip: Path, name: str = "tablet") -> Endpoint:
    """An endpoint whose camera sends only H.264 (an older tablet, a hardware room system)."""
    return Endpoint(
        name, clip=clip, audio=Tone(False), audio_slots=0, video_slots=0, video_codec="H264"
    )


def _first_packets(ep: Endpoint) -> dict[str, bytes]:
    """The first video RTP packet each of ``ep``'s slots receives, by mid (install before
    joining: the mid is read when a packet comes)."""
    first: dict[str, bytes] = {}
    for t in ep.pc.getTransceivers():
        if t.kind != "video" or t.direction != "recvonly":
            continue
        receiver: Any = t.receiver
        original = receiver._handle_rtp_packet

        async def spy(
            packet: Any, arrival_time_ms: int, t: Any = t, original: Any = original
        ) -> None:
            first.setdefault(t.mid or "?", packet.serialize())
            await original(packet, arrival_time_ms)

        receiver._handle_rtp_packet = spy
    return first


def _has_slots(ep: Endpoint) -> Callable[[], bool]:
    return lambda: any(f.type == "slots" for f in ep.signals)


def _shows(ep: Endpoint, mid: str, codec: str) -> Callable[[], bool]:
    return lambda: _slot(ep, mid)["codec"] == codec


def _slot(ep: Endpoint, mid: str) -> dict[str, Any]:
    frames = [f for f in ep.signals if f.type == "slots"]
    assert frames, "no slots frame"
    slots: list[dict[str, Any]] = frames[-1].data["slots"]
    return next(s for s in slots if s["mid"] == mid)


@pytest.mark.slow
async def test_h264_publisher_reaches_subscribers_that_accept_it(
    room: Room, h264_clip: Path
) -> None:
    tablet = _tablet(h264_clip)
    asked = keyframe_requests(tablet)
    viewer = Endpoint("xa0")  # aiortc offers VP8 and H.264, as browsers do
    h264_only = Endpoint("xa1", video_codec="H264")
    vp8_only = Endpoint("xa2", video_codec="VP8")
    try:
        await join(room, tablet, chair=True)
        peer = room.participants["tablet"].peer
        assert isinstance(peer, ServerPeer)
        source = peer.source("video")
        assert source is not None and source.codec == codecs.H264
        firsts = {ep.name: _first_packets(ep) for ep in (viewer, h264_only)}
        for ep in (viewer, h264_only, vp8_only):
            await join(room, ep)
        for ep in (viewer, h264_only):
            mid = ep.mids("video")[0]
            await until(_has_slots(ep), "slots")
            assert _slot(ep, mid)["source"] == "tablet"
            await frames_reach(ep, {mid: VIDEO_FRAMES}, "the tablet's H.264 picture")
            # a new subscriber starts at a key frame: its first packet holds the SPS or IDR
            assert rtp.h264_keyframe(firsts[ep.name][mid])
        assert asked[0] >= 1  # the server asked the tablet for a key frame (PLI relayed)
        for t in peer.pc.getTransceivers():  # never decoded on the server
            assert t.receiver._RTCRtpReceiver__decoder_thread is None  # type: ignore[attr-defined]

        # the VP8-only endpoint is told, and gets no video packets on that slot
        mid = vp8_only.mids("video")[0]
        await until(lambda: _slot(vp8_only, mid)["source"] == "tablet", "the tablet's slot")
        assert _slot(vp8_only, mid)["codec_mismatch"] is True
        assert _slot(vp8_only, mid)["codec"] == "H.264"
        assert _slot(viewer, viewer.mids("video")[0])["codec_mismatch"] is False
        assert vp8_only.rtp.get(mid, []) == [] and vp8_only.frames[mid] == 0
        roster = room.roster_frame().data["participants"]
        assert next(p for p in roster if p["id"] == "tablet")["video_codec"] == "H.264"
    finally:
        for ep in (tablet, viewer, h264_only, vp8_only):
            await ep.close()


@pytest.mark.slow
async def test_a_slot_switches_between_vp8_and_h264(
    room: Room, clip: Path, h264_clip: Path
) -> None:
    """Two slots show the VP8 chair and the H.264 tablet, each in its codec; a one-slot viewer
    keeps decoding when the floor moves from the chair to the tablet and back (the payload type
    of its one slot is rewritten to each source's codec, from a key frame on)."""
    chair = Endpoint("chair", clip=clip, audio_slots=0, video_slots=0)
    tablet = _tablet(h264_clip)
    viewer = Endpoint("xa0", video_slots=2)
    single = Endpoint("xa1")
    try:
        await join(room, chair, chair=True)
        await join(room, tablet)
        await join(room, viewer)
        await join(room, single)
        mids = viewer.mids("video")
        await frames_reach(viewer, dict.fromkeys(mids, VIDEO_FRAMES), "both pictures")
        shown = {_slot(viewer, m)["source"]: _slot(viewer, m)["codec"] for m in mids}
        assert shown == {"chair": "VP8", "tablet": "H.264"}
        mid = single.mids("video")[0]
        seen = single.frames[mid]
        await frames_reach(single, {mid: seen + 30}, "the chair, in VP8")
        for floor, codec in (("tablet", "H.264"), (None, "VP8")):
            room.give_floor(floor)
            await until(_shows(single, mid, codec), codec)
            seen = single.frames[mid]
            await frames_reach(single, {mid: seen + VIDEO_FRAMES}, f"the slot, now {codec}")
    finally:
        for ep in (chair, tablet, viewer, single):
            await ep.close()


@pytest.mark.slow
async def test_an_h264_hall_is_recorded_without_decoding(h264_clip: Path, tmp_path: Path) -> None:
    room = Room(8, "Ghi hình H.264", on_empty=lambda _r: None, recordings=tmp_path)
    hooks.restrict_host_addresses(["127.0.0.1"])
    tablet = _tablet(h264_clip)
    try:
        await join(room, tablet, chair=True)
        path = room.start_recording()
        assert path is not None and path.suffix == ".mkv"
        recorder = room.recorder
        assert recorder is not None
        await until(lambda: recorder.frames >= 60, "60 recorded frames", 30)
        assert await room.stop_recording() == path
        assert recorder.audio_packets >= 50  # the tablet's Opus beside its H.264
        with av.open(str(path)) as container:
            video = container.streams.video[0]
            assert (video.codec_context.name, video.width, video.height) == ("h264", 320, 240)
            assert container.streams.audio[0].codec_context.name in ("opus", "libopus")
        with av.open(str(path)) as container:
            assert sum(1 for _ in container.decode(video=0)) >= 60
    finally:
        await tablet.close()
        await room.close()
        hooks.restrict_host_addresses(None)


@pytest.mark.slow
async def test_new_subscriber_waits_for_an_h264_key_frame(room: Room, h264_clip: Path) -> None:
    tablet = _tablet(h264_clip)
    first = Endpoint("xa0")
    try:
        await join(room, tablet, chair=True)
        await join(room, first)
        await frames_reach(first, {first.mids("video")[0]: 30}, "the first subscriber")
        asked = keyframe_requests(tablet)
        late = Endpoint("xa9")
        firsts = _first_packets(late)
        try:
            await join(room, late)
            mid = late.mids("video")[0]
            await frames_reach(late, {mid: 30}, "the late subscriber")
            assert asked[0] >= 1  # its slot asked the publisher for a key frame
            assert rtp.h264_keyframe(firsts[mid])
        finally:
            await late.close()
    finally:
        await tablet.close()
        await first.close()


@pytest.mark.slow
@pytest.mark.usefixtures("pool")
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_h264_crosses_media_workers(client: Client, people: People, h264_clip: Path) -> None:
    """The tablet publishes on worker 0; on worker 1 the codec comes from the shared state: one
    subscriber decodes H.264 through the pipe, a VP8-only one is told."""
    bid, tokens = await _briefing(client, people)
    tablet = _tablet(h264_clip, "chair")
    viewer, vp8_only = Endpoint("xa1"), Endpoint("xa2", video_codec="VP8")
    sockets: list[Socket] = []
    try:
        sockets.append(await _join(client, bid, tokens["chutich"], tablet))
        for ep in (viewer, vp8_only):
            sockets.append(await _join(client, bid, tokens[ep.name], ep))
        assert client.app[POOL_KEY].load == {0: 1, 1: 2}
        mid = viewer.mids("video")[0]
        await frames_reach(viewer, {mid: VIDEO_FRAMES}, "H.264 through the pipe")
        chair_id = you(sockets[0])

        def told() -> bool:
            slots = (sockets[2].last("slots") or {}).get("slots", [])
            return any(s["source"] == chair_id and s["codec_mismatch"] for s in slots)

        await until(told, "the VP8-only endpoint on worker 1 is told")
        assert roster(sockets[2])[chair_id]["video_codec"] == "H.264"
        assert vp8_only.frames[vp8_only.mids("video")[0]] == 0
    finally:
        for sock in sockets:
            await sock.close()
        for ep in (tablet, viewer, vp8_only):
            await ep.close()
