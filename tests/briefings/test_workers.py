"""Two media workers: the app's process (worker 0) and one worker process, real aiortc peers.

The chair publishes on worker 0, endpoints subscribe on worker 1: the stream crosses the pipe
and arrives whole; hands and the floor set on one worker are seen on the other.  Then worker 1
is killed: its endpoints rejoin (as the browser client does) on a running worker and find the
room as it was.
"""

from __future__ import annotations

import itertools
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from meetings.briefings.signaling import POOL_KEY
from meetings.briefings.workers import Seat, WorkerPool
from server.auth.principal import Role
from tests.briefings.sfu_support import Endpoint, until
from tests.briefings.signal_client import Socket, roster, spotlight, you
from tests.conftest import AGENCY_A, AGENCY_B, People, bearer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]
Client = TestClient[Any, Any]


async def _join(client: Client, bid: int, token: str, ep: Endpoint) -> Socket:
    ws = await client.ws_connect(f"/api/v1/briefings/{bid}/signal", headers=bearer(token))
    sock = Socket(ws)
    await sock.send(type="offer", sdp=await ep.offer())
    await until(lambda: sock.last("answer") is not None, "answer")
    answer = sock.last("answer")
    assert answer is not None
    await ep.accept(answer["sdp"])
    return sock


@pytest.fixture
def two_workers(monkeypatch: pytest.MonkeyPatch, loopback_ice: None) -> None:
    """Set before the app is made: it reads the briefings settings when mounted."""
    monkeypatch.setenv("LIENTHONG_BRIEFINGS_WORKERS", "2")
    monkeypatch.setenv("LIENTHONG_BRIEFINGS_ICE_ADDRESSES", "127.0.0.1")


@pytest.fixture
async def pool(two_workers: None, client: Client) -> WorkerPool:
    pool: WorkerPool = client.app[POOL_KEY]
    await until(lambda: pool.running(1), "worker 1 runs", seconds=30)

    def chair_on_0(seat: Seat) -> int:
        return 0 if seat.is_chair else 1

    pool.placement = chair_on_0
    return pool


async def _briefing(client: Client, people: People) -> tuple[int, dict[str, str]]:
    await people.add("chutich", Role.LEADER, agency=AGENCY_A)
    for login in ("xa1", "xa2"):
        await people.add(login, Role.OFFICIAL, agency=AGENCY_B)
    tokens = {u: await people.token(u) for u in ("chutich", "xa1", "xa2")}
    body = {"title": "Giao ban hai tiến trình", "officials": ["xa1", "xa2"]}
    resp = await client.post("/api/v1/briefings", json=body, headers=bearer(tokens["chutich"]))
    assert resp.status == 201
    return int((await resp.json())["id"]), tokens


def _no_gaps(ep: Endpoint, mid: str) -> bool:
    seqs = [s for s, _ts in ep.rtp.get(mid, [])]
    return bool(seqs) and all(((b - a) & 0xFFFF) == 1 for a, b in itertools.pairwise(seqs))


async def test_stream_crosses_workers_whole(
    pool: WorkerPool, client: Client, people: People, clip: Path
) -> None:
    bid, tokens = await _briefing(client, people)
    chair = Endpoint("chair", clip=clip, audio_slots=0, video_slots=0)
    subs = [Endpoint("xa1"), Endpoint("xa2")]
    sockets: list[Socket] = []
    try:
        chair_sock = await _join(client, bid, tokens["chutich"], chair)
        sockets.append(chair_sock)
        for ep in subs:
            sockets.append(await _join(client, bid, tokens[ep.name], ep))
        assert pool.load == {0: 1, 1: 2}
        for ep in subs:
            video, audio = ep.mids("video")[0], ep.mids("audio")[0]

            def received(ep: Endpoint = ep, video: str = video, audio: str = audio) -> bool:
                return ep.frames[video] >= 60 and ep.frames[audio] >= 100

            await until(received, f"{ep.name} decodes video and audio", 20)
        for ep in subs:  # no loss on loopback, through the pipe
            for mid in (ep.mids("video")[0], ep.mids("audio")[0]):
                assert _no_gaps(ep, mid), (ep.name, mid)
        # one room: a hand raised on worker 1 is seen by the chair on worker 0, and back
        me = you(sockets[1])
        await sockets[1].send(type="hand", raised=True)
        await until(lambda: roster(chair_sock).get(me, {}).get("hand") is True, "hand seen")
        assert len(roster(chair_sock)) == 3
        await chair_sock.send(type="chair", action="spotlight", target=me)
        await until(lambda: sockets[1].last("floor") is not None, "floor reaches worker 1")
        await until(lambda: (sockets[2].last("spotlight") or {}).get("id") == me, "spotlight")
        await chair_sock.send(type="chair", action="mute", target=you(sockets[2]))
        await until(lambda: sockets[2].last("muted") is not None, "a mute reaches worker 1")
        await chair_sock.send(type="chair", action="end")
        await until(lambda: all(s.last("ended") for s in sockets[1:]), "the end reaches worker 1")
    finally:
        for sock in sockets:
            await sock.close()
        for ep in (chair, *subs):
            await ep.close()


async def test_killed_worker_endpoints_rejoin_with_room_state(
    pool: WorkerPool, client: Client, people: People, clip: Path
) -> None:
    bid, tokens = await _briefing(client, people)
    chair = Endpoint("chair", clip=clip, audio_slots=0, video_slots=0)
    first = [Endpoint("xa1"), Endpoint("xa2")]
    again = [Endpoint("xa1"), Endpoint("xa2")]
    sockets: list[Socket] = []
    try:
        chair_sock = await _join(client, bid, tokens["chutich"], chair)
        sockets.append(chair_sock)
        subs = [await _join(client, bid, tokens[ep.name], ep) for ep in first]
        sockets += subs
        ids = {"xa1": you(subs[0]), "xa2": you(subs[1])}
        await subs[0].send(type="hand", raised=True)
        await until(lambda: roster(chair_sock).get(ids["xa1"], {}).get("hand") is True, "hand")
        await chair_sock.send(type="chair", action="spotlight", target=ids["xa2"])
        await until(lambda: subs[1].last("floor") is not None, "floor")
        await chair_sock.send(type="chair", action="mute", target=ids["xa1"])
        await until(lambda: subs[0].last("muted") is not None, "muted")
        victim = pool.procs[1].pid
        os.kill(victim, signal.SIGKILL)
        await until(lambda: all(s.ws.closed for s in subs), "worker 1's sockets close")
        assert all(s.ws.close_code == 1012 for s in subs)
        # the client's rejoin: a fresh socket and offer, placed on a running worker
        rejoined = [await _join(client, bid, tokens[ep.name], ep) for ep in again]
        sockets += rejoined
        mid = again[1].mids("video")[0]
        await until(lambda: again[1].frames[mid] >= 30, "the chair is seen again", 20)

        def state_kept(sock: Socket) -> bool:
            seen = roster(sock)
            return seen.get(ids["xa1"], {}).get("hand") is True and spotlight(sock) == ids["xa2"]

        await until(lambda: state_kept(rejoined[0]), "hand and floor survive")
        assert rejoined[0].last("muted") is not None  # the chair's mute holds after the rejoin
        assert roster(rejoined[0])[ids["xa1"]]["audio_muted"] is True
        await until(lambda: len(roster(chair_sock)) == 3, "no duplicates, nobody lost")
        await until(lambda: pool.running(1) and pool.procs[1].pid != victim, "restarted", 30)
    finally:
        for sock in sockets:
            await sock.close()
        for ep in (chair, *first, *again):
            await ep.close()
