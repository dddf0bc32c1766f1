"""PostgreSQL backend: ``LISTEN``/``NOTIFY`` on one channel, no table.

Numbering without a table
    PostgreSQL appends every notification to one queue per cluster at commit, in commit order
    (``PreCommit_Notify`` holds a lock until after commit, so a transaction's notifications are
    contiguous and never behind a later commit), and each listening session reads that queue in
    order.  Every process therefore sees the same events in the same order, and each hub can number
    an event itself: ``seq = last seq of that channel + 1`` on arrival.  The publisher learns the
    number when its own notification comes back (one round trip).

Joining late, and reconnecting
    A hub that starts while others run (or whose listening connection dropped) has not seen the
    events before it, so it cannot count from 0.  It LISTENs, then sends ``H <hub id>`` (hello).
    Every synced hub answers with ``S <hub id> <epoch> <{channel: seq}>`` — its numbers *as of the
    hello*, which sits at the same place in everyone's stream.  The newcomer drops what arrives
    before its own hello, keeps what comes after, takes the first answer and replays the kept
    events on top: its numbers now match.  With no answer within ``sync_timeout`` it is alone and
    starts a new epoch at 0.  Two hubs that start at the same moment may both decide they are
    alone; they then use different epochs and a client moving between them gets ``resync`` —
    slower, never wrong.  A reconnect makes the hub drop its histories and send ``resync`` to its
    subscribers (it cannot know what it missed).

Payloads over the 8000-byte NOTIFY limit
    Split into numbered chunks sent in one statement (one transaction: all or none, contiguous) and
    reassembled by every listener; an event is numbered when its last chunk arrives — the same
    place in everyone's stream.  No table, so no migration and no cleanup job; events are capped
    at 1 MiB (:data:`~server.realtime.frames.MAX_EVENT_BYTES`) anyway.

Wire format (text, fields separated by one space; channel and type contain no spaces)::

    E <msg id> <channel> <type> <data json>     an event
    H <hub id>                                  hello from a hub joining
    S <hub id> <epoch> <{channel: seq} json>    the answer to that hub's hello
    C <chunk id> <index> <count> <text slice>   a slice of a longer E or S message
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import secrets
import time
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from server.realtime.backends import Backend, Sink
from server.realtime.errors import BackendUnavailable

log = logging.getLogger(__name__)

NOTIFY_LIMIT = 7500
"""Bytes per notification we allow ourselves (PostgreSQL's hard limit is 8000)."""
_SLICE_CHARS = NOTIFY_LIMIT // 4  # a character is at most 4 bytes in UTF-8
_CHUNK_TTL = 60.0

_AWAIT_HELLO, _AWAIT_STATE, _SYNCED = "await_hello", "await_state", "synced"


def asyncpg_dsn(url: str) -> str:
    """``postgresql+asyncpg://…`` (SQLAlchemy) → ``postgresql://…`` (asyncpg)."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


class PostgresBackend(Backend):
    """Fan-in of events from every process through ``NOTIFY <channel>``."""

    name = "postgres"

    def __init__(
        self,
        dsn: str,
        *,
        channel: str = "lienthong_realtime",
        sync_timeout: float = 0.5,
        publish_timeout: float = 5.0,
        pool_size: int = 4,
    ) -> None:
        self._dsn = asyncpg_dsn(dsn)
        self._channel = channel
        self._sync_timeout = sync_timeout
        self._publish_timeout = publish_timeout
        self._pool_size = pool_size
        self._id = secrets.token_hex(6)
        self._counter = itertools.count(1)
        self._sink: Sink | None = None
        self._pool: Any = None
        self._conn: Any = None
        self._epoch = ""
        self._phase = _AWAIT_HELLO
        self._buffer: list[str] = []
        self._saw_other_hello = False
        self._hello_seen = asyncio.Event()
        self._synced = asyncio.Event()
        self._pending: dict[str, asyncio.Future[int]] = {}
        self._chunks: dict[str, tuple[float, list[str | None]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._reconnecting: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def hub_id(self) -> str:
        return self._id

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, sink: Sink) -> str:
        self._sink = sink
        self._closing = False
        try:
            self._pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=self._pool_size)
            await self._listen()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            await self.close()
            raise BackendUnavailable(
                f"Cannot reach PostgreSQL for realtime events: {exc}",
                detail_vi="Không kết nối được PostgreSQL cho kênh thời gian thực.",
            ) from None
        return self._epoch

    async def close(self) -> None:
        self._closing = True
        if self._reconnecting is not None:
            self._reconnecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconnecting
            self._reconnecting = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)
        pool, self._pool = self._pool, None
        if pool is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pool.close(), 2)
        for future in self._pending.values():
            if not future.done():
                future.cancel()
        self._synced.clear()

    async def _listen(self) -> None:
        """Open the listening connection and join the numbering (the hello handshake)."""
        self._phase = _AWAIT_HELLO
        self._buffer = []
        self._saw_other_hello = False
        self._hello_seen.clear()
        self._synced.clear()
        conn = await asyncpg.connect(self._dsn)
        await conn.add_listener(self._channel, self._on_notify)
        conn.add_termination_listener(self._on_terminated)
        self._conn = conn
        await self._notify(f"H {self._id}")
        try:
            async with asyncio.timeout(self._publish_timeout):
                await self._hello_seen.wait()
        except TimeoutError:
            raise BackendUnavailable(
                "Our own NOTIFY never came back.",
                detail_vi="PostgreSQL không chuyển thông báo về.",
            ) from None
        # Someone else is joining too: their state (or a peer's answer) may take a moment longer.
        wait = self._sync_timeout * (3 if self._saw_other_hello else 1)
        try:
            async with asyncio.timeout(wait):
                await self._synced.wait()
        except TimeoutError:
            log.info("realtime: no other hub answered; starting a new epoch")
            self._adopt(secrets.token_hex(8), {})

    def _on_terminated(self, conn: Any) -> None:
        if self._closing or conn is not self._conn:
            return
        log.warning("realtime: PostgreSQL listening connection lost; reconnecting")
        self._conn = None
        self._phase = _AWAIT_HELLO
        self._synced.clear()
        self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        delay = 0.2
        while not self._closing:
            try:
                await self._listen()
                return
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, BackendUnavailable):
                log.warning("realtime: PostgreSQL reconnect failed; retrying in %.1f s", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    # -- publishing ---------------------------------------------------------------------------

    async def publish(self, channel: str, type: str, data_json: str) -> int:
        msg_id = f"{self._id}-{next(self._counter)}"
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        try:
            async with asyncio.timeout(self._publish_timeout):
                await self._synced.wait()
                await self._notify(f"E {msg_id} {channel} {type} {data_json}")
                return await future
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise BackendUnavailable(
                f"Publishing through PostgreSQL failed: {exc!r}",
                detail_vi="Không gửi được sự kiện qua PostgreSQL.",
            ) from None
        finally:
            self._pending.pop(msg_id, None)

    async def _notify(self, text: str) -> None:
        if self._pool is None:
            raise BackendUnavailable("Not started.", detail_vi="Chưa khởi động.")
        if len(text.encode()) <= NOTIFY_LIMIT:
            await self._pool.execute("SELECT pg_notify($1, $2)", self._channel, text)
            return
        chunk_id = f"{self._id}-c{next(self._counter)}"
        slices = [text[i : i + _SLICE_CHARS] for i in range(0, len(text), _SLICE_CHARS)]
        parts = [f"C {chunk_id} {i} {len(slices)} {s}" for i, s in enumerate(slices)]
        # One statement, one transaction: every listener gets all the slices, together, or none.
        await self._pool.execute(
            "SELECT pg_notify($1, part) FROM unnest($2::text[]) AS part", self._channel, parts
        )

    # -- receiving ----------------------------------------------------------------------------

    def _on_notify(self, conn: Any, pid: int, channel: str, payload: str) -> None:
        try:
            self._receive(payload)
        except (ValueError, KeyError, TypeError):
            log.debug("realtime: dropped malformed notification %.80r", payload)

    def _receive(self, text: str) -> None:
        if text.startswith("C "):
            whole = self._reassemble(text)
            if whole is None:
                return
            text = whole
        kind = text[:2]
        if self._phase == _AWAIT_HELLO:
            # Everything before our own hello is counted in the state a peer will send us.
            if kind == "H ":
                if text[2:] == self._id:
                    self._phase = _AWAIT_STATE
                    self._hello_seen.set()
                else:
                    self._saw_other_hello = True
            return
        if self._phase == _AWAIT_STATE:
            if kind == "S ":
                to, epoch, seqs = text[2:].split(" ", 2)
                if to == self._id:
                    parsed = json.loads(seqs)
                    if not isinstance(parsed, dict):
                        raise ValueError("state is not an object")
                    self._adopt(epoch, {str(k): int(v) for k, v in parsed.items()})
                return
            self._buffer.append(text)
            return
        self._handle(text)

    def _adopt(self, epoch: str, seqs: dict[str, int]) -> None:
        assert self._sink is not None
        self._epoch = epoch
        self._phase = _SYNCED
        self._sink.reset(epoch, seqs)
        buffered, self._buffer = self._buffer, []
        for text in buffered:
            try:
                self._handle(text)
            except (ValueError, KeyError, TypeError):
                log.debug("realtime: dropped malformed notification %.80r", text)
        self._synced.set()

    def _handle(self, text: str) -> None:
        assert self._sink is not None
        kind = text[:2]
        if kind == "E ":
            _, msg_id, channel, type, data = text.split(" ", 4)
            seq = self._sink.ingest(channel, None, type, data)
            future = self._pending.get(msg_id)
            if future is not None and not future.done():
                future.set_result(seq)
        elif kind == "H ":
            other = text[2:]
            if other != self._id:
                # Our numbers as of their hello, which is at this very place in their stream too.
                state = json.dumps(self._sink.seqs(), separators=(",", ":"))
                self._spawn(self._notify(f"S {other} {self._epoch} {state}"))

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("realtime: answering a hello failed: %r", task.exception())

    def _reassemble(self, text: str) -> str | None:
        _, chunk_id, index, count, part = text.split(" ", 4)
        now = time.monotonic()
        for stale in [k for k, (t, _) in self._chunks.items() if now - t > _CHUNK_TTL]:
            del self._chunks[stale]
        _, slots = self._chunks.setdefault(chunk_id, (now, [None] * int(count)))
        slots[int(index)] = part
        if any(s is None for s in slots):
            return None
        del self._chunks[chunk_id]
        return "".join(s for s in slots if s is not None)
