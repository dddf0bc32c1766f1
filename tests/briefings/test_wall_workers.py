"""The wall across two media workers: the chair on worker 0 makes an endpoint on worker 1 the
hall's wall and turns its page; the shared copy carries both, and the communes' video reaches the
wall over the pipe (a commune on worker 0) or locally (one on worker 1) — only the page's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from meetings.briefings.signaling import POOL_KEY
from meetings.briefings.workers import Seat, WorkerPool
from server.auth.principal import Role
from tests.briefings.sfu_support import Endpoint, until
from tests.briefings.signal_client import Socket, you
from tests.briefings.test_workers import _join, two_workers
from tests.conftest import AGENCY_A, AGENCY_B, People, bearer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]
Client = TestClient[Any, Any]
__all__ = ["two_workers"]  # the fixture, used by name

ON_WORKER_1 = {"xa2", "hall"}


@pytest.fixture
async def pool(two_workers: None, client: Client) -> WorkerPool:
    pool: WorkerPool = client.app[POOL_KEY]
    await until(lambda: pool.running(1), "worker 1 runs", seconds=30)

    def by_login(seat: Seat) -> int:
        return 1 if seat.login in ON_WORKER_1 else 0

    pool.placement = by_login
    return pool


def _wall(sock: Socket) -> dict[str, Any] | None:
    frame = next((f for f in reversed(sock.frames) if f["type"] == "slots" and f.get("wall")), None)
    return None if frame is None else dict(frame["wall"])


async def test_the_chair_on_one_worker_pages_a_wall_on_another(
    pool: WorkerPool, client: Client, people: People, clip: Path
) -> None:
    await people.add("chutich", Role.LEADER, agency=AGENCY_A)
    for login in ("xa1", "xa2", "hall"):
        await people.add(login, Role.ENDPOINT, agency=AGENCY_B, name=login)
    tokens = {u: await people.token(u) for u in ("chutich", "xa1", "xa2", "hall")}
    body = {"title": "Giao ban, màn hình hội trường", "endpoints": [AGENCY_B]}
    resp = await client.post("/api/v1/briefings", json=body, headers=bearer(tokens["chutich"]))
    assert resp.status == 201
    bid = int((await resp.json())["id"])
    chair = Endpoint("chair", clip=clip, audio_slots=0, video_slots=0)
    communes = [Endpoint(n, clip=clip, audio_slots=0, video_slots=0) for n in ("xa1", "xa2")]
    hall = Endpoint("hall", audio_slots=0, video_slots=1)  # one tile a page: two pages
    sockets: list[Socket] = []
    try:
        chair_sock = await _join(client, bid, tokens["chutich"], chair)
        sockets.append(chair_sock)
        for ep in communes:
            sockets.append(await _join(client, bid, tokens[ep.name], ep))
        hall_sock = await _join(client, bid, tokens["hall"], hall)
        sockets.append(hall_sock)
        assert pool.load == {0: 2, 1: 2}
        ids = {name: you(s) for name, s in zip(("xa1", "xa2"), sockets[1:3], strict=True)}
        # the communes sort by agency code (the same), then name: xa1 is page 1
        await chair_sock.send(type="chair", action="wall", target=you(hall_sock))
        await until(
            lambda: (hall_sock.last("wall") or {}).get("on") is True, "told it is the wall", 20
        )

        def on_wall(page: int, who: str) -> bool:
            state = _wall(hall_sock)
            return bool(
                state
                and state["page"] == page
                and state["pages"] == 2
                and [t["id"] for t in state["tiles"]] == [ids[who]]
                and state["tiles"][0]["mid"] is not None
            )

        await until(lambda: on_wall(1, "xa1"), "page 1: xa1 from worker 0 over the pipe", 20)
        mid = hall.mids("video")[0]
        await until(lambda: hall.frames[mid] >= 30, "the wall decodes xa1", 30)
        await chair_sock.send(type="wall_page", page=2)
        await until(lambda: on_wall(2, "xa2"), "page 2: xa2 on the wall's own worker", 20)
        seen = hall.frames[mid]
        await until(lambda: hall.frames[mid] >= seen + 30, "the wall decodes xa2", 30)
        slots = next(f for f in reversed(hall_sock.frames) if f["type"] == "slots")
        assert [s["source"] for s in slots["slots"]] == [ids["xa2"]]
        # the chair takes the wall back: an ordinary endpoint again, the chair first
        await chair_sock.send(type="chair", action="wall_off", target=you(hall_sock))
        await until(
            lambda: (hall_sock.last("wall") or {}).get("on") is False, "no longer the wall", 20
        )
    finally:
        for sock in sockets:
            await sock.close()
        for ep in (chair, *communes, hall):
            await ep.close()
