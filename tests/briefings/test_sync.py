"""Agreeing with the shared state is a plan made from data alone, then carried out by the room.

:func:`meetings.briefings.sfu.sync.plan` reads a view of the room and the rows read from the
database and writes nothing; these tests check its decisions without peers or workers, and that
a room carries out the decisions that need no other worker.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from meetings.briefings.live import LiveRow, LiveSnapshot, StreamInfo
from meetings.briefings.messages import ServerFrame
from meetings.briefings.sfu.participant import Participant
from meetings.briefings.sfu.room import Room
from meetings.briefings.sfu.sync import Member, Own, Remote, Replaced, RoomView, plan

AUDIO = (StreamInfo("audio", 11, 48000, 1),)


def _row(pid: str, worker: int | None, epoch: str, **kw: Any) -> LiveRow:
    values: dict[str, Any] = {
        "name": pid,
        "agency_code": "",
        "chair": False,
        "endpoint": True,
        "connected": True,
        "streams": AUDIO,
        "audio_muted": False,
        "video_muted": False,
        "muted_by_chair": False,
        "hand": False,
        "audio_only": False,
        "rtt_ms": None,
        "loss": None,
    }
    return LiveRow(id=pid, worker=worker, epoch=epoch, **{**values, **kw})


def _member(pid: str, *, remote: bool = False, **kw: Any) -> Member:
    values: dict[str, Any] = {
        "audio_muted": False,
        "video_muted": False,
        "muted_by_chair": False,
        "hand": False,
        "audio_only": False,
        "streams": AUDIO if remote else None,
        "connected": True,
    }
    return Member(id=pid, remote=remote, **{**values, **kw})


def _view(*members: Member, **kw: Any) -> RoomView:
    values: dict[str, Any] = {
        "loaded": True,
        "recording": False,
        "can_record": True,
        "chair_is_local": False,
        "spotlight": None,
        "ended": False,
        "host": (0, "e0"),
        "multi": True,
        "alive": frozenset({(0, "e0"), (1, "e1")}),
    }
    return RoomView(members=members, **{**values, **kw})


def test_a_rejoin_on_another_worker_replaces_ours_and_pipes_to_it() -> None:
    row = _row("xa-a", 1, "e1")
    got = plan(_view(_member("xa-a")), LiveSnapshot(rows=(row,)))
    assert got.steps == (Replaced("xa-a"), Remote(row, new_peer=True))
    assert got.changed and got.pipe_workers == (1,) and got.gone == ()


def test_a_remote_participant_of_a_gone_worker_leaves() -> None:
    row = _row("xa-b", 2, "old")  # worker 2 is not heard any more
    got = plan(_view(_member("xa-b", remote=True)), LiveSnapshot(rows=(row,)))
    assert got.steps == () and got.gone == ("xa-b",) and got.changed
    assert got.pipe_workers == ()


def test_the_chairs_changes_reach_our_participants() -> None:
    rows = (
        _row("xa-a", 0, "e0", muted_by_chair=True),
        _row("xa-b", 0, "e0", hand=False),
        _row("xa-c", 0, "e0"),
    )
    view = _view(_member("xa-a"), _member("xa-b", hand=True), _member("xa-c"))
    got = plan(view, LiveSnapshot(spotlight="xa-c", rows=rows))
    assert got.steps == (Own("xa-a", True, False, True), Own("xa-b", False, False, False))
    assert got.spotlight_changed and got.floor_to == "xa-c" and got.tell_spotlight
    assert got.changed and got.recording is None and not got.end


def test_an_unchanged_remote_keeps_its_stand_in_and_counts_as_no_change() -> None:
    row = _row("xa-b", 1, "e1", rtt_ms=40.0)
    got = plan(_view(_member("xa-b", remote=True)), LiveSnapshot(rows=(row,)))
    assert got.steps == (Remote(row, new_peer=False),) and not got.changed
    moved = dataclasses.replace(row, streams=(StreamInfo("audio", 13, 48000, 1),))
    assert plan(_view(_member("xa-b", remote=True)), LiveSnapshot(rows=(moved,))).steps == (
        Remote(moved, new_peer=True),
    )


def test_first_read_sets_quietly_and_a_local_chair_keeps_the_recording() -> None:
    state = LiveSnapshot(spotlight="xa-a", recording=True, ended=True)
    first = plan(_view(_member("xa-a"), loaded=False), state)
    assert first.recording is True and not first.tell_recording
    assert first.spotlight_changed and first.floor_to is None and not first.tell_spotlight
    assert first.end
    later = plan(_view(chair_is_local=True), LiveSnapshot(recording=True))
    assert later.recording is None and not later.tell_recording
    assert plan(_view(can_record=False, loaded=False), state).recording is False


async def test_the_room_carries_out_the_plan() -> None:
    """A room on its own (no workers): the chair's mute from the shared copy reaches ours."""
    room = Room(1, "Giao ban thử", on_empty=lambda _r: None)
    frames: list[ServerFrame] = []
    room.join(Participant("xa-a", "Xã A", "", chair=False, endpoint=True, send=frames.append))
    room.apply(LiveSnapshot())  # the first read tells nobody
    room.apply(LiveSnapshot(spotlight="xa-a", rows=(_row("xa-a", 0, "", muted_by_chair=True),)))
    p = room.participants["xa-a"]
    assert room.loaded and room.spotlight == "xa-a" and p.muted_by_chair
    kinds = [f.type for f in frames]
    assert kinds[-4:] == ["floor", "spotlight", "muted", "delta"]
    await room.close()
