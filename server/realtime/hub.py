"""The hub: numbered channels with history, subscriptions, channel rules and message handlers.

Every method that touches channel state runs on the event loop without awaiting in the middle of
a change, so an event is either wholly before or wholly after a subscription: a client's replay
and its live stream never overlap or leave a hole.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from server.auth.cache import PrincipalCache, forget_user_soon
from server.auth.principal import Principal
from server.config import RealtimeConfig
from server.realtime import metrics
from server.realtime.backends import Backend, Snapshot
from server.realtime.backends.memory import MemoryBackend
from server.realtime.client import Client
from server.realtime.errors import BackendUnavailable, BadMessage, ChannelForbidden, InvalidEvent
from server.realtime.frames import (
    CHANNEL_RE,
    Event,
    check_channel,
    encode_data,
    make_event,
    resync_frame,
)

log = logging.getLogger(__name__)

ChannelCheck = Callable[[Principal, str], Awaitable[bool]]
"""A channel rule: may this principal subscribe to this channel?"""
MessageHandler = Callable[[Principal, Mapping[str, Any]], Awaitable[Mapping[str, Any] | None]]
"""Handles a client message with a domain ``op``; its reply (if any) goes to that client only."""

RESERVED_OPS = frozenset({"subscribe", "unsubscribe", "ping"})
REVOKED = "auth:revoked"
"""Internal channel (no rule lets a client subscribe): a person's logins or roles changed, so
every process drops their cached logins (``server/auth/cache.py``) and open sockets."""


@dataclass(slots=True)
class _Channel:
    history: deque[Event]
    seq: int = 0
    known: bool = True
    """False while this process does not know the channel's current number (Redis, no fetch yet)."""
    clients: set[Client] = field(default_factory=set)

    def can_replay(self, since: int) -> bool:
        """True when every event after ``since`` is in the history ring."""
        if since == self.seq:
            return True
        if since > self.seq or not self.history:
            return False
        return self.history[0].seq <= since + 1


class Hub:
    """Pushes numbered events to subscribed WebSocket clients of this process.

    ``config.client_queue`` bounds each client's queue; ``config.history`` the events kept per
    channel.
    ``heartbeat`` is the WebSocket ping interval; ``send_buffer_bytes`` caps each socket's buffers.
    """

    def __init__(
        self,
        config: RealtimeConfig | None = None,
        backend: Backend | None = None,
        *,
        heartbeat: float = 30.0,
        send_buffer_bytes: int = 64 * 1024,
        max_message_bytes: int = 64 * 1024,
        max_channels_per_client: int = 256,
    ) -> None:
        self.config = config or RealtimeConfig()
        self.backend = backend or MemoryBackend()
        self.heartbeat = heartbeat
        self.send_buffer_bytes = send_buffer_bytes
        self.max_message_bytes = max_message_bytes
        self.max_channels_per_client = max_channels_per_client
        self.epoch = ""
        """Identifies the numbering; clients send it back so a restarted numbering means resync."""
        self._channels: dict[str, _Channel] = {}
        self._clients: set[Client] = set()
        self._rules: list[tuple[str, ChannelCheck]] = []
        self._handlers: dict[str, MessageHandler] = {}
        self._fetches: dict[str, asyncio.Future[None]] = {}
        self._started = False
        self._logins: list[PrincipalCache] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect the backend; events flow from here on."""
        if not self._started:
            self.epoch = await self.backend.start(self)
            self._loop = asyncio.get_running_loop()
            self._started = True

    async def close(self) -> None:
        """Close every client socket (going away), then the backend."""
        await self.close_clients()
        await self.backend.close()
        self._started = False

    async def close_clients(self) -> None:
        """Close every client socket politely; suits ``app.on_shutdown``."""
        clients = list(self._clients)
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)

    async def cleanup_ctx(self, app: web.Application) -> Any:
        """``app.cleanup_ctx.append(hub.cleanup_ctx)``: start with the app, close with it."""
        await self.start()
        yield
        await self.close()

    @property
    def clients(self) -> frozenset[Client]:
        return frozenset(self._clients)

    # -- registration by domains ---------------------------------------------------------------

    def add_channel_rule(self, prefix: str, check: ChannelCheck) -> None:
        """Let ``check`` allow subscriptions to channels starting with ``prefix``.

        Channels no rule allows are refused (deny by default); a rule that raises counts as "no".
        """
        if not prefix:
            raise ValueError("a channel rule needs a non-empty prefix")
        self._rules.append((prefix, check))

    def add_message_handler(self, op: str, handler: MessageHandler) -> None:
        """Route client messages ``{"op": op, ...}`` to ``handler`` (votes over the open socket)."""
        if op in RESERVED_OPS or op in self._handlers:
            raise ValueError(f"op {op!r} is reserved or already handled")
        self._handlers[op] = handler

    def message_handler(self, op: str) -> MessageHandler | None:
        return self._handlers.get(op)

    async def authorize(self, principal: Principal, channel: str) -> bool:
        """True when one rule whose prefix matches ``channel`` allows ``principal``."""
        for prefix, check in self._rules:
            if channel.startswith(prefix):
                try:
                    if await check(principal, channel):
                        return True
                except Exception:
                    log.exception("realtime channel rule for %r failed", prefix)
        return False

    def watch_logins(self, cache: PrincipalCache) -> None:
        """Keep ``cache`` honest across processes: revocations announced here reach every
        process's hub (:data:`REVOKED`), which drops the person's entries; a lost event (backend
        reconnect) drops them all; while the hub is not running the cache keeps nothing."""
        cache.announce = self._announce_revoked
        cache.usable = lambda: self._started
        self._logins.append(cache)

    async def _announce_revoked(self, user_id: int, sockets: bool) -> None:
        if not self._started or self._loop is not asyncio.get_running_loop():
            return  # nothing is cached meanwhile (``usable``), and no other process hears us
        await self.publish(REVOKED, "sockets" if sockets else "logins", {"user_id": user_id})

    def _revoked(self, type: str, data_json: str) -> None:
        """Another process (or this one) announced that a person's logins changed."""
        try:
            user_id = int(json.loads(data_json)["user_id"])
        except (ValueError, KeyError, TypeError):
            log.error("bad revocation notice %r", data_json[:200])
            for cache in self._logins:
                cache.clear()
            return
        for cache in self._logins:
            cache.forget(user_id)
        if type == "sockets":
            self._drop_sockets(user_id)

    # -- publishing ---------------------------------------------------------------------------

    async def publish(self, channel: str, type: str, data: Mapping[str, Any]) -> int:
        """Send an event to every subscriber in every process; return its number in ``channel``."""
        if not self._started:
            raise BackendUnavailable(
                "The realtime hub is not started.", detail_vi="Kênh thời gian thực chưa chạy."
            )
        check_channel(channel)
        if type == "resync":
            raise InvalidEvent(
                "The event type 'resync' is reserved.", detail_vi="Loại sự kiện cấm."
            )
        data_json = encode_data(type, data)
        seq = await self.backend.publish(channel, type, data_json)
        metrics.EVENTS_PUBLISHED.inc()
        return seq

    def current_seq(self, channel: str) -> int:
        """The number of the last event this process saw in ``channel`` (0: none)."""
        state = self._channels.get(channel)
        return state.seq if state is not None else 0

    # -- Sink: called by the backend ----------------------------------------------------------

    def _state(self, channel: str) -> _Channel:
        state = self._channels.get(channel)
        if state is None:
            state = _Channel(
                history=deque(maxlen=self.config.history), known=not self.backend.remote_history
            )
            self._channels[channel] = state
        return state

    def ingest(self, channel: str, seq: int | None, type: str, data_json: str) -> int:
        """Number (or take the number of), record and fan out one event."""
        if channel == REVOKED:
            self._revoked(type, data_json)
        state = self._state(channel)
        if seq is None:
            seq = state.seq + 1
        elif state.known and seq <= state.seq:
            return seq  # already seen (a redelivery)
        elif seq != state.seq + 1:
            state.history.clear()  # a gap: history must stay contiguous
        state.seq = seq
        state.known = True
        event = make_event(channel, seq, type, data_json)
        state.history.append(event)
        if state.clients:
            for client in tuple(state.clients):
                client.push(event.frame)
            metrics.EVENTS_DELIVERED.inc(len(state.clients))
        return seq

    def seqs(self) -> dict[str, int]:
        return {name: state.seq for name, state in self._channels.items()}

    def channels(self) -> Iterable[str]:
        return list(self._channels)

    def reset(self, epoch: str, seqs: Mapping[str, int]) -> None:
        changed = epoch != self.epoch
        self.epoch = epoch
        for cache in self._logins:
            cache.clear()  # revocation notices may have been lost too
        for name in seqs:
            self._state(name)
        for name, state in self._channels.items():
            new_seq = seqs.get(name, 0)
            lost = changed or new_seq != state.seq
            state.seq = new_seq
            state.known = True
            state.history.clear()
            if lost:
                frame = resync_frame(name, new_seq, "backend")
                for client in tuple(state.clients):
                    client.push(frame)

    # -- clients ------------------------------------------------------------------------------

    def connect(self, ws: web.WebSocketResponse, transport: Any, principal: Principal) -> Client:
        """Register a prepared WebSocket; the caller must :meth:`disconnect` it when done."""
        client = Client(
            ws,
            transport,
            principal,
            queue_limit=self.config.client_queue,
            send_buffer_bytes=self.send_buffer_bytes,
            on_drop=self._forget,
        )
        self._clients.add(client)
        metrics.CLIENTS_CONNECTED.inc()
        return client

    def drop_user(self, user_id: int) -> int:
        """Abort every socket of ``user_id`` (logout everywhere, a role taken away); returns how
        many.  Their tablets reconnect and are authorised afresh.  Their cached logins are
        dropped here and, through :data:`REVOKED`, in every process (with their sockets there)."""
        forget_user_soon(user_id)
        return self._drop_sockets(user_id)

    def _drop_sockets(self, user_id: int) -> int:
        victims = [c for c in self._clients if c.principal.user_id == user_id]
        for client in victims:
            client.drop("user signed out", count=False)
        return len(victims)

    async def disconnect(self, client: Client) -> None:
        self._forget(client)
        await client.stop()

    def _forget(self, client: Client) -> None:
        if client in self._clients:
            self._clients.discard(client)
            metrics.CLIENTS_CONNECTED.dec()
        for name in client.channels:
            state = self._channels.get(name)
            if state is not None:
                state.clients.discard(client)
        client.channels.clear()

    async def subscribe(
        self,
        client: Client,
        channels: Iterable[str],
        since: Mapping[str, int | None] | None = None,
        *,
        epoch: str | None = None,
    ) -> dict[str, int]:
        """Subscribe ``client`` to ``channels`` (all or none) and catch it up.

        For each channel with ``since[channel]`` set, the events after it are replayed from history;
        when history does not reach back that far (or ``epoch`` is not the hub's, or the catch-up
        is longer than half the client's queue) the client gets a ``resync`` event instead.
        Returns the channels' current numbers.  Raises :class:`ChannelForbidden` or
        :class:`BadMessage`.
        """
        names = list(dict.fromkeys(channels))
        since = since or {}
        for name in names:
            if not isinstance(name, str) or CHANNEL_RE.fullmatch(name) is None:
                raise BadMessage(f"Bad channel name {name!r}.", detail_vi="Tên kênh không hợp lệ.")
        if len(client.channels.union(names)) > self.max_channels_per_client:
            raise BadMessage(
                f"At most {self.max_channels_per_client} channels per connection.",
                detail_vi="Quá nhiều kênh trên một kết nối.",
            )
        for name in names:
            if not await self.authorize(client.principal, name):
                raise ChannelForbidden(name)
        if self.backend.remote_history:
            for name in names:
                state = self._state(name)
                wanted = since.get(name)
                if not state.known or (
                    wanted is not None
                    and epoch in (None, self.epoch)
                    and not state.can_replay(wanted)
                ):
                    await self._fetch(name)
        # From here on no await: the replay and the live stream join without a gap.
        same_epoch = epoch is None or epoch == self.epoch
        current: dict[str, int] = {}
        for name in names:
            state = self._state(name)
            wanted = since.get(name)
            if wanted is not None:
                self._catch_up(client, name, state, wanted, same_epoch)
            if client.closed:  # dropped meanwhile (or while catching up)
                return {}
            state.clients.add(client)
            client.channels.add(name)
            current[name] = state.seq
        return current

    def _catch_up(
        self, client: Client, name: str, state: _Channel, since: int, same_epoch: bool
    ) -> None:
        missed = state.seq - since
        if not same_epoch:
            client.push(resync_frame(name, state.seq, "epoch"))
        elif not state.can_replay(since):
            client.push(resync_frame(name, state.seq, "history"))
        elif missed > self.config.client_queue // 2:
            # So long a replay would overflow the queue and drop the client; reloading is cheaper.
            client.push(resync_frame(name, state.seq, "too_many"))
        elif missed > 0:
            start = len(state.history) - missed
            for event in itertools.islice(state.history, start, None):
                client.push(event.frame)

    def unsubscribe(self, client: Client, channels: Iterable[str]) -> list[str]:
        """Stop sending ``channels`` to ``client``; returns those it was subscribed to."""
        removed = []
        for name in channels:
            if name in client.channels:
                client.channels.discard(name)
                state = self._channels.get(name)
                if state is not None:
                    state.clients.discard(client)
                removed.append(name)
        return removed

    async def _fetch(self, name: str) -> None:
        """Merge the shared store's history of ``name`` into ours (one fetch at a time)."""
        pending = self._fetches.get(name)
        if pending is not None:
            await asyncio.shield(pending)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._fetches[name] = future
        try:
            snapshot = await self.backend.fetch(name)
            if snapshot is not None:
                self._merge(name, snapshot)
            future.set_result(None)
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody logs "never retrieved"
            raise
        except BaseException:
            future.cancel()
            raise
        finally:
            del self._fetches[name]

    def _merge(self, name: str, snapshot: Snapshot) -> None:
        state = self._state(name)
        fetched = [make_event(name, seq, type, data) for seq, type, data in snapshot.events]
        if state.known and state.seq > snapshot.seq:
            # Events arrived while fetching: keep them, prepend the fetched ones if contiguous.
            if state.history and state.history[0].seq <= snapshot.seq + 1:
                first = state.history[0].seq
                older = [e for e in fetched if e.seq < first]
                # deque(maxlen) keeps the newest when it trims.
                state.history = deque([*older, *state.history], maxlen=self.config.history)
            return
        state.history.clear()
        state.history.extend(fetched)
        state.seq = snapshot.seq
        state.known = True
