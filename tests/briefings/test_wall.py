"""The hall's wall (màn hình hội trường): every commune in pages of 25 for the roll call, in a
stable order, the communes not connected named, and video forwarded only for the page shown.

The paging cases use the room's participants with real forwarding sources (the stand-in peer of
another media worker, no network); the forwarding test runs real aiortc peers and counts what
the forwarder sent, never how fast."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from meetings.briefings.live import StreamInfo
from meetings.briefings.messages import BadMessage, ServerFrame, parse_client_message
from meetings.briefings.sfu import wall
from meetings.briefings.sfu.participant import Participant
from meetings.briefings.sfu.pipe import Cluster
from meetings.briefings.sfu.remote import RemotePeer
from meetings.briefings.sfu.room import Room
from tests.briefings.sfu_support import Endpoint, frames_reach, join, until

CLUSTER = Cluster(0, "test")


def _commune(n: int, *, connected: bool = True) -> Participant:
    peer = RemotePeer(f"p{n}", 1, (StreamInfo("video", n + 1, 90000, None),), CLUSTER)
    peer.connected = connected
    return Participant(
        id=f"p{n}",
        name=f"UBND xã {n:03d}",
        agency_code=f"002.{n:03d}.00.H98",
        chair=False,
        endpoint=True,
        send=lambda _f: None,
        peer=peer,
        remote=True,
    )


def test_forty_communes_page_by_25_in_agency_order() -> None:
    people = [_commune(n, connected=n % 4 != 0) for n in reversed(range(34))]
    chair = Participant("chair", "Chủ tịch", "000.00.00.H98", True, False, lambda _f: None)
    hall = Participant("hall", "Hội trường tỉnh", "000.00.01.H98", False, True, lambda _f: None)
    invited = {f"002.{n:03d}.00.H98": f"UBND xã {n:03d}" for n in range(40)}
    invited["000.00.01.H98"] = "Hội trường tỉnh"  # the hall's own agency is not a commune
    entries = wall.communes([*people, chair, hall], invited, {"hall"})
    assert len(entries) == 40
    assert [e.agency_code for e in entries] == sorted(invited)[1:]
    assert [e.id for e in entries[:3]] == ["p0", "p1", "p2"]
    assert entries[-1].id == "agency:002.039.00.H98" and entries[-1].participant is None
    page, pages, shown = wall.page_of(entries, 2, wall.WALL_SIZE)
    assert (page, pages, len(shown)) == (2, 2, 15)
    assert [e.name for e in shown][:2] == ["UBND xã 025", "UBND xã 026"]
    not_connected = [e.name for e in shown if not e.connected]
    # every 4th joined commune is not connected, and the six that never joined
    assert not_connected == [f"UBND xã {n:03d}" for n in (28, 32, 34, 35, 36, 37, 38, 39)]
    assert wall.page_of(entries, 9, wall.WALL_SIZE)[:2] == (2, 2)  # past the end: the last
    assert wall.page_of([], 1, wall.WALL_SIZE)[:2] == (1, 1)
    # the order is stable: a commune joining takes its placeholder's place
    late = _commune(39)
    again = wall.communes([*people, late, chair, hall], invited, {"hall"})
    assert [e.agency_code for e in again] == [e.agency_code for e in entries]
    assert again[-1].id == "p39"


def test_the_page_message_is_validated() -> None:
    msg = parse_client_message('{"type": "wall_page", "page": 2}')
    assert msg.page == 2  # type: ignore[union-attr]
    for bad in (
        '{"type": "wall_page", "page": 0}',
        '{"type": "wall_page", "page": 1.5}',
        '{"type": "wall_page", "page": "2"}',
        '{"type": "wall_page"}',
        '{"type": "wall_page", "page": true}',
        '{"type": "wall_page", "page": 100000}',
    ):
        with pytest.raises(BadMessage):
            parse_client_message(bad)
    chair = parse_client_message('{"type": "chair", "action": "wall", "target": "u9"}')
    assert chair.action == "wall"  # type: ignore[union-attr]
    with pytest.raises(BadMessage):
        parse_client_message('{"type": "chair", "action": "wall"}')


def _walls(ep: Endpoint) -> list[dict[str, Any]]:
    return [
        f.data["wall"]
        for f in ep.signals
        if isinstance(f, ServerFrame) and f.type == "slots" and f.data.get("wall")
    ]


async def test_the_wall_gets_video_only_for_its_page(room: Room, clip: Path) -> None:
    """Five communes on a wall of three tiles: two pages; the other page's are never forwarded."""
    chair = Endpoint("chair", clip=clip, audio_slots=0, video_slots=0)
    communes = [Endpoint(f"xa{k}", clip=clip, audio_slots=0, video_slots=0) for k in range(5)]
    hall = Endpoint("hall", audio_slots=0, video_slots=3)
    room.expect({"009.00.77.H98": "UBND xã Vắng Mặt"})  # invited, never joins
    try:
        await join(room, chair, chair=True)
        for ep in communes:
            await join(room, ep)
        await join(room, hall)
        ps = room.participants
        for k, ep in enumerate(communes):  # a stable order: agency code, then name
            ps[ep.name].agency_code = f"001.00.{k:02d}.H98"
        room.set_wall("hall", True)
        assert any(f.type == "wall" and f.data["on"] for f in hall.signals)
        sinks = ps["hall"].peer.video_sinks  # type: ignore[union-attr]
        video = {ep.name: ps[ep.name].peer.source("video") for ep in communes}  # type: ignore[union-attr]
        assert [s.source.owner for s in sinks if s.source] == ["xa0", "xa1", "xa2"]
        state = _walls(hall)[-1]
        assert (state["page"], state["pages"], state["size"], state["total"]) == (1, 2, 3, 6)
        assert [t["id"] for t in state["tiles"]] == ["xa0", "xa1", "xa2"]
        assert state["missing"] == [] and state["missing_total"] == 1
        await frames_reach(hall, {s.mid: 30 for s in sinks}, "page 1 on the wall")
        # the communes off the page fill no slot: nothing of theirs was forwarded
        for name in ("xa3", "xa4"):
            assert video[name].sinks == [] and video[name].forwarded == 0  # type: ignore[union-attr]

        room.set_wall_page(2)
        assert [s.source.owner if s.source else None for s in sinks] == ["xa3", "xa4", None]
        state = _walls(hall)[-1]
        assert (state["page"], state["pages"]) == (2, 2)
        assert [t["id"] for t in state["tiles"]] == ["xa3", "xa4", "agency:009.00.77.H98"]
        assert state["tiles"][2]["connected"] is False and state["tiles"][2]["mid"] is None
        assert state["missing"] == ["UBND xã Vắng Mặt"]
        before = {n: video[n].forwarded for n in ("xa0", "xa1", "xa2")}  # type: ignore[union-attr]
        frames = {s.mid: hall.frames[s.mid] + 30 for s in sinks[:2]}
        await frames_reach(hall, frames, "page 2 on the wall")
        for name in ("xa0", "xa1", "xa2"):  # page 1 left the wall: not one packet more
            assert video[name].sinks == []  # type: ignore[union-attr]
            assert video[name].forwarded == before[name]  # type: ignore[union-attr]
        assert video["xa3"].forwarded > 0  # type: ignore[union-attr]

        # past the last page: the last; a commune leaving is named not connected
        room.set_wall_page(7)
        assert room.wall_page == 2
        await communes[4].close()
        room.leave(ps["xa4"])
        await until(lambda: "xa4" not in [t["id"] for t in _walls(hall)[-1]["tiles"]], "xa4 gone")
        assert sinks[1].source is None or sinks[1].source.owner != "xa4"
        # the wall off: the hall is an ordinary endpoint again (last-N, the chair first)
        room.set_wall("hall", False)
        assert sinks[0].source is not None and sinks[0].source.owner == "chair"
    finally:
        for ep in [chair, *communes, hall]:
            await ep.close()
