"""Two hubs ("processes") sharing events through PostgreSQL LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest

from server.config import RealtimeConfig
from server.realtime import Hub
from server.realtime.backends.pg import PostgresBackend
from tests.realtime.rt_support import (
    AGENCY_A,
    AiohttpClient,
    Client,
    build_app,
    connect,
    hub_of,
    recv,
    service_reachable,
    subscribe,
)

pytestmark = pytest.mark.postgres

DSN = os.environ.get("LIENTHONG_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
CHAN = f"agency:{AGENCY_A}"


@pytest.fixture
async def make_hub_app(
    aiohttp_client: AiohttpClient,
) -> AsyncIterator[Callable[[], Any]]:
    service_reachable(5432, "PostgreSQL")
    # A NOTIFY channel of our own, so parallel test runs on this database do not mix.
    channel = f"lienthong_rt_test_{secrets.token_hex(4)}"

    async def make() -> Client:
        backend = PostgresBackend(DSN, channel=channel, sync_timeout=0.3)
        return await aiohttp_client(build_app(Hub(RealtimeConfig(), backend)))

    yield make


async def test_two_hubs_number_concurrent_events_identically(make_hub_app: Any) -> None:
    app_a, app_b = await make_hub_app(), await make_hub_app()
    hub_a, hub_b = hub_of(app_a), hub_of(app_b)
    assert hub_a.epoch == hub_b.epoch  # B joined A's numbering
    ws_a, ws_b = await connect(app_a, 1), await connect(app_b, 2)
    await subscribe(ws_a, {CHAN: None})
    await subscribe(ws_b, {CHAN: None})

    async def burst(hub: Hub, who: str) -> list[int]:
        return [await hub.publish(CHAN, "t", {"from": who, "n": n}) for n in range(40)]

    seqs_a, seqs_b = await asyncio.gather(burst(hub_a, "a"), burst(hub_b, "b"))
    assert sorted(seqs_a + seqs_b) == list(range(1, 81))
    got_a = [await recv(ws_a) for _ in range(80)]
    got_b = [await recv(ws_b) for _ in range(80)]
    assert got_a == got_b  # same events, same numbers, same order in both processes
    assert [e["seq"] for e in got_a] == list(range(1, 81))
    numbered = {(e["data"]["from"], e["data"]["n"]): e["seq"] for e in got_a}
    assert [numbered[("a", n)] for n in range(40)] == seqs_a
    assert [numbered[("b", n)] for n in range(40)] == seqs_b
    # Each process keeps its own history: a tablet moving from A to B catches up on B.
    ws = await connect(app_b, 3)
    await ws.send_json({"op": "subscribe", "channels": {CHAN: 77}, "epoch": hub_a.epoch})
    assert [(await recv(ws))["seq"] for _ in range(3)] == [78, 79, 80]


async def test_late_joiner_continues_the_numbering(make_hub_app: Any) -> None:
    app_a = await make_hub_app()
    hub_a = hub_of(app_a)
    for n in range(3):
        await hub_a.publish(CHAN, "t", {"n": n})
    await hub_a.publish("user:1", "t", {})
    app_b = await make_hub_app()
    hub_b = hub_of(app_b)
    assert hub_b.epoch == hub_a.epoch
    assert hub_b.current_seq(CHAN) == 3
    assert hub_b.current_seq("user:1") == 1
    ws_a = await connect(app_a, 1)
    await subscribe(ws_a, {CHAN: 3})
    assert await hub_b.publish(CHAN, "t", {"n": 3}) == 4
    assert (await recv(ws_a))["seq"] == 4
    # B has no history before it joined: a client asking for older events is told to reload.
    ws_b = await connect(app_b, 1)
    await ws_b.send_json({"op": "subscribe", "channels": {CHAN: 1}, "epoch": hub_b.epoch})
    assert (await recv(ws_b))["type"] == "resync"


async def test_large_event_is_split_and_reassembled(make_hub_app: Any) -> None:
    app_a, app_b = await make_hub_app(), await make_hub_app()
    ws_b = await connect(app_b, 1)
    await subscribe(ws_b, {CHAN: None})
    text = "Nghị quyết về kế hoạch phát triển kinh tế – xã hội. " * 1000  # ~55 kB in UTF-8
    assert await hub_of(app_a).publish(CHAN, "paper.added", {"text": text}) == 1
    assert await hub_of(app_a).publish(CHAN, "small", {}) == 2
    event = await recv(ws_b)
    assert (event["seq"], event["type"], event["data"]["text"]) == (1, "paper.added", text)
    assert (await recv(ws_b))["seq"] == 2


async def test_lost_listening_connection_resyncs_and_recovers(make_hub_app: Any) -> None:
    app_a, app_b = await make_hub_app(), await make_hub_app()
    hub_a, hub_b = hub_of(app_a), hub_of(app_b)
    await hub_a.publish(CHAN, "t", {})
    ws_b = await connect(app_b, 1)
    await subscribe(ws_b, {CHAN: 1})
    backend = hub_b.backend
    assert isinstance(backend, PostgresBackend)
    pid = backend._conn.get_server_pid()
    conn = await asyncpg.connect(DSN)
    try:
        await conn.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()
    # While B reconnects, A publishes.  B either got it live (reconnected first) or learns from
    # A's answer to its hello that the channel moved on, and tells its client to reload.
    await hub_a.publish(CHAN, "t", {"during": True})
    first = await recv(ws_b, wait=5)
    assert first["seq"] == 2
    assert first["type"] == "t" or first["data"] == {"reason": "backend"}
    assert await hub_b.publish(CHAN, "t", {"after": True}) == 3
    assert (await recv(ws_b))["seq"] == 3
    for _ in range(200):  # A numbers B's event when its own listener gets it
        if hub_a.current_seq(CHAN) == 3:
            break
        await asyncio.sleep(0.01)
    assert hub_a.current_seq(CHAN) == 3
