"""The media workers of every app process of one deployment, found through Redis.

One ``lienthong serve`` starts a group of media workers (:mod:`.workers`) whose pipe addresses
it knows.  Several app processes behind a proxy (the "scaled" runtime: nginx, PostgreSQL, the
realtime hub on Redis) must form *one* set of workers, or two endpoints that reach two
processes would sit in two rooms.  So, when the hub runs on Redis, each process:

* takes a **group number** at start (``INCR``): its workers are numbered ``group × 1000 + k``,
  unique across the deployment and across restarts, which is what the live room rows record;
* **announces** each of its workers' pipe address under a key that expires after
  :data:`TTL` seconds unless renewed (every :data:`PERIOD`), and keeps the numbers in a set;
* **reads** the set every period and hands the live members to its :class:`~.sfu.pipe.Cluster`,
  which then sends heartbeats, state-change notices and streams to them like to its own group's
  workers.  Whether a worker is *alive* is still decided by its heartbeats over the pipe (2 s),
  not by Redis: a SIGKILLed process stops beating at once, its keys lapse a little later.

Keys live under ``lienthong:briefings:<deployment>:`` where the deployment is a hash of the
database URL: processes sharing a database are one deployment, other deployments on the same
Redis (test runs, a staging copy) never see each other.  Without Redis (the embedded default,
one process) there is no registry and the group is 0, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from meetings.briefings.sfu.pipe import Address

log = logging.getLogger(__name__)

GROUP_SIZE = 1000
"""Worker numbers per group: group g holds g × 1000 … g × 1000 + 999."""
TTL = 5.0
"""Seconds an announcement lives without renewal."""
PERIOD = 1.0
"""Seconds between renewals and reads."""


def namespace(database_url: str) -> str:
    """The key prefix of the deployment using ``database_url``."""
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:16]
    return f"lienthong:briefings:{digest}:"


async def take_group(url: str, prefix: str) -> int:
    """A group number no other process of the deployment has had (1, 2, …)."""
    client = aioredis.from_url(url, decode_responses=True)
    try:
        group = int(await client.incr(f"{prefix}groups"))
    finally:
        await client.aclose()
    return 1 + (group - 1) % 2_000_000  # worker numbers stay within a 32-bit column


def parse_address(raw: str) -> Address | None:
    host, _, port = raw.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return (host, int(port))


class Registry:
    """Announces ``own`` workers and tells ``on_members`` every live member, each period."""

    def __init__(
        self,
        url: str,
        prefix: str,
        own: dict[int, Address],
        on_members: Callable[[dict[int, Address]], None],
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.own = dict(own)
        self.on_members = on_members
        self._task: asyncio.Task[None] | None = None
        self._client: aioredis.Redis | None = None

    def _key(self, worker: int) -> str:
        return f"{self.prefix}worker:{worker}"

    async def start(self) -> None:
        self._client = aioredis.from_url(self.url, decode_responses=True)
        with contextlib.suppress(RedisError, OSError):
            await self.round()  # members known before the first endpoint arrives
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(PERIOD)
            try:
                await self.round()
                failing = False
            except (RedisError, OSError) as exc:
                if not failing:  # the last members known stay; their heartbeats decide
                    log.warning("briefing worker registry: Redis unreachable: %r", exc)
                failing = True

    async def round(self) -> None:
        """Renew our announcements, then read every member's."""
        client = self._client
        assert client is not None
        ttl = int(TTL * 1000)
        async with client.pipeline(transaction=False) as pipe:
            for worker, (host, port) in self.own.items():
                _ = pipe.set(self._key(worker), f"{host}:{port}", px=ttl)
            if self.own:
                _ = pipe.sadd(f"{self.prefix}members", *self.own)
            _ = pipe.smembers(f"{self.prefix}members")
            replies = await pipe.execute()
        numbers = sorted(int(m) for m in replies[-1] if str(m).isdigit())
        values = await client.mget([self._key(n) for n in numbers]) if numbers else []
        members: dict[int, Address] = {}
        lapsed: list[int] = []
        for number, value in zip(numbers, values, strict=True):
            address = parse_address(str(value)) if value else None
            if address is None:
                lapsed.append(number)
            else:
                members[number] = address
        if lapsed:
            await client.srem(f"{self.prefix}members", *lapsed)
        self.on_members(members)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._client is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._client.delete(*(self._key(w) for w in self.own))
                await self._client.srem(f"{self.prefix}members", *self.own)
            await self._client.aclose()
            self._client = None
