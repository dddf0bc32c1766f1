"""One briefing, two ``lienthong serve`` processes behind Debian's nginx (Redis hub, PostgreSQL).

Endpoints that nginx sends to different app processes meet in one room: the processes' media
workers find each other through Redis (``meetings/briefings/registry.py``) and pipe streams
between them.  Then the process hosting the chair is SIGKILLed: its endpoints come back through
the other one (as the browser client does: a new socket, a new offer) and find the floor, the
raised hand, the chair's mute and the recording as they were, nobody listed twice
(docs/deploy.md, "Two processes behind nginx").
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bench.briefing_signaling import AGENCY_XA, seed
from meetings.briefings.models import LiveParticipant
from meetings.briefings.registry import GROUP_SIZE
from server.db import Database
from tests.briefings.sfu_support import Endpoint, frames_reach, until
from tests.briefings.signal_client import Socket, roster, spotlight, you
from tests.deployment import Deployment, behind_nginx

pytestmark = pytest.mark.slow
COMMUNES = 4


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    async def seeded(db_url: str) -> dict[str, Any]:
        return await seed(db_url, COMMUNES)

    # the first process with two media workers (one relayed), the second with its own only
    with behind_nginx(
        tmp_path_factory.mktemp("briefing-nginx"),
        seeded,
        {"LIENTHONG_BRIEFINGS_ICE_ADDRESSES": "127.0.0.1"},
        ({"LIENTHONG_BRIEFINGS_WORKERS": "2"}, {"LIENTHONG_BRIEFINGS_WORKERS": "1"}),
    ) as deployed:
        yield deployed


async def workers_of(db_url: str, bid: int) -> dict[str, int]:
    """The media worker hosting each participant now, as the live room rows say."""
    db = Database(db_url)

    async def read(session: Any) -> dict[str, int]:
        rows = await session.execute(
            select(LiveParticipant.participant, LiveParticipant.worker).where(
                LiveParticipant.briefing_id == bid, LiveParticipant.worker.is_not(None)
            )
        )
        return {str(p): int(w) for p, w in rows}

    try:
        return await db.read("test_workers_of", read)
    finally:
        await db.close()


class Room:
    """The test's view of one briefing through nginx: who joined, through which socket."""

    def __init__(self, d: Deployment, http: aiohttp.ClientSession, bid: int, clip: Path) -> None:
        self.d, self.http, self.bid, self.clip = d, http, bid, clip
        self.endpoints: list[Endpoint] = []
        self.sockets: list[Socket] = []

    async def join(self, who: str, *, publish: bool = False) -> tuple[Socket, Endpoint]:
        """``who`` is ``chair`` or a commune's index; retried while nginx finds no process."""
        if who == "chair":
            headers = {"Authorization": f"Bearer {self.d.seeded['chair']}"}
        else:
            headers = {"Cookie": f"lt_session={self.d.seeded['cookies'][int(who)]}"}
            headers["Origin"] = self.d.url
        url = f"{self.d.url}/api/v1/briefings/{self.bid}/signal"
        for _attempt in range(100):
            try:
                ws = await self.http.ws_connect(url, headers=headers)
                break
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"{who} could not reach a process through nginx")
        sock = Socket(ws)
        ep = Endpoint(who, clip=self.clip if publish else None, audio_slots=1, video_slots=2)
        self.sockets.append(sock)
        self.endpoints.append(ep)
        await sock.send(type="offer", sdp=await ep.offer())
        await until(lambda: sock.last("answer") is not None or ws.closed, f"{who}: answer", 30)
        answer = sock.last("answer")
        assert answer is not None, f"{who}: no answer ({sock.frames[-3:]})"
        await ep.accept(answer["sdp"])
        return sock, ep

    async def join_in(
        self, who: str, group: int, *, same: bool, publish: bool = False
    ) -> tuple[Socket, Endpoint]:
        """Join until nginx has sent ``who`` to ``group``'s process (``same``) or the other."""
        for _attempt in range(6):
            sock, ep = await self.join(who, publish=publish)
            if (await self.host_of(you(sock)) // GROUP_SIZE == group) == same:
                return sock, ep
            await sock.close()  # round robin: the next connection goes to the other process
        raise AssertionError(f"nginx never sent {who} where wanted")

    async def hosts(self) -> dict[str, int]:
        return await workers_of(self.d.db_url, self.bid)

    async def host_of(self, pid: str) -> int:
        """The worker hosting ``pid``, once its row says so."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            hosts = await self.hosts()
            if pid in hosts:
                return hosts[pid]
            await asyncio.sleep(0.1)
        raise AssertionError(f"{pid} has no live row")

    def slot_of(self, sock: Socket, source: str) -> str | None:
        slots = sock.last("slots") or {"slots": []}
        found = [s["mid"] for s in slots["slots"] if s["source"] == source and s["kind"] == "video"]
        return found[0] if found else None

    async def sees(self, sock: Socket, ep: Endpoint, source: str, frames: int, what: str) -> None:
        await until(lambda: self.slot_of(sock, source) is not None, f"{what}: slot", 30)
        mid = self.slot_of(sock, source)
        assert mid is not None
        await frames_reach(ep, {mid: ep.frames[mid] + frames}, what)

    async def close(self) -> None:
        for sock in self.sockets:
            await sock.close()
        for ep in self.endpoints:
            await ep.close()


async def test_two_processes_one_room_and_a_kill(deployment: Deployment, clip: Path) -> None:
    d = deployment
    async with aiohttp.ClientSession() as http:
        body = {"title": "Giao ban tỉnh – xã, hai tiến trình", "endpoints": [AGENCY_XA]}
        chair_auth = {"Authorization": f"Bearer {d.seeded['chair']}"}
        resp = await http.post(f"{d.url}/api/v1/briefings", json=body, headers=chair_auth)
        assert resp.status == 201, await resp.text()
        room = Room(d, http, int((await resp.json())["id"]), clip)
        try:
            await _meet_then_kill(room)
        finally:
            await room.close()


def _all_five(sock: Socket) -> Callable[[], bool]:
    return lambda: len(roster(sock)) == 5


async def _meet_then_kill(room: Room) -> None:
    chair_sock, chair_ep = await room.join("chair", publish=True)
    chair = you(chair_sock)
    home = await room.host_of(chair) // GROUP_SIZE
    # xa0 publishes from the other process; xa1 sits with the chair, xa2 and xa3 anywhere
    pub_sock, pub_ep = await room.join_in("0", home, same=False, publish=True)
    near_sock, near_ep = await room.join_in("1", home, same=True)
    far_sock, far_ep = await room.join_in("2", home, same=False)
    last_sock, last_ep = await room.join("3")
    communes = [pub_sock, near_sock, far_sock, last_sock]
    ids = [you(s) for s in communes]
    groups = {w // GROUP_SIZE for w in (await room.hosts()).values()}
    assert len(groups) == 2, f"one room on two processes ({groups})"
    # one room: everyone sees the chair, whichever process it reached
    for sock, ep in zip(communes, (pub_ep, near_ep, far_ep, last_ep), strict=True):
        await room.sees(sock, ep, chair, 30, f"{ep.name} sees the chair")
    for sock in (chair_sock, *communes):
        await until(_all_five(sock), "everyone in every roster", 30)
    # the room's state, set across processes: a hand, the floor, a mute, the recording
    await near_sock.send(type="hand", raised=True)
    await chair_sock.send(type="chair", action="spotlight", target=ids[0])
    await chair_sock.send(type="chair", action="mute", target=ids[2])
    await chair_sock.send(type="chair", action="record_start")
    await until(lambda: far_sock.last("muted") is not None, "the mute crosses", 30)
    await until(lambda: spotlight(near_sock) == ids[0], "the floor is told", 30)
    await room.sees(chair_sock, chair_ep, ids[0], 30, "the chair sees the floor, from afar")
    await until(lambda: roster(far_sock).get(ids[1], {}).get("hand") is True, "hand", 30)

    # SIGKILL the chair's process; its endpoints rejoin through nginx, as the client does
    hosts = await room.hosts()
    gone = {pid for pid, w in hosts.items() if w // GROUP_SIZE == home}
    order = sorted(groups)  # groups are taken in start order: process 0 has the lower one
    victim = room.d.servers[order.index(home)]
    killed_at = time.monotonic()
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    dropped = [(s, e) for s, e in zip(room.sockets, room.endpoints, strict=True) if you(s) in gone]
    await until(lambda: all(s.ws.closed for s, _e in dropped), "the killed process's sockets", 30)
    back: dict[str, tuple[Socket, Endpoint]] = {}
    for sock, ep in dropped:
        back[you(sock)] = await room.join(ep.name, publish=ep.player is not None)
    chair_sock, chair_ep = back[chair]
    for sock, ep in (*back.values(), (far_sock, far_ep)):
        if you(sock) != chair:
            await room.sees(sock, ep, chair, 10, f"{ep.name} sees the chair again")
    recovered = time.monotonic() - killed_at
    print(f"SIGKILL to media again through the other process: {recovered:.2f} s")
    # the room's state survived; nobody twice, everyone on the surviving process
    await until(lambda: len(roster(chair_sock)) == 5, "five in the chair's roster", 30)
    seen = roster(chair_sock)
    assert seen[ids[1]]["hand"] is True
    assert seen[ids[2]]["audio_muted"] is True
    assert spotlight(chair_sock) == ids[0]
    await until(lambda: (chair_sock.last("recording") or {}).get("on") is True, "recording", 30)
    await room.sees(chair_sock, chair_ep, ids[0], 10, "the floor again")
    assert {w // GROUP_SIZE for w in (await room.hosts()).values()} == {
        order[1 - order.index(home)]
    }
