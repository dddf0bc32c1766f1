"""Two hubs ("processes") sharing events, numbers and history through Redis."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from server.config import RealtimeConfig
from server.realtime import Hub
from server.realtime.backends.redis_pubsub import RedisBackend
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

URL = os.environ.get("LIENTHONG_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CHAN = f"agency:{AGENCY_A}"


@pytest.fixture
async def make_hub_app(aiohttp_client: AiohttpClient) -> AsyncIterator[Callable[[], Any]]:
    service_reachable(6379, "Redis")
    prefix = f"lienthong:rt-test:{secrets.token_hex(4)}:"  # our own keys: parallel runs don't mix

    async def make() -> Client:
        backend = RedisBackend(URL, history=16, prefix=prefix)
        return await aiohttp_client(build_app(Hub(RealtimeConfig(history=16), backend)))

    yield make
    redis = aioredis.from_url(URL)
    try:
        keys = [key async for key in redis.scan_iter(match=f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


async def test_two_hubs_share_numbers_and_events(make_hub_app: Any) -> None:
    app_a, app_b = await make_hub_app(), await make_hub_app()
    hub_a, hub_b = hub_of(app_a), hub_of(app_b)
    assert hub_a.epoch == hub_b.epoch
    ws_a, ws_b = await connect(app_a, 1), await connect(app_b, 2)
    await subscribe(ws_a, {CHAN: None})
    await subscribe(ws_b, {CHAN: None})

    async def burst(hub: Hub, who: str) -> list[int]:
        return [await hub.publish(CHAN, "t", {"from": who, "n": n}) for n in range(40)]

    seqs_a, seqs_b = await asyncio.gather(burst(hub_a, "a"), burst(hub_b, "b"))
    assert sorted(seqs_a + seqs_b) == list(range(1, 81))
    got_a = [await recv(ws_a) for _ in range(80)]
    got_b = [await recv(ws_b) for _ in range(80)]
    assert got_a == got_b
    assert [e["seq"] for e in got_a] == list(range(1, 81))
    numbered = {(e["data"]["from"], e["data"]["n"]): e["seq"] for e in got_a}
    assert [numbered[("a", n)] for n in range(40)] == seqs_a


async def test_late_hub_catches_a_client_up_from_redis_history(make_hub_app: Any) -> None:
    app_a = await make_hub_app()
    for n in range(1, 6):
        await hub_of(app_a).publish(CHAN, "t", {"n": n})
    app_b = await make_hub_app()  # saw none of them
    ws = await connect(app_b, 1)
    await ws.send_json({"op": "subscribe", "channels": {CHAN: 2}, "epoch": hub_of(app_b).epoch})
    assert [(await recv(ws))["data"]["n"] for _ in range(3)] == [3, 4, 5]
    assert (await recv(ws))["channels"] == {CHAN: 5}
    # Live only, on a channel B never saw: the current number still comes from Redis.
    await hub_of(app_a).publish("user:1", "t", {})
    ws2 = await connect(app_b, 1)
    assert (await subscribe(ws2, {"user:1": None}))["channels"] == {"user:1": 1}
    # Older than the capped list (16): resync.
    for n in range(6, 30):
        await hub_of(app_a).publish(CHAN, "t", {"n": n})
    ws3 = await connect(app_b, 1)
    await ws3.send_json({"op": "subscribe", "channels": {CHAN: 3}})
    assert (await recv(ws3))["data"] == {"reason": "history"}


async def test_lost_subscription_resyncs_and_recovers(make_hub_app: Any) -> None:
    app_a, app_b = await make_hub_app(), await make_hub_app()
    hub_a, hub_b = hub_of(app_a), hub_of(app_b)
    await hub_a.publish(CHAN, "t", {})
    ws_b = await connect(app_b, 1)
    await subscribe(ws_b, {CHAN: 1})
    backend = hub_b.backend
    assert isinstance(backend, RedisBackend)
    redis = aioredis.from_url(URL, decode_responses=True)
    try:
        name = backend.client_name
        killed = 0
        for info in await redis.client_list(_type="pubsub"):
            if info.get("name") == name:
                killed += await redis.client_kill_filter(_id=info["id"])
        assert killed == 1
    finally:
        await redis.aclose()
    await hub_a.publish(CHAN, "t", {"during": True})
    first = await recv(ws_b, wait=5)
    assert first["seq"] == 2
    assert first["type"] == "t" or first["data"] == {"reason": "backend"}
    assert await hub_b.publish(CHAN, "t", {"after": True}) == 3
    assert (await recv(ws_b))["seq"] == 3
