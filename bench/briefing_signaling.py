"""Briefing signaling benchmark: N signaling-only endpoints in one room, the app as deployed.

Starts ``lienthong serve`` (default media workers, SQLite, a fresh data directory), seeds a chair
and N commune endpoints logged in with a browser session (cookie, same-origin ``Origin``), and
for each N (10, 80, 170) in a briefing of its own:

* **join**: the N signaling sockets open, 8 at a time (as the issue measured); the time from the
  first until every endpoint's roster lists all N;
* **idle**: then nothing happens for a window, except what the browser client sends on its own
  (a ``quality`` report every 2 s, a ``ping`` every 15 s); the bytes each endpoint receives over
  the window, per second: mean and max per participant, and the server's total out.

No media: joining needs no SDP offer (the roster counts a participant from its socket on).
``--quick`` runs N = 10 and 80 with a shorter window.  ``--python`` runs the server of another
tree (e.g. ``/work/main/.venv/bin/python``) for a before/after.  The last line printed is one
JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession

ROOT = Path(__file__).resolve().parent.parent
AGENCY_HALL, AGENCY_XA = "000.00.00.H98", "000.00.11.H98"
JOIN_AT_ONCE = 8


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def seed(url: str, endpoints: int) -> dict[str, Any]:
    """The province hall's chair (a token) and ``endpoints`` commune accounts (session cookies)."""
    from server.accounts.agencies import AgencyRow, import_rows_txn
    from server.accounts.tokens import create_token_txn
    from server.accounts.users import create_user_txn
    from server.auth.principal import Role
    from server.auth.sessions import open_session_txn
    from server.db import Database

    db = Database(url)

    async def run(session: AsyncSession) -> dict[str, Any]:
        await import_rows_txn(
            session,
            [
                AgencyRow(AGENCY_HALL, "UBND tỉnh Thử", None, 1),
                AgencyRow(AGENCY_XA, "UBND các xã", AGENCY_HALL, 2),
            ],
        )
        chair = await create_user_txn(
            session,
            login="chutich",
            full_name="Chủ tịch",
            agency_code=AGENCY_HALL,
            roles=frozenset({Role.LEADER}),
            password_hash=None,
        )
        chair_token, _ = await create_token_txn(session, chair.id, name="bench")
        cookies = []
        for n in range(endpoints):
            user = await create_user_txn(
                session,
                login=f"xa{n:04d}",
                full_name=f"Điểm cầu xã {n:04d}",
                agency_code=AGENCY_XA,
                roles=frozenset({Role.ENDPOINT}),
                password_hash=None,
            )
            login = await open_session_txn(session, user.id, 12, user_agent="bench", remote="")
            cookies.append(login.cookie)
        return {"chair": chair_token, "cookies": cookies}

    try:
        return await db.write("bench_seed", run)
    finally:
        await db.close()


class Endpoint:
    """One signaling socket: bytes and frames received, the roster as it sees it."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.bytes = 0
        self.frames = 0
        self.roster: set[str] = set()
        self.task = asyncio.ensure_future(self._listen())

    async def _listen(self) -> None:
        async for msg in self.ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                continue
            self.bytes += len(msg.data.encode())
            self.frames += 1
            frame = json.loads(msg.data)
            if frame["type"] == "roster":
                self.roster = {p["id"] for p in frame["participants"]}
            elif frame["type"] == "delta" and frame["op"] == "leave":
                self.roster.discard(frame["id"])
            elif frame["type"] == "delta":
                self.roster.add(frame["participant"]["id"])

    async def chatter(self, stop: asyncio.Event) -> None:
        """What the browser client sends by itself: quality every 2 s, ping every 15 s."""
        rounds = 0
        while not stop.is_set():
            await asyncio.sleep(2)
            rounds += 1
            quality = {"type": "quality", "rtt_ms": 12.0 + rounds % 5, "loss": 0.0, "fps": 30.0}
            await self.ws.send_str(json.dumps(quality))
            if rounds % 8 == 0:
                await self.ws.send_str('{"type": "ping"}')


async def one_room(
    base: str, http: aiohttp.ClientSession, chair: str, cookies: list[str], idle_s: float
) -> dict[str, Any]:
    n = len(cookies)
    body = {"title": f"Giao ban {n} điểm cầu", "endpoints": [AGENCY_XA]}
    resp = await http.post(
        f"{base}/api/v1/briefings", json=body, headers={"Authorization": f"Bearer {chair}"}
    )
    assert resp.status == 201, await resp.text()
    bid = (await resp.json())["id"]
    sem = asyncio.Semaphore(JOIN_AT_ONCE)

    async def connect(cookie: str) -> Endpoint:
        async with sem:
            ws = await http.ws_connect(
                f"{base}/api/v1/briefings/{bid}/signal",
                headers={"Cookie": f"lt_session={cookie}", "Origin": base},
                compress=0,
                heartbeat=None,
                max_msg_size=0,
            )
            return Endpoint(ws)

    t0 = time.perf_counter()
    endpoints = list(await asyncio.gather(*(connect(c) for c in cookies)))
    for _ in range(12000):  # two minutes at most
        if all(len(e.roster) == n for e in endpoints):
            break
        await asyncio.sleep(0.01)
    join_s = time.perf_counter() - t0
    joined = sum(len(e.roster) == n for e in endpoints)
    join_bytes = sum(e.bytes for e in endpoints)
    stop = asyncio.Event()
    chatter = [asyncio.ensure_future(e.chatter(stop)) for e in endpoints]
    await asyncio.sleep(3.5)  # the rooms' periodic work runs once at least before measuring
    before = [(e.bytes, e.frames) for e in endpoints]
    await asyncio.sleep(idle_s)
    rates = [(e.bytes - b) / idle_s for e, (b, _f) in zip(endpoints, before, strict=True)]
    frames = [(e.frames - f) / idle_s for e, (_b, f) in zip(endpoints, before, strict=True)]
    stop.set()
    for task in chatter:
        task.cancel()
    for e in endpoints:
        await e.ws.close()
        e.task.cancel()
    return {
        f"n{n}_join_all_s": round(join_s, 2),
        f"n{n}_joined": joined,
        f"n{n}_join_bytes_to_all": join_bytes,
        f"n{n}_idle_bytes_per_s_per_participant_mean": round(sum(rates) / n, 1),
        f"n{n}_idle_bytes_per_s_per_participant_max": round(max(rates), 1),
        f"n{n}_idle_frames_per_s_per_participant_mean": round(sum(frames) / n, 2),
        f"n{n}_idle_server_out_bytes_per_s": round(sum(rates)),
    }


async def scenario(base: str, seeded: dict[str, Any], sizes: list[int], idle_s: float) -> Any:
    figures: dict[str, Any] = {}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        for n in sizes:
            figures.update(
                await one_room(base, http, seeded["chair"], seeded["cookies"][:n], idle_s)
            )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 10 and 80, a 5 s window")
    parser.add_argument("--python", default=sys.executable, help="the server's interpreter")
    parser.add_argument("--idle", type=float, default=None, help="seconds of the idle window")
    args = parser.parse_args()
    sizes = [10, 80] if args.quick else [10, 80, 170]
    idle_s = args.idle or (5.0 if args.quick else 15.0)
    server_root = Path(args.python).absolute().parent.parent.parent  # <tree>/.venv/bin/python
    if not (server_root / "lienthong").is_dir():
        server_root = ROOT
    data_dir = Path(tempfile.mkdtemp(prefix="lt-bench-briefing-signaling-"))
    port = free_port()
    env = {
        **os.environ,
        "LIENTHONG_DATA_DIR": str(data_dir),
        "LIENTHONG_PORT": str(port),
        "LIENTHONG_HOST": "127.0.0.1",
        "LIENTHONG_LOG_LEVEL": "WARNING",
        "LIENTHONG_BRIEFINGS_ICE_ADDRESSES": "127.0.0.1",
    }
    cli = [args.python, "-m", "lienthong.cli"]
    subprocess.run([*cli, "db", "upgrade"], env=env, check=True, cwd=server_root)
    seeded = asyncio.run(seed(f"sqlite+aiosqlite:///{data_dir / 'lienthong.db'}", max(sizes)))
    log = (data_dir / "server.log").open("wb")
    server = subprocess.Popen([*cli, "serve"], env=env, cwd=server_root, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        figures: dict[str, Any] = {
            "scenario": "quick" if args.quick else "full",
            "server_tree": str(server_root),
            "idle_window_s": idle_s,
            "cores": os.cpu_count(),
        }
        figures.update(asyncio.run(scenario(base, seeded, sizes, idle_s)))
        figures["load_average_1min"] = round(os.getloadavg()[0], 2)
        for key, value in figures.items():
            print(f"{key}: {value}", file=sys.stderr)
        print(json.dumps(figures))
    finally:
        os.kill(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


if __name__ == "__main__":
    main()
