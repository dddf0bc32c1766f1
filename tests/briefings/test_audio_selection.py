"""Who is heard by whom: the chair, the floor and at most three other active speakers (most
recent voice activity first), never a muted endpoint, never more than five sources.

The many-participant cases build the room's participants with real forwarding sources (the
stand-in peer of another media worker, which needs no network); the last test runs real aiortc
peers and checks that the audio slots follow the same choice."""

from __future__ import annotations

import time
from pathlib import Path

from meetings.briefings.live import StreamInfo
from meetings.briefings.messages import ServerFrame
from meetings.briefings.sfu import selection
from meetings.briefings.sfu.participant import Participant
from meetings.briefings.sfu.pipe import Cluster
from meetings.briefings.sfu.remote import RemotePeer
from meetings.briefings.sfu.room import Room
from tests.briefings.sfu_support import Endpoint, Tone, frames_reach, join, until

CLUSTER = Cluster(0, "test")


def _person(n: int, *, chair: bool = False, spoke: float = 0.0, audio: bool = True) -> Participant:
    pid = "chair" if chair else f"xa{n:03d}"
    streams = [StreamInfo("video", 2 * n + 2, 90000, None)]
    if audio:
        streams.append(StreamInfo("audio", 2 * n + 1, 48000, 1))
    peer = RemotePeer(pid, 1, tuple(streams), CLUSTER)
    peer.connected = True
    p = Participant(
        id=pid,
        name=f"UBND xã {n:03d}",
        agency_code=f"001.{n:03d}.00.H98",
        chair=chair,
        endpoint=not chair,
        send=lambda _f: None,
        peer=peer,
        remote=True,
    )
    p.last_spoke = spoke
    return p


def _room(n: int, now: float) -> list[Participant]:
    """A chair and ``n`` communes; commune k spoke k seconds ago×0.01 (xa000 the latest)."""
    people = [_person(0, chair=True)]
    people += [_person(k + 1, spoke=now - 0.01 * k) for k in range(n)]
    return people


def _ids(people: list[Participant]) -> list[str]:
    return [p.id for p in people]


def test_170_communes_hear_the_chair_and_the_three_latest_speakers() -> None:
    now = time.monotonic()
    people = _room(170, now)
    order = selection.audio_order(people, None, now)
    for sub in people[4:]:
        heard = selection.heard_by(order, sub)
        assert _ids(heard) == ["chair", "xa001", "xa002", "xa003"]
    # a speaker does not hear itself: the next latest comes in instead
    assert _ids(selection.heard_by(order, people[1])) == ["chair", "xa002", "xa003", "xa004"]
    # the chair hears the three latest speakers only
    assert _ids(selection.heard_by(order, people[0])) == ["xa001", "xa002", "xa003"]


def test_the_floor_is_always_heard_and_never_more_than_five() -> None:
    now = time.monotonic()
    people = _room(170, now)
    floor = people[120]  # silent for a second, far down the list of speakers
    order = selection.audio_order(people, floor.id, now)
    for sub in people:
        heard = selection.heard_by(order, sub)
        assert len(heard) <= selection.AUDIO_LIMIT
        assert sub not in heard
        if sub is not floor:
            assert heard[0] is floor
        others = [q for q in heard if not q.chair and q is not floor]
        assert len(others) <= selection.OTHER_SPEAKERS
    assert _ids(selection.heard_by(order, people[50])) == [
        floor.id,
        "chair",
        "xa001",
        "xa002",
        "xa003",
    ]


def test_muted_endpoints_are_never_heard() -> None:
    now = time.monotonic()
    people = _room(60, now)
    people[1].muted_by_chair = True  # the latest speaker, muted by the chair
    people[2].audio_muted = True  # the next one muted itself
    people[0].audio_muted = True  # the chair muted itself too
    floor = people[3]
    floor.audio_muted = True  # even the floor, while its microphone is off
    order = selection.audio_order(people, floor.id, now)
    muted = {"chair", "xa001", "xa002", "xa003"}
    for sub in people:
        heard = _ids(selection.heard_by(order, sub))
        assert not muted & set(heard)
        assert len(heard) == 3
    assert _ids(selection.heard_by(order, people[30])) == ["xa004", "xa005", "xa006"]


def test_speakers_fall_silent_and_no_one_speaking_leaves_the_chair() -> None:
    now = time.monotonic()
    people = _room(40, now - selection.ACTIVE_FOR - 1)  # everybody spoke too long ago
    order = selection.audio_order(people, None, now)
    assert _ids(selection.heard_by(order, people[7])) == ["chair"]
    people[9].last_spoke = now - 0.5
    people[30].last_spoke = now - 0.1
    no_audio = _person(99, spoke=now, audio=False)  # sound only without a microphone: nothing
    order = selection.audio_order([*people, no_audio], None, now)
    assert _ids(selection.heard_by(order, people[7])) == ["chair", "xa030", "xa009"]


async def test_audio_slots_follow_the_selection_with_real_peers(room: Room, clip: Path) -> None:
    chair = Endpoint("chair", audio=Tone(loud=False), audio_slots=5, video_slots=0)
    talkers = [
        Endpoint(f"xa{k}", audio=Tone(loud=True), audio_slots=0, video_slots=0) for k in range(6)
    ]
    viewer = Endpoint("xa-viewer", audio_slots=5, video_slots=0)
    everyone = [chair, *talkers, viewer]
    try:
        await join(room, chair, chair=True)
        for ep in [*talkers, viewer]:
            await join(room, ep)
        people = room.participants
        await until(
            lambda: all(people[t.name].last_spoke for t in talkers), "every talker is heard", 20
        )
        room.mute("xa5")
        room.give_floor("xa4")
        sub = people["xa-viewer"]
        expected = selection.heard_by(selection.audio_order(people.values(), "xa4"), sub)
        peer = sub.peer
        assert peer is not None
        got = [s.source.owner for s in peer.audio_sinks if s.source is not None]
        assert sorted(got) == sorted(q.id for q in expected)
        assert len(got) == 5 and "xa5" not in got and {"chair", "xa4"} <= set(got)
        # the viewer was told, and the chair (five slots) hears the floor and three others
        last = [f for f in viewer.signals if isinstance(f, ServerFrame) and f.type == "slots"][-1]
        assert sorted(s["source"] for s in last.data["slots"] if s["source"]) == sorted(got)
        chair_peer = people["chair"].peer
        assert chair_peer is not None
        heard_by_chair = [s.source.owner for s in chair_peer.audio_sinks if s.source]
        assert len(heard_by_chair) == 4 and "xa4" in heard_by_chair and "xa5" not in heard_by_chair
        # the muted talker's audio reaches nobody; the five chosen are decoded by the viewer
        muted = people["xa5"].peer
        assert muted is not None and muted.source("audio") is not None
        assert not muted.source("audio").sinks  # type: ignore[union-attr]
        await frames_reach(viewer, {mid: 50 for mid in viewer.mids("audio")}, "five voices")
    finally:
        for ep in everyone:
            await ep.close()
