"""Two ``lienthong serve`` processes behind Debian's nginx, hub on Redis, PostgreSQL: a sitting's
tablets spread over both, events in order, one process SIGKILLed mid-vote and its tablets back
through the other, every acknowledged vote counted once (docs/deploy.md, "Two processes behind
nginx")."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bench.deploy import seed_sittings
from tests.deployment import Deployment, behind_nginx

MEMBERS = 12


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    # a session number no other run uses: the Redis hub's channels are shared by every run
    first_id = random.randrange(10**6, 10**9)

    async def seed(db_url: str) -> dict[str, Any]:
        return await seed_sittings(db_url, [MEMBERS], first_id=first_id)

    with behind_nginx(tmp_path_factory.mktemp("nginx"), seed) as deployed:
        yield deployed


def connections_to(port: int) -> int:
    """Established TCP connections whose local port is ``port`` (nginx → that process)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                count += 1
    return count


@dataclass
class Tablet:
    """One member's tablet: reconnects through nginx and resumes from the last event it saw."""

    url: str
    cookie: str
    sid: int
    http: aiohttp.ClientSession
    seqs: list[int] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    acks: dict[int, str] = field(default_factory=dict)
    epoch: str | None = None
    ws: aiohttp.ClientWebSocketResponse | None = None
    reconnects: int = 0

    @property
    def channel(self) -> str:
        return f"session:{self.sid}"

    async def connect(self) -> None:
        for _attempt in range(100):
            try:
                ws = await self.http.ws_connect(
                    self.url + "/api/v1/realtime", headers={"Cookie": f"lt_session={self.cookie}"}
                )
            except aiohttp.ClientError:
                await asyncio.sleep(0.2)
                continue
            last = self.seqs[-1] if self.seqs else None
            msg: dict[str, Any] = {"op": "subscribe", "channels": {self.channel: last}}
            if self.epoch:
                msg["epoch"] = self.epoch
            await ws.send_json(msg)
            self.ws = ws
            reply = await self.next("subscribed", "error")
            assert reply.get("op") == "subscribed", reply
            self.epoch = reply["epoch"]
            if not self.seqs:
                self.seqs.append(reply["channels"][self.channel])
            return
        raise AssertionError("could not reconnect through nginx")

    async def next(self, *wanted: str, wait: float = 20) -> dict[str, Any]:
        """The next message whose op or type is in ``wanted``, recording events on the way."""
        assert self.ws is not None
        while True:
            got = await self.ws.receive(timeout=wait)
            if got.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                raise ConnectionResetError("closed")
            if got.type is aiohttp.WSMsgType.ERROR:
                raise ConnectionResetError("error")
            data = json.loads(got.data)
            if "seq" in data:
                assert data["channel"] == self.channel, data
                if data["seq"] <= self.seqs[-1]:
                    continue  # a replay of what we saw
                assert data["seq"] == self.seqs[-1] + 1, (self.seqs, data)  # in order, no gap
                assert data["type"] != "resync", data
                self.seqs.append(data["seq"])
                self.types.append(data["type"])
                self.events[data["type"]] = data
            if data.get("op") == "vote.ack":
                self.acks[data["poll"]] = data["status"]
            if data.get("op") in wanted or data.get("type") in wanted:
                return data  # type: ignore[no-any-return]

    async def vote_until_acked(self, poll: int) -> None:
        while poll not in self.acks:
            try:
                assert self.ws is not None
                await self.ws.send_json({"op": "vote", "poll": poll, "choice": "yes", "ref": "v"})
                await self.next("vote.ack")
            except (ConnectionResetError, ConnectionError, aiohttp.ClientError):
                self.reconnects += 1
                await self.connect()


async def test_two_processes_behind_nginx_survive_a_kill(deployment: Deployment) -> None:
    d = deployment
    sitting = d.seeded["sittings"][0]
    sid = sitting["sid"]
    desk = {"Authorization": f"Bearer {d.seeded['secretary']}"}
    api = f"{d.url}/api/v1/sessions/{sid}"
    async with aiohttp.ClientSession() as http:
        tablets = [Tablet(d.url, cookie, sid, http) for cookie in sitting["tokens"]]
        for t in tablets:
            await t.connect()
        # round robin: the sitting's tablets are spread over both processes
        assert connections_to(d.ports[0]) >= 3 and connections_to(d.ports[1]) >= 3

        # the page state: the same bytes (so the same ETag) from either process
        cookie = {"Cookie": f"lt_session={sitting['tokens'][0]}"}
        async with http.get(api, headers=cookie) as resp:
            assert resp.status == 200
            etag = resp.headers["ETag"]
        for _ in range(4):
            async with http.get(api, headers={**cookie, "If-None-Match": etag}) as resp:
                assert resp.status == 304

        async with http.post(f"{api}/polls", json={"title": "Thông qua"}, headers=desk) as resp:
            poll = (await resp.json())["id"]
        async with http.post(f"{api}/polls/{poll}/open", headers=desk) as resp:
            assert resp.status == 200
        for t in tablets:
            await t.next("vote.opened")

        # half vote; then the others vote while the first process is killed
        first, rest = tablets[: MEMBERS // 2], tablets[MEMBERS // 2 :]
        await asyncio.gather(*(t.vote_until_acked(poll) for t in first))
        for t in rest:
            assert t.ws is not None
            await t.ws.send_json({"op": "vote", "poll": poll, "choice": "yes", "ref": "v"})
        os.kill(d.servers[0].pid, signal.SIGKILL)
        d.servers[0].wait()
        await asyncio.gather(*(t.vote_until_acked(poll) for t in rest))
        assert sum(t.reconnects for t in rest) >= 1  # some tablets came back through the other

        async with http.post(f"{api}/polls/{poll}/close", headers=desk) as resp:
            result = await resp.json()
            assert resp.status == 200, result
        assert result["yes"] == MEMBERS and result["voted"] == MEMBERS
        for t in tablets:
            assert t.acks[poll] in ("recorded", "already")
            while "vote.closed" not in t.events:  # a replay on reconnecting counts too
                try:
                    await t.next("vote.closed")
                except ConnectionResetError:
                    await t.connect()
            closed = t.events["vote.closed"]
            assert closed["data"]["poll"]["yes"] == MEMBERS
            # every event of the sitting, in order and without a gap, on every tablet
            assert t.seqs == list(range(t.seqs[0], t.seqs[-1] + 1))
            assert t.types[-1] == "vote.closed"
            if t.ws is not None:
                await t.ws.close()

    async def votes_in_db() -> int:
        import asyncpg  # type: ignore[import-untyped]

        conn = await asyncpg.connect(d.db_url.replace("postgresql+asyncpg", "postgresql"))
        try:
            return int(
                await conn.fetchval(
                    "SELECT count(*) FROM session_poll_votes WHERE poll_id=$1", poll
                )
            )
        finally:
            await conn.close()

    assert await votes_in_db() == MEMBERS
