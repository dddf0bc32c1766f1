"""Last-N selection across codecs: a slot goes to a source its endpoint decodes when there is one.

Nothing is transcoded, so an H.264-only tablet's picture cannot reach a VP8-only endpoint.  The
floor and the chair keep their place whatever their codec (the slot shows who it is and says
why there is no picture); the other speakers are taken latest first among those the subscriber
decodes, and only slots left over go to those it does not.

The participants are built with real forwarding sources and slots (the stand-in peer of another
media worker carries the sources; the slots are real :class:`~.forwarder.Sink`\\ s that send
nothing); ``test_codec_selection_peers.py`` runs the same choice with real aiortc peers.
"""

from __future__ import annotations

import time
from typing import Any

from meetings.briefings.live import StreamInfo
from meetings.briefings.messages import ServerFrame
from meetings.briefings.sfu import codecs, selection
from meetings.briefings.sfu.forwarder import Downlink, Sink
from meetings.briefings.sfu.participant import Participant
from meetings.briefings.sfu.pipe import Cluster
from meetings.briefings.sfu.remote import RemotePeer

CLUSTER = Cluster(0, "test")
VP8 = {codecs.VP8: 96}
H264 = {codecs.H264: 102}
BOTH = {codecs.VP8: 96, codecs.H264: 102}
SENT: dict[str, list[ServerFrame]] = {}
"""The frames each participant of the current test was sent, by id."""


class Quiet(Downlink):
    """A downlink that sends nothing (no transport): the slots only record what they show."""

    def send(self, data: bytes) -> None:
        pass


class Subscriber(RemotePeer):
    """The stand-in peer, with receiving slots of its own (told in its ``slots`` frames)."""

    @property
    def sinks(self) -> list[Sink]:
        return [*self.audio_sinks, *self.video_sinks]


def _person(
    n: int,
    codec: str = codecs.VP8,
    *,
    chair: bool = False,
    spoke: float = 0.0,
    slots: list[dict[str, int]] | None = None,
) -> Participant:
    """Commune ``n`` (or the chair) publishing video in ``codec``, with receiving ``slots``."""
    pid = "chair" if chair else f"xa{n:03d}"
    streams = (StreamInfo("video", 2 * n + 2, 90000, None, codec),)
    peer = Subscriber(pid, 1, streams, CLUSTER)
    peer.connected = True
    downlink = Quiet(None, None)  # type: ignore[arg-type]
    peer.video_sinks = [
        Sink(downlink, "video", str(k), 1000 * n + k, pts, 90000)
        for k, pts in enumerate(slots or [])
    ]
    frames = SENT[pid] = []
    p = Participant(
        id=pid,
        name=f"UBND xã {n:03d}",
        agency_code=f"001.{n:03d}.00.H98",
        chair=chair,
        endpoint=not chair,
        send=frames.append,
        peer=peer,
        remote=True,
    )
    p.last_spoke = spoke
    return p


def _shown(p: Participant) -> list[str | None]:
    """Who each of ``p``'s video slots shows, in slot order."""
    assert p.peer is not None
    return [s.source.owner if s.source else None for s in p.peer.video_sinks]


def _told(p: Participant) -> list[dict[str, Any]]:
    """The video slots of the last ``slots`` frame ``p`` was sent."""
    frames = [f for f in SENT[p.id] if f.type == "slots"]
    assert frames, f"{p.id} was told nothing"
    return [s for s in frames[-1].data["slots"] if s["kind"] == "video"]


def _mixed_room(now: float) -> list[Participant]:
    """A VP8 chair; xa001 (H.264) spoke last, then xa002 (VP8), xa003 (H.264), xa004 (VP8)."""
    return [
        _person(0, chair=True),
        _person(1, codecs.H264, spoke=now - 0.1),
        _person(2, codecs.VP8, spoke=now - 0.2),
        _person(3, codecs.H264, spoke=now - 0.3),
        _person(4, codecs.VP8, spoke=now - 0.4),
    ]


def test_a_vp8_only_endpoint_sees_vp8_speakers_before_a_later_h264_one() -> None:
    now = time.monotonic()
    people = _mixed_room(now)
    viewer = _person(9, slots=[VP8, VP8])
    selection.reassign([*people, viewer], None)
    assert _shown(viewer) == ["chair", "xa002"]
    assert [s["codec_mismatch"] for s in _told(viewer)] == [False, False]
    # three slots: still no H.264 while a VP8 speaker is left
    wide = _person(10, slots=[VP8, VP8, VP8])
    selection.reassign([*people, wide], None)
    assert _shown(wide) == ["chair", "xa002", "xa004"]


def test_an_endpoint_that_takes_both_sees_the_latest_speakers() -> None:
    now = time.monotonic()
    people = _mixed_room(now)
    viewer = _person(9, slots=[BOTH, BOTH, BOTH])
    selection.reassign([*people, viewer], None)
    assert _shown(viewer) == ["chair", "xa001", "xa002"]
    assert [s["codec"] for s in _told(viewer)] == ["VP8", "H.264", "VP8"]


def test_an_h264_only_endpoint_prefers_h264_speakers() -> None:
    now = time.monotonic()
    people = _mixed_room(now)
    tablet = _person(9, codecs.H264, slots=[H264, H264, H264])
    selection.reassign([*people, tablet], None)
    # the VP8 chair keeps its place (told as a mismatch); then the two H.264 speakers
    assert _shown(tablet) == ["chair", "xa001", "xa003"]
    assert [s["codec_mismatch"] for s in _told(tablet)] == [True, False, False]


def test_the_chair_and_the_floor_keep_their_place_in_any_codec() -> None:
    now = time.monotonic()
    people = [
        _person(0, codecs.H264, chair=True),
        _person(1, codecs.VP8, spoke=now - 0.1),
        _person(2, codecs.H264, spoke=now - 5),  # the floor, silent a while, H.264
        _person(3, codecs.VP8, spoke=now - 0.3),
    ]
    viewer = _person(9, slots=[VP8, VP8, VP8])
    selection.reassign([*people, viewer], "xa002")
    assert _shown(viewer) == ["xa002", "chair", "xa001"]
    told = {s["source"]: s["codec_mismatch"] for s in _told(viewer)}
    assert told == {"xa002": True, "chair": True, "xa001": False}
    # a weak link keeps one picture: the floor, even in a codec it cannot take
    viewer.weak = True
    selection.reassign([*people, viewer], "xa002")
    assert _shown(viewer) == ["xa002", None, None]


def test_slots_left_over_still_show_who_cannot_be_decoded() -> None:
    """With every decodable source shown, a slot left over names an H.264 speaker (the tile says
    why there is no picture) rather than staying empty; a new VP8 speaker then takes it."""
    now = time.monotonic()
    people = [
        _person(0, chair=True),
        _person(1, codecs.H264, spoke=now - 0.1),
        _person(2, codecs.VP8, spoke=now - 0.2),
    ]
    viewer = _person(9, slots=[VP8, VP8, VP8, VP8])
    selection.reassign([*people, viewer], None)
    assert _shown(viewer) == ["chair", "xa002", "xa001", None]
    assert [s["codec_mismatch"] for s in _told(viewer)] == [False, False, True, False]
    late = _person(5, codecs.VP8, spoke=now - 9)
    tablets = [_person(6 + k, codecs.H264, spoke=now - 0.01 * k) for k in range(3)]
    selection.reassign([*people, late, *tablets, viewer], None)
    # the chair and two VP8 speakers, and one slot left for the latest H.264 one (xa006); the
    # slots already showing a chosen source keep it
    assert _shown(viewer) == ["chair", "xa002", "xa005", "xa006"]


def test_a_freed_slot_takes_a_source_in_a_codec_it_negotiated() -> None:
    now = time.monotonic()
    people = [_person(0, codecs.H264, chair=True), _person(1, codecs.VP8, spoke=now)]
    viewer = _person(9, slots=[VP8, BOTH])  # only its second m-line offered H.264
    selection.reassign([*people, viewer], None)
    assert _shown(viewer) == ["xa001", "chair"]
    assert not any(s["codec_mismatch"] for s in _told(viewer))


def test_many_communes_of_both_codecs() -> None:
    """170 communes, every third one H.264, speaking in turn: every VP8-only endpoint's slots
    show only VP8 sources besides the H.264 chair, the H.264 ones only H.264 besides it."""
    now = time.monotonic()
    people = [_person(0, codecs.H264, chair=True)]
    for k in range(1, 171):
        codec = codecs.H264 if k % 3 == 0 else codecs.VP8
        takes = H264 if codec == codecs.H264 else VP8
        people.append(_person(k, codec, spoke=now - 0.01 * k, slots=[takes] * 4))
    selection.reassign(people, None)
    for p in people[1:]:
        assert p.peer is not None
        shown = [s.source for s in p.peer.video_sinks]
        assert shown[0] is not None and shown[0].owner == "chair"
        mine = p.peer.source("video")
        assert mine is not None and mine not in shown
        assert all(s is not None and s.codec == mine.codec for s in shown[1:]), p.id
