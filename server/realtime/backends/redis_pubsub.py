"""Redis backend: numbers from ``INCR``, a capped history list per channel, one pub/sub channel.

One Lua script publishes an event atomically: ``INCR`` the channel's number, ``RPUSH`` the event
onto the channel's history list and ``LTRIM`` it to ``history`` entries, ``PUBLISH`` it.  Because
the script is atomic, events of a channel reach every subscriber in number order, and the list and
the counter always agree.  Every hub subscribes to one Redis channel (``<prefix>events``) and takes
the numbers as given.

A hub that has not seen a channel yet (it started after the channel's last event) fetches the
counter and the list in one ``MULTI`` before answering a subscription, so a tablet can catch up in
any process, from Redis's history rather than only this process's memory.

Pub/sub delivers at most once: if the subscription drops, the hub resubscribes, reads the
current numbers of the channels it knows (``MGET``) and sends ``resync`` to the subscribers of every
channel that moved meanwhile.

The epoch lives in ``<prefix>epoch`` (set once, ``NX``).  If Redis loses its data (restart without
persistence) the script writes a new epoch; hubs see it on the next event or on reconnecting, and
tell their clients to resync.

Wire format of a message and of a history entry (one space between fields)::

    <epoch> <seq> <channel> <type> <data json>
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from server.realtime.backends import Backend, Sink, Snapshot
from server.realtime.errors import BackendUnavailable

log = logging.getLogger(__name__)

_PUBLISH = """
local epoch = redis.call('GET', KEYS[3])
if not epoch then
  epoch = ARGV[4]
  redis.call('SET', KEYS[3], epoch)
end
local seq = redis.call('INCR', KEYS[1])
local message = epoch .. ' ' .. seq .. ' ' .. ARGV[1]
redis.call('RPUSH', KEYS[2], message)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
redis.call('PUBLISH', ARGV[3], message)
return seq
"""


class RedisBackend(Backend):
    """Fan-in through Redis pub/sub; numbers and history kept in Redis."""

    name = "redis"
    remote_history = True

    def __init__(self, url: str, *, history: int = 1024, prefix: str = "lienthong:rt:") -> None:
        self._url = url
        self._history = history
        self._prefix = prefix
        self._events = f"{prefix}events"
        self._epoch_key = f"{prefix}epoch"
        self._redis: aioredis.Redis | None = None
        self._script: Any = None
        self._sink: Sink | None = None
        self._epoch = ""
        self._reader: asyncio.Task[None] | None = None
        self._closing = False
        self.client_name = f"lienthong-rt-{secrets.token_hex(4)}"
        """Name of this hub's Redis connections (``CLIENT LIST``), for operators and tests."""

    def _seq_key(self, channel: str) -> str:
        return f"{self._prefix}seq:{channel}"

    def _history_key(self, channel: str) -> str:
        return f"{self._prefix}hist:{channel}"

    @staticmethod
    def _unavailable(exc: BaseException) -> BackendUnavailable:
        return BackendUnavailable(
            f"Redis is not reachable for realtime events: {exc!r}",
            detail_vi="Không kết nối được Redis cho kênh thời gian thực.",
        )

    async def start(self, sink: Sink) -> str:
        self._sink = sink
        self._closing = False
        self._redis = aioredis.from_url(
            self._url, decode_responses=True, client_name=self.client_name
        )
        self._script = self._redis.register_script(_PUBLISH)
        try:
            self._epoch = await self._read_epoch()
            pubsub = await self._subscribe()
        except (RedisError, OSError) as exc:
            await self.close()
            raise self._unavailable(exc) from None
        self._reader = asyncio.get_running_loop().create_task(self._read(pubsub))
        return self._epoch

    async def close(self) -> None:
        self._closing = True
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        if self._redis is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._redis.aclose()
            self._redis = None

    async def _read_epoch(self) -> str:
        assert self._redis is not None
        await self._redis.set(self._epoch_key, secrets.token_hex(8), nx=True)
        return str(await self._redis.get(self._epoch_key))

    async def _subscribe(self) -> Any:
        assert self._redis is not None
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self._events)
        return pubsub

    async def _read(self, pubsub: Any) -> None:
        delay = 0.2
        while not self._closing:
            try:
                if pubsub is None:
                    pubsub = await self._subscribe()
                    await self._resync()
                    delay = 0.2
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        await self._receive(str(message["data"]))
            except (RedisError, OSError) as exc:
                log.warning(
                    "realtime: Redis subscription lost (%r); retrying in %.1f s", exc, delay
                )
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()
                pubsub = None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        if pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()

    async def _resync(self) -> None:
        """After a gap in the subscription: read the current numbers; clients resync."""
        assert self._redis is not None and self._sink is not None
        self._epoch = await self._read_epoch()
        channels = list(self._sink.channels())
        values = await self._redis.mget([self._seq_key(c) for c in channels]) if channels else []
        self._sink.reset(
            self._epoch, {c: int(v or 0) for c, v in zip(channels, values, strict=True)}
        )

    async def _receive(self, text: str) -> None:
        assert self._sink is not None
        try:
            epoch, seq, channel, type, data = text.split(" ", 4)
            number = int(seq)
        except ValueError:
            log.debug("realtime: dropped malformed Redis message %.80r", text)
            return
        if epoch != self._epoch:
            log.warning("realtime: Redis epoch changed (data lost?); clients will resync")
            await self._resync()
        self._sink.ingest(channel, number, type, data)

    async def publish(self, channel: str, type: str, data_json: str) -> int:
        if self._redis is None:
            raise BackendUnavailable("Not started.", detail_vi="Chưa khởi động.")
        try:
            seq = await self._script(
                keys=[self._seq_key(channel), self._history_key(channel), self._epoch_key],
                args=[
                    f"{channel} {type} {data_json}",
                    self._history,
                    self._events,
                    secrets.token_hex(8),
                ],
            )
        except (RedisError, OSError) as exc:
            raise self._unavailable(exc) from None
        return int(seq)

    async def fetch(self, channel: str) -> Snapshot:
        if self._redis is None:
            raise BackendUnavailable("Not started.", detail_vi="Chưa khởi động.")
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                _ = pipe.get(self._seq_key(channel))
                _ = pipe.lrange(self._history_key(channel), 0, -1)
                current, entries = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise self._unavailable(exc) from None
        events: list[tuple[int, str, str]] = []
        for entry in entries:
            epoch, seq, _channel, type, data = str(entry).split(" ", 4)
            if epoch == self._epoch:
                events.append((int(seq), type, data))
        return Snapshot(int(current or 0), events)
