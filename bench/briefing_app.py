"""Video-briefing benchmark, the app as deployed: ``lienthong serve`` against Janus 1.1.2.

Run (root: network namespaces; Debian's ``janus``)::

    .venv/bin/python -m bench.briefing_app --quick          # N = 10, under two minutes
    .venv/bin/python -m bench.briefing_app                  # N = 10, 80, 170 and a join storm
    .venv/bin/python -m bench.briefing_app --processes 2    # two serve processes behind nginx

Method.  ``lienthong serve`` (``python -m lienthong.cli serve``) runs in the namespace ``ltb-srv``
(10.77.0.1 on a veth, ``LIENTHONG_BRIEFINGS_ICE_ADDRESSES=10.77.0.1``) with a fresh data directory
and SQLite, once with the default media workers (``auto``: one per core) and once with
``LIENTHONG_BRIEFINGS_WORKERS=1``.  The database is seeded with a chair (API token) and N commune
endpoint accounts holding browser sessions (cookies).  For each N, in a new briefing inviting
the communes' agency, the clients in the root namespace (10.77.0.2) drive it as the browser client
does (:mod:`bench.briefing_app_client`): the chair loads the page and the briefing, opens the
signaling WebSocket and publishes the pre-encoded VP8 + Opus clip of :mod:`bench.briefing`
(offer/answer on the socket, the browser's 5 + 5 recvonly slots beside its uplink); then N
endpoints join, 16 at a time, each with a cookie and a same-origin ``Origin``, loading the page and
the briefing's state, and offering 5 audio + 5 video recvonly slots; a dropped socket rejoins.
Each endpoint sends a quality report every 2 s and a ping every 15 s, as the browser does.

Figures per server and N, over a window that starts 1 s after every endpoint received video:

* ``cpu_us_per_packet``: utime + stime of the serve process **and all its descendants** (the
  media workers) over the window, divided by the RTP packets the subscribers received (counted in
  the ICE datagram callback, as :class:`bench.briefing.Subscriber` does); Janus: its one process,
  same clients, same clip (``bench.briefing.run_one``), at the same N in the same run;
* ``ratio_to_janus``; ``loss_pct`` (sequence gaps per SSRC); ``min_fps`` (marker bits of the
  slowest subscriber); ``join_s`` (first join started → the last endpoint's first video packet);
* ``signaling_bytes_per_s_per_participant``: the text bytes the N endpoints' sockets received
  over the window / N / seconds.

The join storm: a new briefing, N_storm endpoints starting to join evenly over 10 s (no gate);
the time from the first start until every one receives the chair's video.  ``--processes 2``: two
``lienthong serve`` (``LIENTHONG_REALTIME=redis``, PostgreSQL in a fresh database, dropped after)
behind Debian's nginx (bench/deploy.py), each with ``--proc-workers`` media workers (1 by default:
two processes already fill a 2-core machine); the chair and the endpoints join through nginx,
which sends them to either process; reported as above plus how many endpoints received the
chair's video (:mod:`bench.briefing_app_processes`).

Each run also says whether its window is valid (``paced``: the subscribers' mean frame rate is the
clip's 30 fps; a client process starved by other load sends late frames in a burst) and the load
average at its end; ``median_marks_s``, ``to_answer_s``, ``answer_to_video_s`` split the joins.

The last line printed is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench import briefing
from bench.briefing_app_client import Endpoint, bearer, cookie, create_briefing
from bench.briefing_app_server import (
    APP_PORT,
    AppServer,
    app_env,
    cpu_between,
    db_upgrade,
    media_workers,
    start_app,
    tree_cpu,
)
from bench.briefing_signaling import AGENCY_XA, seed

ROOT = Path(__file__).resolve().parent.parent
JOIN_AT_ONCE = 16
"""Endpoints joining at a time in the measured runs (bench/briefing.py's gate for Janus too)."""


async def wait_video(endpoints: list[Endpoint], limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if all(e.sub.counts.first_video for e in endpoints):
            return
        await asyncio.sleep(0.05)


async def _open_room(
    server: AppServer, http: aiohttp.ClientSession, seeded: dict[str, Any], n: int, clip: Path
) -> tuple[int, Endpoint, list[Endpoint]]:
    bid = await create_briefing(
        server.base, http, seeded["chair"], f"Giao ban {n} điểm cầu", AGENCY_XA
    )
    chair = Endpoint("chair", server.base, http, bid, bearer(seeded["chair"]), clip=clip)
    await chair.join()
    await asyncio.sleep(1.0)
    endpoints = [
        Endpoint(f"xa{k:04d}", server.base, http, bid, cookie(c))
        for k, c in enumerate(seeded["cookies"][:n])
    ]
    return bid, chair, endpoints


async def _close_room(chair: Endpoint, endpoints: list[Endpoint]) -> None:
    """End the briefing as the chair does (no endpoint rejoins), then close every client."""
    for e in [*endpoints, chair]:
        e.closing = True
    await chair.send(type="chair", action="end")
    await asyncio.sleep(0.5)
    await asyncio.wait_for(asyncio.gather(*(e.close() for e in [*endpoints, chair])), 60)


async def run_ours(
    server: AppServer, http: aiohttp.ClientSession, seeded: dict[str, Any], n: int, clip: Path,
    window: float,
) -> dict[str, Any]:  # fmt: skip
    """One room of ``n`` endpoints on ``server``: join, then the measuring window."""
    _bid, chair, endpoints = await _open_room(server, http, seeded, n, clip)
    try:
        gate = asyncio.Semaphore(JOIN_AT_ONCE)
        started = time.monotonic()

        async def one(e: Endpoint) -> None:
            async with gate:
                await e.join()

        await asyncio.gather(*(one(e) for e in endpoints))
        await wait_video(endpoints, 30)
        firsts = [e.sub.counts.first_video for e in endpoints]
        joined = [f for f in firsts if f is not None]
        await asyncio.sleep(1.0)
        for e in endpoints:
            e.sub.counts.reset()
        bytes0 = sum(e.bytes for e in endpoints)
        cpu0, t0 = tree_cpu([server.process.pid]), time.monotonic()
        await asyncio.sleep(window)
        cpu1, t1 = tree_cpu([server.process.pid]), time.monotonic()
        bytes1 = sum(e.bytes for e in endpoints)
        return {
            "server": server.name,
            "n": n,
            "processes": len(cpu1),
            "processes_gone_in_window": len(set(cpu0) - set(cpu1)),
            **_media_figures(endpoints, cpu_between(cpu0, cpu1), t1 - t0),
            "joined": len(joined),
            "join_s": round(max(joined) - started, 2) if len(joined) == n else None,
            "no_video": [e.name for e in endpoints if e.sub.counts.first_video is None],
            **join_phases(endpoints),
            "signaling_bytes_per_s_per_participant": round((bytes1 - bytes0) / n / (t1 - t0), 1),
            "reconnects": sum(e.reconnects for e in endpoints),
            "errors": sorted({x for e in endpoints for x in e.errors})[:10],
        }
    finally:
        await _close_room(chair, endpoints)


def join_phases(endpoints: list[Endpoint]) -> dict[str, Any]:
    """Median and slowest seconds of a join's two parts: start → answer, answer → first video."""
    signal = sorted(e.answered - e.started for e in endpoints if e.answered and e.started)
    media = sorted(
        e.sub.counts.first_video - e.answered
        for e in endpoints
        if e.answered and e.sub.counts.first_video
    )
    marks = {
        step: round(
            sorted(e.marks[step] for e in endpoints if step in e.marks)[len(endpoints) // 2], 2
        )
        for step in ("page", "socket", "offer")
        if all(step in e.marks for e in endpoints)
    }
    return {
        "median_marks_s": marks,
        "to_answer_s": [round(signal[len(signal) // 2], 2), round(signal[-1], 2)]
        if signal
        else None,
        "answer_to_video_s": [round(media[len(media) // 2], 2), round(media[-1], 2)]
        if media
        else None,
    }


def _media_figures(endpoints: list[Endpoint], cpu: float, elapsed: float) -> dict[str, Any]:
    packets = sum(e.sub.counts.packets for e in endpoints)
    expected = received = 0
    for e in endpoints:
        x, r = e.sub.counts.loss()
        expected += x
        received += r
    fps = [e.sub.counts.frames / elapsed for e in endpoints]
    mean_fps = sum(fps) / len(fps) if fps else 0.0
    return {
        # the clip is 30 fps: a starved client process sends late frames in a burst, which puts
        # more packets in the window than its CPU was spent on (the window is then not valid)
        "paced": abs(mean_fps - 30) < 1.5,
        "load_1min": round(os.getloadavg()[0], 2),
        "cpu_us_per_packet": round(cpu / packets * 1e6, 1) if packets else None,
        "cpu_cores": round(cpu / elapsed, 3),
        "packets_per_s": round(packets / elapsed),
        "loss_pct": round(100 * (1 - received / expected), 3) if expected else None,
        "min_fps": round(min(fps), 1) if fps else None,
        "mean_fps": round(sum(fps) / len(fps), 1) if fps else None,
    }


async def join_storm(
    server: AppServer, http: aiohttp.ClientSession, seeded: dict[str, Any], n: int, clip: Path,
    spread: float,
) -> dict[str, Any]:  # fmt: skip
    """``n`` endpoints starting to join evenly over ``spread`` seconds, no gate: the time from the
    first start until every one receives the chair's video."""
    _bid, chair, endpoints = await _open_room(server, http, seeded, n, clip)
    try:
        started = time.monotonic()
        cpu0 = tree_cpu([server.process.pid])

        async def one(k: int, e: Endpoint) -> None:
            await asyncio.sleep(k * spread / n)
            try:
                await e.join()
            except (aiohttp.ClientError, OSError, RuntimeError, TimeoutError) as exc:
                e.errors.append(f"join: {exc!r}")

        await asyncio.gather(*(one(k, e) for k, e in enumerate(endpoints)))
        await wait_video(endpoints, 60)
        firsts = [e.sub.counts.first_video for e in endpoints]
        joined = [f for f in firsts if f is not None]
        elapsed = time.monotonic() - started
        return {
            "server": server.name,
            "storm_n": n,
            "spread_s": spread,
            "joined": len(joined),
            "all_receiving_s": round(max(joined) - started, 2) if len(joined) == n else None,
            "slowest_own_join_s": round(
                max((f - (e.started or f)) for e, f in zip(endpoints, firsts, strict=True) if f),
                2,
            )
            if joined
            else None,
            **join_phases(endpoints),
            "cpu_cores_during": round(
                cpu_between(cpu0, tree_cpu([server.process.pid])) / elapsed, 3
            ),
            "no_video": [e.name for e in endpoints if e.sub.counts.first_video is None][:20],
            "errors": sorted({x for e in endpoints for x in e.errors})[:10],
        }
    finally:
        await _close_room(chair, endpoints)


async def ours_variant(
    name: str, workers: str, sizes: list[int], storm: int, args: argparse.Namespace,
    clip: Path, workdir: Path, seeded_max: int,
) -> list[dict[str, Any]]:  # fmt: skip
    """One serve process (fresh data directory and SQLite): every N, then the storm."""
    data_dir = workdir / name
    data_dir.mkdir()
    env = app_env(data_dir, APP_PORT, workers, {})
    db_upgrade(env)
    seeded = await seed(f"sqlite+aiosqlite:///{data_dir / 'lienthong.db'}", seeded_max)
    server = await start_app(name, env, workdir / f"{name}.log", media_workers(workers))
    out: list[dict[str, Any]] = []
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            for n in sizes:
                result = await run_ours(server, http, seeded, n, clip, args.window)
                print(json.dumps(result), flush=True)
                out.append(result)
                await asyncio.sleep(1.0)
            if storm:
                result = await join_storm(server, http, seeded, storm, clip, args.spread)
                print(json.dumps({"storm": True, **result}), flush=True)
                out.append({"storm": True, **result})
    finally:
        server.stop()
    return out


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    from meetings.briefings.sfu import hooks
    from tests.briefings.media import make_clip

    sizes = [10] if args.quick else [int(x) for x in args.n.split(",") if x]
    storm = 10 if args.quick else args.storm
    workdir = Path(tempfile.mkdtemp(prefix="ltb-app-"))
    clip_s = 15 + 30 + args.window if not args.quick else 25
    clip = make_clip(workdir / "clip.webm", seconds=clip_s, size=(640, 360))
    hooks.restrict_host_addresses([briefing.CLIENT_IP])
    variants = [("ours", "auto"), ("ours-w1", "1")]
    variants = [v for v in variants if v[0] in args.servers.split(",")]
    briefing.netns_up()
    runs: list[dict[str, Any]] = []
    try:
        for name, workers in variants:
            runs += await ours_variant(
                name, workers, sizes, storm if name == "ours" else 0, args, clip, workdir,
                max([*sizes, storm]),
            )  # fmt: skip
        if "janus" in args.servers.split(","):
            for n in sizes:
                result = await briefing.run_one("janus", n, clip, args.window, workdir)
                result["paced"] = abs((result["mean_fps"] or 0) - 30) < 1.5
                result["load_1min"] = round(os.getloadavg()[0], 2)
                print(json.dumps(result), flush=True)
                runs.append(result)
    finally:
        briefing.netns_down()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return summarise(runs, sizes)


def summarise(runs: list[dict[str, Any]], sizes: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {"load_average": [round(x, 2) for x in os.getloadavg()]}
    for r in runs:
        if r.get("storm"):
            out[f"storm_{r['server']}"] = {
                k: r[k] for k in ("storm_n", "joined", "all_receiving_s")
            }
            continue
        janus = next((j for j in runs if j["server"] == "janus" and j["n"] == r["n"]), None)
        key = f"{r['server']}_n{r['n']}"
        out[key] = {
            k: r.get(k)
            for k in (
                "cpu_us_per_packet", "loss_pct", "min_fps", "join_s", "joined",
                "signaling_bytes_per_s_per_participant", "paced", "load_1min",
            )
        }  # fmt: skip
        if r["server"] != "janus" and janus and janus.get("cpu_us_per_packet"):
            ratio = (r["cpu_us_per_packet"] or 0) / janus["cpu_us_per_packet"]
            out[key]["ratio_to_janus"] = round(ratio, 2)
    out["runs"] = runs
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 10, a 4 s window, a small storm")
    parser.add_argument("--n", default="10,80,170", help="endpoint counts")
    parser.add_argument("--window", type=float, default=None, help="measuring window, seconds")
    parser.add_argument("--storm", type=int, default=170, help="join storm size (0: none)")
    parser.add_argument("--spread", type=float, default=10.0, help="join storm spread, seconds")
    parser.add_argument("--servers", default="ours,ours-w1,janus")
    parser.add_argument("--processes", type=int, default=1, help="2: two serve behind nginx")
    parser.add_argument("--proc-workers", default="1", help="media workers of each process")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    args.window = args.window or (4.0 if args.quick else 10.0)
    if args.quick:
        args.spread = min(args.spread, 2.0)
    if os.geteuid() != 0 or shutil.which("janus") is None:
        raise SystemExit("needs root (network namespaces) and Debian's janus package")
    sys.path.insert(0, str(ROOT))
    summary = asyncio.run(_main(args))
    print(json.dumps(summary))


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    """SIGTERM cancels the run (its clean-up still runs: namespaces, servers); SIGUSR1 prints
    every task's stack to stderr (where a run waits)."""
    loop = asyncio.get_running_loop()
    main_task = asyncio.current_task()
    assert main_task is not None
    loop.add_signal_handler(signal.SIGTERM, main_task.cancel)
    loop.add_signal_handler(signal.SIGUSR1, _dump_tasks)
    if args.processes > 1:
        from bench.briefing_app_processes import bench_processes

        return await bench_processes(args)
    return await bench(args)


def _dump_tasks() -> None:
    for task in asyncio.all_tasks():
        task.print_stack(limit=6, file=sys.stderr)


if __name__ == "__main__":
    main()
