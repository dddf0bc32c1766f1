"""Media worker groups of several app processes finding each other through Redis (real Redis).

Two groups announce their workers under one deployment's prefix and each cluster learns the
other's pipe address, so heartbeats and streams cross; a third deployment's prefix sees none of
them; a group that stops is dropped once its keys lapse; the pipe takes no datagram from an
address the registry does not list.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from meetings.briefings.live import StreamInfo
from meetings.briefings.registry import GROUP_SIZE, Registry, namespace, take_group
from meetings.briefings.sfu.forwarder import Source
from meetings.briefings.sfu.pipe import Address, Cluster
from meetings.briefings.sfu.remote import RemotePeer
from tests.briefings.sfu_support import until

REDIS_URL = os.environ.get("LIENTHONG_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    client = aioredis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (RedisError, OSError):
        await client.aclose()
        # required, as by the realtime hub's Redis tests: never skipped
        pytest.fail(f"Redis is required (LIENTHONG_TEST_REDIS_URL) but {REDIS_URL} does not answer")
    name = namespace(f"postgresql://test/{uuid.uuid4().hex}")
    yield name
    keys = [k async for k in client.scan_iter(match=f"{name}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def _bound() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    return sock


class Group:
    """One app process's worker 0: its pipe socket, cluster and registry."""

    def __init__(self, prefix: str, number: int) -> None:
        self.sock = _bound()
        self.index = number * GROUP_SIZE
        address: Address = self.sock.getsockname()[:2]
        self.cluster = Cluster(
            self.index, secrets.token_hex(8), self.sock, {self.index: address}, shared=True
        )
        own = {self.index: address}
        self.registry = Registry(REDIS_URL, prefix, own, self.cluster.set_members)

    async def start(self) -> None:
        self.cluster.start()
        await self.registry.start()

    async def stop(self) -> None:
        await self.registry.close()
        self.cluster.close()
        self.sock.close()


def _packet(seq: int) -> bytes:
    header = bytes([0x80, 111]) + seq.to_bytes(2, "big") + (seq * 960).to_bytes(4, "big")
    return header + (4321).to_bytes(4, "big") + bytes(20)


async def test_groups_meet_lapse_and_stay_within_their_deployment(prefix: str) -> None:
    g1, g2 = await take_group(REDIS_URL, prefix), await take_group(REDIS_URL, prefix)
    assert g1 != g2 and g1 > 0 and g2 > 0
    a, b = Group(prefix, g1), Group(prefix, g2)
    stranger = Group(namespace(f"postgresql://other/{uuid.uuid4().hex}"), 1)
    try:
        for g in (a, b, stranger):
            await g.start()
        await until(lambda: a.cluster.alive(b.index, b.cluster.epoch), "a hears b", 10)
        await until(lambda: b.cluster.alive(a.index, a.cluster.epoch), "b hears a", 10)
        assert set(a.cluster.addresses) == {a.index, b.index}  # not the other deployment's
        assert set(stranger.cluster.addresses) == {stranger.index}
        # audio crosses from group a to group b, as between two workers of one process
        audio = Source("u1", "audio", 48000, None, lambda _ssrc: None)
        audio.stream = 91
        a.cluster.local[91] = audio
        address = b.cluster.addresses[b.index]
        audio.taps.append(a.cluster.tap(91, [address]))
        remote = RemotePeer("u1", a.index, (StreamInfo("audio", 91, 48000, None),), b.cluster)
        for seq in range(5):
            audio.forward(_packet(seq))
        await until(lambda: b.cluster.received == 5, "audio crosses groups", 10)
        # a datagram from an address no registry lists is dropped unread
        intruder = _bound()
        intruder.sendto(b"R" + (91).to_bytes(4, "big") + _packet(9), address)
        intruder.close()
        audio.forward(_packet(5))
        await until(lambda: b.cluster.received == 6, "the next real packet", 10)
        await asyncio.sleep(0.2)
        assert b.cluster.received == 6
        await remote.close()
        # group b stops: its keys go, and a forgets it at its next read
        await b.stop()
        await until(lambda: b.index not in a.cluster.addresses, "b dropped", 10)
        assert a.index in a.cluster.addresses  # our own group is always kept
    finally:
        for g in (a, b, stranger):
            if g.sock.fileno() != -1:
                await g.stop()


async def test_an_unreachable_redis_is_a_clear_configuration_error() -> None:
    from types import SimpleNamespace

    from meetings.briefings.config import BriefingsConfig
    from meetings.briefings.http import _sharing
    from server.errors import ConfigError
    from server.secret import Secret

    app_config: Any = SimpleNamespace(
        realtime=SimpleNamespace(backend="redis", redis_url=Secret("redis://127.0.0.1:1/0")),
        database=SimpleNamespace(url=Secret("sqlite+aiosqlite:///x.db")),
    )
    with pytest.raises(ConfigError) as caught:
        await _sharing(app_config, BriefingsConfig())
    assert "realtime.redis_url" in str(caught.value) and caught.value.detail_vi
    memory: Any = SimpleNamespace(realtime=SimpleNamespace(backend="memory"))
    assert await _sharing(memory, BriefingsConfig()) is None
