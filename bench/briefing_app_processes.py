"""``--processes 2`` of :mod:`bench.briefing_app`: two ``lienthong serve`` behind nginx, one room.

Both processes run in the namespace ``ltb-srv`` on ports 8090 and 8091 with
``LIENTHONG_REALTIME=redis`` and one PostgreSQL database (``ltb_app_<pid>``, created fresh and
dropped after).  The namespace has its own loopback, so the Redis at 127.0.0.1:6379 and the
PostgreSQL at 127.0.0.1:5432 of the root namespace are reached through a TCP forwarder on
10.77.0.2 (the client side of the veth).  Debian's nginx (bench/deploy.py) listens on 127.0.0.1 in
the root namespace and balances over both; the chair and every endpoint go through it, so nginx
sends their page loads and signaling sockets to either process.  The figures are those of the
one-process run (CPU over both process trees, and per process) plus how many endpoints received
the chair's video: those on the process that does not host the chair get it over the media
workers' pipe between the processes (worker groups found through Redis, since main's 0574533;
before it, they got none).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench import briefing
from bench.briefing_app import JOIN_AT_ONCE, _close_room, _media_figures, wait_video
from bench.briefing_app_client import Endpoint, bearer, cookie, create_briefing
from bench.briefing_app_server import (
    APP_PORT,
    AppServer,
    Forwarder,
    app_env,
    cpu_between,
    create_database,
    db_upgrade,
    drop_database,
    media_workers,
    nginx_in_front,
    start_app,
    tree_cpu,
)
from bench.briefing_signaling import AGENCY_XA, seed

PG_PORT, REDIS_PORT = 5432, 6379


async def _room(
    servers: list[AppServer], base: str, seeded: dict[str, Any], n: int, clip: Path, window: float
) -> dict[str, Any]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        bid = await create_briefing(base, http, seeded["chair"], f"Hai tiến trình {n}", AGENCY_XA)
        chair = Endpoint("chair", base, http, bid, bearer(seeded["chair"]), clip=clip)
        await chair.join()
        await asyncio.sleep(1.0)
        endpoints = [
            Endpoint(f"xa{k:04d}", base, http, bid, cookie(c))
            for k, c in enumerate(seeded["cookies"][:n])
        ]
        gate = asyncio.Semaphore(JOIN_AT_ONCE)
        started = time.monotonic()

        async def one(e: Endpoint) -> None:
            async with gate:
                try:
                    await e.join()
                except (aiohttp.ClientError, OSError, RuntimeError, TimeoutError) as exc:
                    e.errors.append(f"join: {exc!r}")

        try:
            await asyncio.gather(*(one(e) for e in endpoints))
            await wait_video(endpoints, 20)
            joined = [e.sub.counts.first_video for e in endpoints if e.sub.counts.first_video]
            await asyncio.sleep(1.0)
            for e in endpoints:
                e.sub.counts.reset()
            roots = [s.process.pid for s in servers]
            each0 = [tree_cpu([r]) for r in roots]
            cpu0, t0 = tree_cpu(roots), time.monotonic()
            await asyncio.sleep(window)
            cpu1, t1 = tree_cpu(roots), time.monotonic()
            each1 = [tree_cpu([r]) for r in roots]
            return {
                "server": "ours-2proc",
                "n": n,
                "processes": len(cpu1),
                **_media_figures(endpoints, cpu_between(cpu0, cpu1), t1 - t0),
                "cpu_cores_by_process": [
                    round(cpu_between(a, b) / (t1 - t0), 3)
                    for a, b in zip(each0, each1, strict=True)
                ],
                "received_video": len(joined),
                "join_s": round(max(joined) - started, 2) if len(joined) == n else None,
                "no_video": [e.name for e in endpoints if not e.sub.counts.first_video][:20],
                "reconnects": sum(e.reconnects for e in endpoints),
                "errors": sorted({x for e in endpoints for x in e.errors})[:10],
            }
        finally:
            await _close_room(chair, endpoints)


async def bench_processes(args: argparse.Namespace) -> dict[str, Any]:
    from meetings.briefings.sfu import hooks
    from tests.briefings.media import make_clip

    sizes = [10] if args.quick else [int(x) for x in args.n.split(",") if x]
    workdir = Path(tempfile.mkdtemp(prefix="ltb-app2-"))
    clip = make_clip(workdir / "clip.webm", seconds=15 + 30 + args.window, size=(640, 360))
    hooks.restrict_host_addresses([briefing.CLIENT_IP])
    dbname = f"ltb_app_{os.getpid()}"
    await create_database(dbname)
    briefing.netns_up()
    forwarder = Forwarder([PG_PORT, REDIS_PORT])
    await forwarder.start()
    servers: list[AppServer] = []
    nginx = None
    runs: list[dict[str, Any]] = []
    try:
        extra = {
            "LIENTHONG_DATABASE_URL": f"postgresql+asyncpg://postgres@{briefing.CLIENT_IP}/{dbname}",
            "LIENTHONG_REALTIME": "redis",
            "LIENTHONG_REDIS_URL": f"redis://{briefing.CLIENT_IP}:{REDIS_PORT}/0",
        }
        local_url = f"postgresql+asyncpg://postgres@127.0.0.1:{PG_PORT}/{dbname}"
        envs = []
        for k in range(args.processes):
            data_dir = workdir / f"p{k}"
            data_dir.mkdir()
            envs.append(app_env(data_dir, APP_PORT + k, args.proc_workers, extra))
        db_upgrade(envs[0], local_url)
        seeded = await seed(local_url, max(sizes))
        for k, env in enumerate(envs):
            servers.append(
                await start_app(
                    f"p{k}", env, workdir / f"p{k}.log", media_workers(args.proc_workers)
                )
            )
        nginx = nginx_in_front(workdir / "nginx", [APP_PORT + k for k in range(args.processes)])
        nginx.start()
        for n in sizes:
            result = await _room(servers, nginx.url, seeded, n, clip, args.window)
            print(json.dumps(result), flush=True)
            runs.append(result)
    finally:
        if nginx is not None:
            nginx.stop()
        for s in servers:
            s.stop()
        await forwarder.stop()
        briefing.netns_down()
        with contextlib.suppress(Exception):
            await drop_database(dbname)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return {"load_average": [round(x, 2) for x in os.getloadavg()], "runs": runs}
