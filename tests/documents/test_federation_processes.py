"""Two real server processes exchanging a batch through a faulty link (drops, lost answers,
duplicates, delays that reorder), each killed with SIGKILL mid-batch and restarted: every
document arrives exactly once, every status arrives, and the message logs of both sides agree."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from documents.models import MessageLogEntry, OutboxMessage
from documents.msglog import verify_log_txn
from server.accounts.agencies import AgencyRow
from server.auth.principal import Role
from server.db import Database
from signing.devpki import DevPki
from signing.trust import TrustStore
from tests.conftest import bearer
from tests.documents.conftest import SignedFiles, free_port, send_form
from tests.documents.test_federation import (
    A_AGENCY,
    A_PROV,
    B_AGENCY,
    B_PROV,
    _seed,
    _toml,
)

pytestmark = pytest.mark.slow
N = 10


class Proc:
    def __init__(self, name: str, data: Path, port: int, env: dict[str, str]) -> None:
        self.name, self.data, self.port = name, data, port
        self.url = f"http://127.0.0.1:{port}"
        self.env = {
            **os.environ,
            **env,
            "LIENTHONG_DATA_DIR": str(data),
            "LIENTHONG_PORT": str(port),
            "LIENTHONG_HOST": "127.0.0.1",
            "LIENTHONG_LOG_LEVEL": "WARNING",
        }
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        with (self.data / "server.log").open("ab") as log:
            self.proc = await asyncio.to_thread(
                subprocess.Popen,
                [sys.executable, "-m", "lienthong.cli", "serve"],
                env=self.env,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 30
        async with aiohttp.ClientSession() as s:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError((self.data / "server.log").read_text()[-3000:])
                try:
                    async with s.get(self.url + "/healthz") as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start")

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


class FaultyLink:
    """A loopback proxy that drops, loses answers, duplicates and delays (so reorders)."""

    def __init__(self, target: str, rng: random.Random) -> None:
        self.target, self.rng = target, rng
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.counts = {"drop": 0, "lost_answer": 0, "duplicate": 0, "ok": 0}
        self.runner: web.AppRunner | None = None
        self.session: aiohttp.ClientSession | None = None

    async def _forward(self, request: web.Request, body: bytes) -> tuple[int, bytes]:
        assert self.session is not None
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")
        }
        async with self.session.post(self.target + request.path, data=body, headers=headers) as r:
            return r.status, await r.read()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        await asyncio.sleep(self.rng.uniform(0, 0.2))
        roll = self.rng.random()
        if roll < 0.15:
            self.counts["drop"] += 1
            return web.Response(status=502, text="dropped")
        try:
            status, answer = await self._forward(request, body)
            if roll < 0.30:
                self.counts["lost_answer"] += 1
                return web.Response(status=504, text="answer lost")
            if roll < 0.45:
                self.counts["duplicate"] += 1
                status, answer = await self._forward(request, body)
        except aiohttp.ClientError:
            return web.Response(status=502, text="peer down")
        self.counts["ok"] += 1
        return web.Response(status=status, body=answer, content_type="application/json")

    async def start(self) -> None:
        self.session = aiohttp.ClientSession()
        app = web.Application(client_max_size=256 << 20)
        app.router.add_post("/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        if self.session is not None:
            await self.session.close()


async def _until(check: Callable[[], Awaitable[bool]], within: float = 90.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if await check():
                return
        except (aiohttp.ClientError, OSError):
            pass
        await asyncio.sleep(0.2)
    raise AssertionError("condition not reached in time")


async def _json(method: str, url: str, token: str, **kw: Any) -> Any:
    async with (
        aiohttp.ClientSession() as s,
        s.request(method, url, headers=bearer(token), **kw) as r,
    ):
        assert r.status < 300, await r.text()
        return await r.json()


async def _log(url: str, direction: str) -> set[tuple[str, str]]:
    db = Database(url)
    try:

        async def run(session: AsyncSession) -> set[tuple[str, str]]:
            rows = await session.execute(
                select(MessageLogEntry.message_id, MessageLogEntry.digest).where(
                    MessageLogEntry.direction == direction
                )
            )
            return {(r[0], r[1]) for r in rows}

        return await db.read("log", run)
    finally:
        await db.close()


@pytest.fixture
async def world(
    tmp_path: Path, sqlite_template: Path, doc_pki: DevPki
) -> AsyncIterator[dict[str, Any]]:
    rng = random.Random(20261123)
    ports = {"a": free_port(), "b": free_port()}
    links = {
        "a_to_b": FaultyLink(f"http://127.0.0.1:{ports['b']}", rng),
        "b_to_a": FaultyLink(f"http://127.0.0.1:{ports['a']}", rng),
    }
    tokens: dict[str, dict[str, str]] = {}
    urls = {}
    for name in ("a", "b"):
        data = tmp_path / name
        data.mkdir()
        shutil.copy(sqlite_template, data / "lienthong.db")
        TrustStore(data / "trust").add(doc_pki.root_pem.read_bytes(), "dev root")
        urls[name] = f"sqlite+aiosqlite:///{data / 'lienthong.db'}"
        db = Database(urls[name])
        if name == "a":
            tokens[name] = await _seed(
                db,
                [AgencyRow(A_PROV, "UBND tỉnh A", None, 1), AgencyRow(A_AGENCY, "Sở A", A_PROV, 2)],
                [("vt_a", A_AGENCY, Role.CLERK), ("peer.b", A_PROV, Role.OFFICIAL)],
            )
        else:
            tokens[name] = await _seed(
                db,
                [AgencyRow(B_PROV, "UBND tỉnh B", None, 1), AgencyRow(B_AGENCY, "Sở B", B_PROV, 2)],
                [("vt_b", B_AGENCY, Role.CLERK), ("peer.a", B_PROV, Role.OFFICIAL)],
            )
        await db.close()
    (tmp_path / "a" / "federation.toml").write_text(
        _toml("tinh-a", str(doc_pki.p12("agency")), "tinh-b", links["a_to_b"].url, "LT_TOKEN_ON_B",
              "peer.b", [B_AGENCY], [A_AGENCY], str(doc_pki.cert("clerk"))).replace(
            "lease_seconds = 5.0", "lease_seconds = 2.0"),
        encoding="utf-8",
    )  # fmt: skip
    (tmp_path / "b" / "federation.toml").write_text(
        _toml("tinh-b", str(doc_pki.p12("clerk")), "tinh-a", links["b_to_a"].url, "LT_TOKEN_ON_A",
              "peer.a", [A_AGENCY], [B_AGENCY], str(doc_pki.cert("agency"))).replace(
            "lease_seconds = 5.0", "lease_seconds = 2.0"),
        encoding="utf-8",
    )  # fmt: skip
    env = {
        "LT_TEST_SEAL_PASSWORD": doc_pki.p12_password,
        "LT_TOKEN_ON_B": tokens["b"]["peer.a"],
        "LT_TOKEN_ON_A": tokens["a"]["peer.b"],
    }
    procs = {n: Proc(n, tmp_path / n, ports[n], env) for n in ("a", "b")}
    for link in links.values():
        await link.start()
    try:
        yield {"procs": procs, "links": links, "tokens": tokens, "db_urls": urls}
    finally:
        for proc in procs.values():
            proc.stop()
        for link in links.values():
            await link.stop()


async def test_kill9_both_sides_through_a_faulty_link(
    world: dict[str, Any], pdfs: SignedFiles
) -> None:
    a, b = world["procs"]["a"], world["procs"]["b"]
    ta, tb = world["tokens"]["a"]["vt_a"], world["tokens"]["b"]["vt_b"]
    await a.start()
    await b.start()
    sent = []
    for i in range(N):
        form = send_form(pdfs.signed, to=[B_AGENCY], number=str(100 + i), subject=f"Văn bản {i}")
        sent.append((await _json("POST", a.url + "/api/v1/documents", ta, data=form))["id"])

    async def inbox_count() -> int:
        return len((await _json("GET", b.url + "/api/v1/documents/inbox?limit=500", tb))["items"])

    await _until(lambda: _ge(inbox_count(), 2))
    b.kill9()  # the receiver dies mid-batch
    await asyncio.sleep(1.0)
    await b.start()
    await _until(lambda: _ge(inbox_count(), N // 2))
    a.kill9()  # then the sender
    await a.start()

    async def all_arrived() -> bool:
        for doc_id in sent:
            view = await _json("GET", f"{a.url}/api/v1/documents/{doc_id}", ta)
            if view["recipients"][0]["status"] != "01":
                return False
        return True

    await _until(all_arrived)
    items = (await _json("GET", b.url + "/api/v1/documents/inbox?limit=500", tb))["items"]
    assert sorted(d["number"] for d in items) == sorted(str(100 + i) for i in range(N))

    # every recipient registers; the statuses travel back while the sender is killed again
    for d in items:
        await _json("POST", f"{b.url}/api/v1/documents/{d['id']}/status", tb, json={"code": "03"})
    a.kill9()
    await asyncio.sleep(1.0)
    await a.start()

    async def all_registered() -> bool:
        for doc_id in sent:
            view = await _json("GET", f"{a.url}/api/v1/documents/{doc_id}", ta)
            codes = [e["code"] for e in view["recipients"][0]["timeline"]]
            if codes != ["00", "01", "03"]:
                return False
        return True

    await _until(all_registered)
    urls = world["db_urls"]

    async def outboxes_empty() -> bool:
        return all([await _undelivered(url) == 0 for url in urls.values()])

    await _until(outboxes_empty)
    links = world["links"]
    faults = {k: v for link in links.values() for k, v in link.counts.items() if k != "ok"}
    assert sum(faults.values()) > 0, links  # the link really misbehaved

    a.stop()
    b.stop()
    assert await _log(urls["a"], "out") == await _log(urls["b"], "in")
    assert await _log(urls["b"], "out") == await _log(urls["a"], "in")
    assert len(await _log(urls["a"], "out")) == N and len(await _log(urls["b"], "out")) == N
    for url in urls.values():
        db = Database(url)
        try:
            assert (await db.read("verify", verify_log_txn)).ok
        finally:
            await db.close()


async def _ge(value: Awaitable[int], n: int) -> bool:
    return await value >= n


async def _undelivered(url: str) -> int:
    db = Database(url)
    try:

        async def run(session: AsyncSession) -> int:
            rows = await session.scalars(
                select(OutboxMessage.id).where(OutboxMessage.delivered_at.is_(None))
            )
            return len(list(rows))

        return await db.read("undelivered", run)
    finally:
        await db.close()
