"""The wall through the real app's signaling: only the chair makes a participant the wall, only
the chair or the wall turns its page, a bad page is an error and the room goes on; the invited
halls reach the room for the roll call."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from meetings.briefings.signaling import ROOMS_KEY
from tests.briefings.sfu_support import until
from tests.briefings.test_signaling_scale import Peer, _briefing, _connect

Client = TestClient[Any, Any]


async def _answered(peer: Peer, kind: str, n: int) -> dict[str, Any]:
    await until(lambda: len(peer.of(kind)) > n, f"a {kind} frame")
    return peer.of(kind)[-1]


async def test_only_the_chair_makes_the_wall_and_the_wall_turns_pages(
    client: Client, people: Any
) -> None:
    bid, chair_token, tokens = await _briefing(client, people, 3)
    chair = await _connect(client, bid, chair_token)
    hall = await _connect(client, bid, tokens[0])
    other = await _connect(client, bid, tokens[1])
    try:
        room = client.app[ROOMS_KEY].rooms[bid]
        assert len(room.invited) == 1  # the one invited agency: its halls are the communes
        # a commune may neither turn the wall's page nor make itself the wall
        n = len(hall.of("error"))
        await hall.send(type="wall_page", page=2)
        assert (await _answered(hall, "error", n))["code"] == "wall.forbidden"
        await hall.send(type="chair", action="wall", target=hall.you)
        assert (await _answered(hall, "error", n + 1))["code"] == "chair.forbidden"
        assert room.walls == {}
        # the chair makes it the wall: it is told; then it turns its own page
        await chair.send(type="chair", action="wall", target=hall.you)
        assert (await _answered(hall, "wall", 0))["on"] is True
        assert hall.you in room.walls
        await hall.send(type="wall_page", page=3)
        await hall.send(type="ping")  # frames are handled in order: the page is set by the pong
        await _answered(hall, "pong", 0)
        assert room.wall_page == 3  # no slots yet: clamped once the wall fills (test_wall.py)
        n = len(hall.of("error"))
        await hall.send(type="wall_page", page=0)
        assert (await _answered(hall, "error", n))["code"] == "wall.page"
        await other.send(type="wall_page", page=1)
        assert (await _answered(other, "error", 0))["code"] == "wall.forbidden"
        # and the chair ends it: an ordinary endpoint again
        await chair.send(type="chair", action="wall_off", target=hall.you)
        await until(lambda: hall.of("wall")[-1]["on"] is False, "told it is no longer the wall")
        assert room.walls == {}
        # a few walls at most (a target not known yet is taken: it may be on another worker)
        for k in range(4):
            await chair.send(type="chair", action="wall", target=f"u90{k}")
        n = len(chair.of("error"))
        await chair.send(type="chair", action="wall", target="u909")
        assert (await _answered(chair, "error", n))["code"] == "wall.too_many"
        assert sorted(room.walls) == ["u900", "u901", "u902", "u903"]
        await chair.send(type="ping")
        await _answered(chair, "pong", 0)  # the room goes on
    finally:
        for p in (chair, hall, other):
            await p.close()
