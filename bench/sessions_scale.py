"""Province-scale session scenarios for ``bench/sessions.py`` (issue 15).

* **storm**: N tablets of one sitting, each with its page state loaded, drop and reconnect at
  once; each resubscribes from its last event and reloads what the page reloads (the state with
  ``If-None-Match``; its papers only when the state's ``papers_version`` moved, as the page's
  ``resume``).  Twice: nothing changed meanwhile (every state a 304), and
  the current item changed while they were away (one build, then 200s).  Reports the time until
  every tablet is back in sync and the server CPU per reconnect.
* **many**: 100 sittings of 30 tablets and one of 100 on one deployment; every sitting opens a
  vote and every tablet votes within the same second.  Reports the vote-ack p95 of each sitting
  (max and median over sittings), checks every vote counted once and that no tablet heard another
  sitting's events.  On one process (SQLite, in-process hub) or, with ``--two``, on two behind
  nginx (PostgreSQL, hub on Redis).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from bench.deploy import PASSWORD


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def wait_until(check: Callable[[], bool], limit: float) -> bool:
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        if check():
            return True
        await asyncio.sleep(0.01)
    return check()


class Tablet:
    """A member's page: one socket on its sitting's channel, the state kept with its ETag."""

    def __init__(self, http: aiohttp.ClientSession, base: str, sid: int, cookie: str) -> None:
        self.http, self.base, self.sid = http, base, sid
        self.headers = {"Cookie": f"lt_session={cookie}"}
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.task: asyncio.Task[None] | None = None
        self.seq: int | None = None
        self.epoch: str | None = None
        self.etag: str | None = None
        self.events: dict[str, float] = {}
        self.acks: dict[str, float] = {}
        self.foreign = 0
        self.subscribed = asyncio.Event()
        self.bytes = 0
        self.not_modified = 0
        self.papers_version: str | None = None

    async def connect(self) -> None:
        self.subscribed.clear()
        self.ws = await self.http.ws_connect(
            self.base + "/api/v1/realtime", headers=self.headers, compress=0, heartbeat=None
        )
        self.task = asyncio.create_task(self.listen(self.ws))
        msg: dict[str, Any] = {"op": "subscribe", "channels": {f"session:{self.sid}": self.seq}}
        if self.epoch:
            msg["epoch"] = self.epoch
        await self.ws.send_str(json.dumps(msg))
        await self.subscribed.wait()

    async def listen(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                continue
            now = time.perf_counter()
            data = json.loads(msg.data)
            if "seq" in data:
                if data["channel"] != f"session:{self.sid}":
                    self.foreign += 1
                self.seq = max(self.seq or 0, data["seq"])
                self.events.setdefault(data["type"], now)
            elif data.get("op") == "subscribed":
                self.epoch = data["epoch"]
                if self.seq is None:
                    self.seq = data["channels"][f"session:{self.sid}"]
                self.subscribed.set()
            elif data.get("op") in ("vote.ack", "error"):
                self.acks[str(data.get("ref"))] = now
                if data.get("op") == "error":
                    self.events.setdefault("error:" + str(data.get("code")), now)

    async def load_state(self, papers: bool = True) -> None:
        """What the page loads: the state (If-None-Match, X-Session-Seq) and the papers."""
        headers = dict(self.headers)
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.seq:
            headers["X-Session-Seq"] = str(self.seq)
        api = f"{self.base}/api/v1/sessions/{self.sid}"
        async with self.http.get(api, headers=headers) as resp:
            body = await resp.read()
            assert resp.status in (200, 304), (resp.status, body[:200])
            self.bytes += len(body)
            self.not_modified += resp.status == 304
            self.etag = resp.headers.get("ETag", self.etag)
            if resp.status == 200:
                self.papers_version = json.loads(body).get("papers_version")
        if papers:
            await self.load_papers()

    async def load_papers(self) -> None:
        api = f"{self.base}/api/v1/sessions/{self.sid}"
        async with self.http.get(api + "/papers", headers=self.headers) as resp:
            self.bytes += len(await resp.read())

    async def resume(self) -> None:
        """What the page does when its socket is back (web/static/sessions/session.js:
        ``resume``): the state first; the papers only if the state changed (not a 304)."""
        before, mark = self.not_modified, self.papers_version
        await self.load_state(papers=False)
        if self.not_modified == before and (mark is None or self.papers_version != mark):
            await self.load_papers()

    async def drop(self) -> None:
        if self.task is not None:
            self.task.cancel()
        if self.ws is not None:
            await self.ws.close()

    async def vote(self, poll: int, within: float) -> float:
        await asyncio.sleep(random.random() * within)
        sent = time.perf_counter()
        assert self.ws is not None
        await self.ws.send_str(
            json.dumps({"op": "vote", "poll": poll, "choice": "yes", "ref": "v"})
        )
        return sent


async def connect_all(
    tablets: list[Tablet], load: bool, width: int = 200, resume: bool = False
) -> float:
    sem = asyncio.Semaphore(width)
    start = time.perf_counter()

    async def one(t: Tablet) -> None:
        async with sem:
            await t.connect()
        if resume:
            await t.resume()
        elif load:
            await t.load_state()

    await asyncio.gather(*(one(t) for t in tablets))
    return time.perf_counter() - start


async def storm(
    base: str, seeded: dict[str, Any], n: int, cpu: Callable[[], float]
) -> dict[str, Any]:
    sitting = seeded["sittings"][0]
    sid = sitting["sid"]
    desk = {"Authorization": f"Bearer {seeded['secretary']}"}
    out: dict[str, Any] = {"storm_tablets": n}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        tablets = [Tablet(http, base, sid, c) for c in sitting["tokens"][:n]]
        out["storm_first_load_s"] = round(await connect_all(tablets, load=True), 2)
        first_bytes = sum(t.bytes for t in tablets)
        out["state_and_papers_bytes_per_tablet"] = round(first_bytes / n)
        for label, change in (("unchanged", None), ("changed", sitting["items"][1])):
            await asyncio.gather(*(t.drop() for t in tablets))
            if change is not None:
                async with http.put(
                    f"{base}/api/v1/sessions/{sid}/current", json={"item_id": change}, headers=desk
                ) as resp:
                    assert resp.status == 200
            for t in tablets:
                t.bytes = t.not_modified = 0
            before = cpu()
            took = await connect_all(tablets, load=True, width=n, resume=True)
            spent = cpu() - before
            out[f"storm_{label}_all_in_sync_s"] = round(took, 2)
            out[f"storm_{label}_server_cpu_ms_per_reconnect"] = round(spent / n, 2)
            out[f"storm_{label}_state_304"] = sum(t.not_modified for t in tablets)
            out[f"storm_{label}_bytes_per_tablet"] = round(sum(t.bytes for t in tablets) / n)
        await asyncio.gather(*(t.drop() for t in tablets))
    return out


async def _open_polls(
    http: aiohttp.ClientSession, base: str, desk: dict[str, str], sids: list[int]
) -> dict[int, int]:
    sem = asyncio.Semaphore(8)

    async def one(sid: int) -> tuple[int, int]:
        api = f"{base}/api/v1/sessions/{sid}"
        async with sem:
            async with http.post(f"{api}/polls", json={"title": "Biểu quyết"}, headers=desk) as r:
                poll = int((await r.json())["id"])
            async with http.post(f"{api}/polls/{poll}/open", headers=desk) as r:
                assert r.status == 200, await r.text()
        return sid, poll

    return dict(await asyncio.gather(*(one(s) for s in sids)))


async def many(
    base: str, seeded: dict[str, Any], cpu: Callable[[], float], within: float = 1.0
) -> dict[str, Any]:
    desk = {"Authorization": f"Bearer {seeded['secretary']}"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        groups = {
            s["sid"]: [Tablet(http, base, s["sid"], c) for c in s["tokens"]]
            for s in seeded["sittings"]
        }
        everyone = [t for g in groups.values() for t in g]
        connect_s = await connect_all(everyone, load=False)
        polls = await _open_polls(http, base, desk, list(groups))
        await wait_until(lambda: all("vote.opened" in t.events for t in everyone), 60)
        before = cpu()
        sent = await asyncio.gather(*(t.vote(polls[t.sid], within) for t in everyone))
        await wait_until(lambda: all("v" in t.acks for t in everyone), 120)
        spent = cpu() - before
        lat = {id(t): (t.acks["v"] - s) * 1000 for t, s in zip(everyone, sent, strict=True)}
        p95 = {
            sid: pct([lat[id(t)] for t in g if "v" in t.acks], 0.95) for sid, g in groups.items()
        }
        counted = []
        for sid, poll in polls.items():
            api = f"{base}/api/v1/sessions/{sid}/polls/{poll}/close"
            async with http.post(api, headers=desk) as r:
                counted.append((await r.json()).get("yes") == len(groups[sid]))
        big = seeded["sittings"][0]["sid"]
        out = {
            "many_sittings": len(groups),
            "many_tablets": len(everyone),
            "many_connect_s": round(connect_s, 2),
            "many_vote_ack_p95_ms_max_over_sittings": round(max(p95.values()), 1),
            "many_vote_ack_p95_ms_median_over_sittings": round(pct(list(p95.values()), 0.5), 1),
            "many_vote_ack_p95_ms_largest_sitting": round(p95[big], 1),
            "many_vote_ack_p95_ms_all": round(pct(list(lat.values()), 0.95), 1),
            "many_votes_acked": sum("v" in t.acks for t in everyone),
            "many_vote_errors": sum(
                1 for t in everyone if any(k.startswith("error:") for k in t.events)
            ),
            "many_every_sitting_counted_once": all(counted),
            "many_foreign_events": sum(t.foreign for t in everyone),
            "many_server_cpu_ms_for_all_votes": round(spent),
        }
        await asyncio.gather(*(t.drop() for t in everyone))
    return out


__all__ = ["PASSWORD", "Tablet", "connect_all", "many", "pct", "storm", "wait_until"]
