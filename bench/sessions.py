"""Council-session benchmark: 1,000 tablets on WebSockets against one server process.

Starts ``lienthong serve`` on a fresh data directory (SQLite, in-process hub), seeds a session with
N invited members checked in, connects N WebSocket tablets and measures:

* **vote ack**: every tablet votes within the same 100 ms over its open socket; the time from
  sending to the acknowledgement, which comes only after the vote is committed;
* **close to all**: the secretariat closes the vote; the time until the last tablet has the result;
* **agenda to all**: the secretariat changes the current item; p95 and max until tablets have it;
* **page 1 bytes**: Chromium opens a 200-page, ~20 MB paper in the reader; the bytes of the PDF
  fetched (HTTP ranges) until page 1 is drawn.

* **state**: before voting, every tablet downloads its page state and papers as the page does
  (bytes, server CPU per download, time until all are connected and loaded).

``--scenario storm`` (reconnect storm), ``many`` (100 × 30 + 1 × 100 sittings on one process)
and ``many2`` (the same on two processes behind nginx, PostgreSQL, hub on Redis) are described in
:mod:`bench.sessions_scale`; ``all`` runs the four.  ``--quick`` runs 100 tablets and a smaller
paper (``many``: 20 × 10 + 1 × 30), each scenario under two minutes.  The last line printed is
one JSON object.
OpenSlides' published figure for context: stopping a 2,000-voter poll took 4 s after their fix
(51 s before).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp

from bench.deploy import PASSWORD, Nginx, cli, free_port, seed_sittings, serve, server_env, stop
from bench.sessions_scale import Tablet as StateTablet
from bench.sessions_scale import many, storm

ROOT = Path(__file__).resolve().parent.parent


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Tablet:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.events: dict[str, float] = {}
        self.acks: dict[str, float] = {}
        self.pongs: dict[str, float] = {}
        self.task: asyncio.Task[None] | None = None

    async def listen(self) -> None:
        async for msg in self.ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                continue
            now = time.perf_counter()
            data = json.loads(msg.data)
            if "type" in data:
                self.events.setdefault(data["type"], now)
            elif data.get("op") == "pong":
                self.pongs[str(data.get("ref"))] = now
            elif data.get("op") in ("vote.ack", "error", "subscribed"):
                self.acks[str(data.get("ref", data["op"]))] = now
                if data.get("op") == "error":
                    self.events.setdefault("error:" + data.get("code", ""), now)


async def wait_until(check: Any, limit: float) -> bool:
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        if check():
            return True
        await asyncio.sleep(0.005)
    return check()  # type: ignore[no-any-return]


def cpu_ms(pid: int) -> float:
    """CPU time (user + system) the process has used, from /proc, in milliseconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) * 1000 / ticks


async def tablets_scenario(
    base: str, seeded: dict[str, Any], n: int, cpu: Callable[[], float]
) -> dict[str, Any]:
    sid = seeded["sid"]
    api = f"{base}/api/v1/sessions/{sid}"
    desk = {"Authorization": f"Bearer {seeded['secretary']}"}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        tablets: list[Tablet] = []
        t0 = time.perf_counter()
        sem = asyncio.Semaphore(100)

        async def connect(token: str) -> Tablet:
            async with sem:
                ws = await http.ws_connect(
                    base + "/api/v1/realtime",
                    headers={"Cookie": f"lt_session={token}"},
                    compress=0,
                    heartbeat=None,
                )
                tablet = Tablet(ws)
                tablet.task = asyncio.create_task(tablet.listen())
                await ws.send_str(
                    json.dumps({"op": "subscribe", "channels": {f"session:{sid}": None}})
                )
                return tablet

        tablets = list(await asyncio.gather(*(connect(t) for t in seeded["tokens"][:n])))
        await wait_until(lambda: all("subscribed" in t.acks for t in tablets), 60)
        connect_s = time.perf_counter() - t0

        # then each tablet downloads its page state as the page does (state and papers)
        pages = [StateTablet(http, base, sid, token) for token in seeded["tokens"][:n]]
        cpu_before = cpu()
        state_sem = asyncio.Semaphore(200)

        async def load(page: StateTablet) -> None:
            async with state_sem:
                await page.load_state()

        await asyncio.gather(*(load(p) for p in pages))
        state_cpu = cpu() - cpu_before
        connect_and_state_s = time.perf_counter() - t0
        state_bytes = sum(p.bytes for p in pages) / max(1, len(pages))

        # baseline: the same burst of 1,000 messages as a plain ping (the socket path alone)
        ping_sent: list[float] = [0.0] * len(tablets)

        async def ping(i: int, tablet: Tablet) -> None:
            await asyncio.sleep(random.random() * 0.1)
            ping_sent[i] = time.perf_counter()
            await tablet.ws.send_str(json.dumps({"op": "ping", "ref": "p"}))

        cpu_before = cpu()
        await asyncio.gather(*(ping(i, t) for i, t in enumerate(tablets)))
        await wait_until(lambda: all("p" in t.pongs for t in tablets), 30)
        ping_cpu = cpu() - cpu_before
        pongs = [(t.pongs["p"] - ping_sent[i]) * 1000 for i, t in enumerate(tablets)]

        async with http.post(
            api + "/polls", json={"title": "Thông qua nghị quyết"}, headers=desk
        ) as resp:
            poll = (await resp.json())["id"]
        async with http.post(f"{api}/polls/{poll}/open", headers=desk) as resp:
            assert resp.status == 200, await resp.text()
        await wait_until(lambda: all("vote.opened" in t.events for t in tablets), 10)

        sent: list[float] = [0.0] * len(tablets)

        async def vote(i: int, tablet: Tablet) -> None:
            await asyncio.sleep(random.random() * 0.1)  # everyone within the same 100 ms
            sent[i] = time.perf_counter()
            await tablet.ws.send_str(
                json.dumps({"op": "vote", "poll": poll, "choice": "yes", "ref": "v"})
            )

        cpu_before = cpu()
        await asyncio.gather(*(vote(i, t) for i, t in enumerate(tablets)))
        await wait_until(lambda: all("v" in t.acks for t in tablets), 30)
        vote_cpu = cpu() - cpu_before
        acks = [(t.acks["v"] - sent[i]) * 1000 for i, t in enumerate(tablets) if "v" in t.acks]
        errors = sum(1 for t in tablets if any(k.startswith("error:") for k in t.events))

        start = time.perf_counter()
        async with http.post(f"{api}/polls/{poll}/close", headers=desk) as resp:
            result = await resp.json()
        close_http = (time.perf_counter() - start) * 1000
        await wait_until(lambda: all("vote.closed" in t.events for t in tablets), 30)
        close_all = [(t.events["vote.closed"] - start) * 1000 for t in tablets]

        start = time.perf_counter()
        async with http.put(
            api + "/current", json={"item_id": seeded["items"][1]}, headers=desk
        ) as resp:
            assert resp.status == 200
        await wait_until(lambda: all("agenda.current" in t.events for t in tablets), 30)
        agenda = [(t.events["agenda.current"] - start) * 1000 for t in tablets]

        for t in tablets:
            await t.ws.close()
            if t.task is not None:
                t.task.cancel()
    return {
        "tablets": len(tablets),
        "connect_all_s": round(connect_s, 2),
        "connect_and_state_all_s": round(connect_and_state_s, 2),
        "state_and_papers_bytes_per_tablet": round(state_bytes),
        "server_cpu_ms_per_state_download": round(state_cpu / max(1, len(pages)), 2),
        "votes_recorded": result.get("yes"),
        "vote_errors": errors,
        "vote_ack_p50_ms": round(pct(acks, 0.5), 1),
        "vote_ack_p95_ms": round(pct(acks, 0.95), 1),
        "vote_ack_max_ms": round(max(acks), 1),
        "server_cpu_ms_for_all_votes": round(vote_cpu),
        "ping_p95_ms_same_burst": round(pct(pongs, 0.95), 1),
        "server_cpu_ms_for_all_pings": round(ping_cpu),
        "close_http_ms": round(close_http, 1),
        "close_to_all_ms": round(max(close_all), 1),
        "agenda_to_all_p95_ms": round(pct(agenda, 0.95), 1),
        "agenda_to_all_max_ms": round(max(agenda), 1),
    }


async def upload_paper(base: str, seeded: dict[str, Any], pages: int, image: int) -> dict[str, Any]:
    from meetings.sessions.papers.sample import sample_pdf

    data = sample_pdf(pages, image_bytes=image)
    form = aiohttp.FormData()
    form.add_field("file", data, filename="bench.pdf", content_type="application/pdf")
    form.add_field("item_id", str(seeded["items"][0]))
    form.add_field("title", "Báo cáo 200 trang")
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{base}/api/v1/sessions/{seeded['sid']}/papers",
            data=form,
            headers={"Authorization": f"Bearer {seeded['secretary']}"},
        ) as resp,
    ):
        paper: dict[str, Any] = await resp.json()
        assert resp.status == 201, paper
    paper["original_size"] = len(data)
    return paper


def page_one_bytes(base: str, sid: int, paper: dict[str, Any]) -> dict[str, Any]:
    """Chromium opens the reader; count the PDF bytes fetched until page 1 is drawn."""
    from playwright.sync_api import sync_playwright

    fetched: list[int] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 820, "height": 1180})
            page.goto(base + "/login?next=/sessions")
            page.fill("input[name=login]", "db0000")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(base + "/sessions")

            # bytes on the wire per request (DevTools), so an aborted first GET counts what it got
            cdp = page.context.new_cdp_session(page)
            cdp.send("Network.enable")
            urls: dict[str, str] = {}
            received: dict[str, int] = {}

            def on_request(event: dict[str, Any]) -> None:
                urls[event["requestId"]] = event["request"]["url"]

            def on_data(event: dict[str, Any]) -> None:
                rid = event["requestId"]
                if "/papers/" in urls.get(rid, "") and "/file" in urls.get(rid, ""):
                    received[rid] = received.get(rid, 0) + int(event["dataLength"])

            cdp.on("Network.requestWillBeSent", on_request)
            cdp.on("Network.dataReceived", on_data)
            start = time.perf_counter()
            page.goto(f"{base}/sessions/{sid}/papers/{paper['id']}")
            page.wait_for_selector("[data-rendered='1']", timeout=60_000)
            elapsed = time.perf_counter() - start
            page.wait_for_timeout(300)
            fetched = list(received.values())
        finally:
            browser.close()
    return {
        "paper_pages": paper["pages"],
        "paper_bytes": paper["size"],
        "page1_bytes_fetched": sum(fetched),
        "page1_requests": len(fetched),
        "page1_seconds_local": round(elapsed, 2),
    }


@contextmanager
def one_process(sizes: list[int]) -> Iterator[tuple[str, dict[str, Any], Callable[[], float]]]:
    """``lienthong serve`` as ``make run`` deploys it: SQLite, the in-process hub."""
    data_dir = Path(tempfile.mkdtemp(prefix="lt-bench-sessions-"))
    port = free_port()
    env = server_env(data_dir, port)
    cli("db", "upgrade", env=env)
    seeded = asyncio.run(seed_sittings(f"sqlite+aiosqlite:///{data_dir / 'lienthong.db'}", sizes))
    server = serve(env, data_dir / "server.log")
    try:
        yield f"http://127.0.0.1:{port}", seeded, lambda: cpu_ms(server.pid)
    finally:
        stop(server)


@contextmanager
def two_processes(sizes: list[int]) -> Iterator[tuple[str, dict[str, Any], Callable[[], float]]]:
    """Two ``lienthong serve`` behind nginx, PostgreSQL, the hub on Redis (docs/deploy.md)."""
    import asyncpg  # type: ignore[import-untyped]

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(user="postgres", host="127.0.0.1", database="postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    tmp = Path(tempfile.mkdtemp(prefix="lt-bench-nginx-"))
    name = f"lt_bench_{random.randrange(10**9)}"
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    extra = {"LIENTHONG_DATABASE_URL": url, "LIENTHONG_REALTIME": "redis"}
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    servers: list[subprocess.Popen[bytes]] = []
    proxy = None
    try:
        ports = [free_port(), free_port()]
        cli("db", "upgrade", env=server_env(tmp, ports[0], extra))
        seeded = asyncio.run(seed_sittings(url, sizes, first_id=random.randrange(10**6, 10**9)))
        for i, port in enumerate(ports):
            (tmp / f"p{i}").mkdir()
            servers.append(serve(server_env(tmp / f"p{i}", port, extra), tmp / f"s{i}.log"))
        proxy = Nginx(tmp / "nginx", ports)
        proxy.start()
        yield proxy.url, seeded, lambda: sum(cpu_ms(s.pid) for s in servers)
    finally:
        if proxy is not None:
            proxy.stop()
        for server in servers:
            stop(server)
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def run_tablets(n: int, quick: bool, browser: bool) -> dict[str, Any]:
    pages, image = (200, 20_000) if quick else (200, 100_000)
    figures: dict[str, Any] = {}
    with one_process([n]) as (base, many_seeded, cpu):
        first = many_seeded["sittings"][0]
        seeded = {**first, "secretary": many_seeded["secretary"]}
        figures.update(asyncio.run(tablets_scenario(base, seeded, n, cpu)))
        paper = asyncio.run(upload_paper(base, seeded, pages, image))
        if browser:
            figures.update(page_one_bytes(base, seeded["sid"], paper))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer tablets, a smaller paper")
    parser.add_argument("--tablets", type=int, default=None)
    parser.add_argument("--no-browser", action="store_true", help="skip the page-1 measurement")
    parser.add_argument(
        "--scenario",
        choices=["tablets", "storm", "many", "many2", "all"],
        default="tablets",
        help="tablets: 1,000 tablets (with the state download); storm: reconnect storm; "
        "many: 100 × 30 + 1 × 100 on one process; many2: the same on two behind nginx",
    )
    args = parser.parse_args()
    n = args.tablets or (100 if args.quick else 1000)
    sizes = [30] + [10] * 20 if args.quick else [100] + [30] * 100
    chosen = ["tablets", "storm", "many", "many2"] if args.scenario == "all" else [args.scenario]

    import uvloop

    uvloop.install()
    load_before = os.getloadavg()[0]
    figures: dict[str, Any] = {"scenario": ("quick " if args.quick else "full ") + args.scenario}
    if "tablets" in chosen:
        figures.update(run_tablets(n, args.quick, not args.no_browser))
        figures["openslides_stop_poll_2000_voters_ms"] = 4000
    if "storm" in chosen:
        with one_process([n]) as (base, seeded, cpu):
            figures.update(asyncio.run(storm(base, seeded, n, cpu)))
    for kind, deploy in (("many", one_process), ("many2", two_processes)):
        if kind in chosen:
            with deploy(sizes) as (base, seeded, cpu):
                got = asyncio.run(many(base, seeded, cpu))
            figures.update({f"{kind}_{k.removeprefix('many_')}": v for k, v in got.items()})
    figures["load_average_1min_before"] = round(load_before, 2)
    figures["load_average_1min"] = round(os.getloadavg()[0], 2)
    for key, value in figures.items():
        print(f"{key}: {value}", file=sys.stderr)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
