"""A join storm through the app as deployed: 30 communes with real aiortc peers join at once.

``lienthong serve`` (two media workers, SQLite, ICE on loopback) and a chair publishing the clip;
then 30 commune endpoints, logged in with a browser session, open their signaling sockets and
send their offers all at the same moment.  Every one must end up receiving the chair's video in
the slot the server says carries it, every roster must list 31 participants once each; the
briefing is kept on one media worker, and a second briefing starts on the other.  The time the storm took is printed, never asserted
(bench/briefing_app.py measures it at 170).
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bench.briefing_signaling import AGENCY_XA, seed
from bench.deploy import cli, free_port, serve, server_env, stop
from tests.briefings.sfu_support import Endpoint, until
from tests.briefings.signal_client import Socket, roster, you
from tests.conftest import _sync

pytestmark = pytest.mark.slow
COMMUNES = 30
RTP_WANTED = 60
"""Video packets of the chair each commune must receive (about two seconds of the clip)."""


@dataclass
class App:
    url: str
    process: subprocess.Popen[bytes]
    seeded: dict[str, Any]
    data: Path


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    data = tmp_path_factory.mktemp("storm")
    port = free_port()
    env = server_env(
        data,
        port,
        {"LIENTHONG_BRIEFINGS_ICE_ADDRESSES": "127.0.0.1", "LIENTHONG_BRIEFINGS_WORKERS": "2"},
    )
    env.pop("LIENTHONG_DATABASE_URL", None)  # the embedded default: SQLite in the data folder
    cli("db", "upgrade", env=env)
    seeded: dict[str, Any] = {}

    async def do_seed() -> None:
        seeded.update(await seed(f"sqlite+aiosqlite:///{data / 'lienthong.db'}", COMMUNES))

    _sync(do_seed())
    process = serve(env, data / "server.log")
    try:
        yield App(f"http://127.0.0.1:{port}", process, seeded, data)
    finally:
        stop(process)


def chair_slot(sock: Socket, chair: str) -> str | None:
    slots = (sock.last("slots") or {"slots": []})["slots"]
    return next((s["mid"] for s in slots if s["source"] == chair and s["kind"] == "video"), None)


async def _join(
    http: aiohttp.ClientSession, url: str, headers: dict[str, str], ep: Endpoint
) -> Socket:
    sock = Socket(await http.ws_connect(url, headers=headers))
    await sock.send(type="offer", sdp=await ep.offer())
    await until(lambda: sock.last("answer") is not None, f"{ep.name}: answer", 60)
    answer = sock.last("answer")
    assert answer is not None
    await ep.accept(answer["sdp"])
    return sock


async def _hosts_until(db: Path, briefings: int) -> list[tuple[int, int]]:
    """(briefing, worker) of every hosted participant, once ``briefings`` briefings have rows
    (a row is written by the room's writer task, a moment after the socket's welcome)."""
    rows: list[tuple[int, int]] = []
    for _ in range(300):
        with sqlite3.connect(db) as conn:
            rows = conn.execute(
                "SELECT briefing_id, worker FROM briefing_live_participants"
                " WHERE worker IS NOT NULL ORDER BY briefing_id"
            ).fetchall()
        if len({b for b, _w in rows}) >= briefings:
            return rows
        await asyncio.sleep(0.1)
    raise AssertionError(f"rows of {briefings} briefings never came: {rows}")


def _lists(sock: Socket, n: int) -> Callable[[], bool]:
    return lambda: len(roster(sock)) == n


def _receives_chair(sock: Socket, ep: Endpoint, chair: str) -> bool:
    mid = chair_slot(sock, chair)
    return mid is not None and len(ep.rtp.get(mid, ())) >= RTP_WANTED


async def test_thirty_communes_join_at_once_and_all_receive_the_hall(app: App, clip: Path) -> None:
    chair_ep = Endpoint("chair", clip=clip, audio_slots=0, video_slots=0)
    communes = [
        Endpoint(f"xa{k}", audio_slots=1, video_slots=2, decode=False) for k in range(COMMUNES)
    ]
    sockets: list[Socket] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        body = {"title": "Giao ban tỉnh – xã", "endpoints": [AGENCY_XA]}
        auth = {"Authorization": f"Bearer {app.seeded['chair']}"}
        resp = await http.post(f"{app.url}/api/v1/briefings", json=body, headers=auth)
        assert resp.status == 201, await resp.text()
        url = f"{app.url}/api/v1/briefings/{(await resp.json())['id']}/signal"
        try:
            chair_sock = await _join(http, url, auth, chair_ep)
            sockets.append(chair_sock)
            chair = you(chair_sock)
            started = time.monotonic()
            cookies = app.seeded["cookies"]
            joined = await asyncio.gather(
                *(
                    _join(http, url, {"Cookie": f"lt_session={c}", "Origin": app.url}, ep)
                    for c, ep in zip(cookies, communes, strict=True)
                )
            )
            sockets += joined
            pairs = list(zip(joined, communes, strict=True))
            await until(
                lambda: all(_receives_chair(s, ep, chair) for s, ep in pairs),
                "every commune receives the chair's video",
                120,
            )
            took = time.monotonic() - started
            print(f"{COMMUNES} communes joined at once, all receiving the hall: {took:.1f} s")
            ids = {you(s) for s in joined}
            assert len(ids) == COMMUNES and chair not in ids
            for sock in (chair_sock, *joined):
                await until(_lists(sock, COMMUNES + 1), "every roster lists everyone", 60)
                assert set(roster(sock)) == ids | {chair}
            # one briefing is kept on one media worker; the next briefing starts on the other
            second = await http.post(f"{app.url}/api/v1/briefings", json=body, headers=auth)
            other = f"{app.url}/api/v1/briefings/{(await second.json())['id']}/signal"
            sockets.append(Socket(await http.ws_connect(other, headers=auth)))
            await until(lambda: sockets[-1].last("welcome") is not None, "second briefing", 30)
            rows = await _hosts_until(app.data / "lienthong.db", briefings=2)
            first, again = {w for b, w in rows if b == rows[0][0]}, {w for b, w in rows}
            assert len(first) == 1 and len(again) == 2, f"one worker a briefing ({rows})"
        finally:
            for sock in sockets:
                await sock.close()
            for ep in (chair_ep, *communes):
                await ep.close()
