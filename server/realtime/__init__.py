"""Realtime hub: numbered events pushed to browser WebSockets (tablets, phones, wall screens).

Documents, council sessions and briefings publish through one hub per process::

    hub = app[HUB_KEY]
    seq = await hub.publish("session:12", "vote.closed", {"poll": 7, "result": {...}})

and browsers listen on ``GET /api/v1/realtime``.  This docstring is the protocol's reference.

Protocol (JSON text frames)
===========================

Connecting
    A logged-in caller only: an anonymous request gets 401 (problem+json) before any upgrade.
    The principal is fixed at the upgrade; the socket is served with ``compress=False`` and
    WebSocket pings every ``Hub.heartbeat`` seconds (a peer that does not answer is closed).

Client → server
    ``{"op": "subscribe", "channels": {"agency:000.00.00.H30": 12, "user:42": null},
    "epoch": "…"}``
        Subscribe to channels, all or none.  The value is the last ``seq`` the client saw, or
        ``null`` for live events only.  ``epoch`` (optional but recommended) is the value from an
        earlier ``subscribed``; when it differs, the client's numbers belong to an older numbering
        (a restart) and every channel with a ``seq`` gets ``resync``.
    ``{"op": "unsubscribe", "channels": ["user:42"]}``
    ``{"op": "ping"}`` → ``{"op": "pong"}``
    ``{"op": "<domain op>", …}``
        Given to the handler a domain registered with :meth:`Hub.add_message_handler` (votes
        come this way: over the open socket a vote costs 2.5 × less than an HTTP POST).  The
        handler's reply goes to this client only.
    Any message may carry ``"ref"`` (a string of ≤ 100 characters or an integer); the reply or
    error to it carries the same ``ref``.

Server → client
    ``{"channel": "…", "seq": 13, "type": "doc.received", "data": {…}}``
        An event.  ``seq`` counts 1, 2, 3, … per channel, without gaps, the same in every server
        process.  A client keeps the last ``seq`` per channel and ignores ``seq`` it has seen
        (a re-subscribe with an old ``seq`` may replay some).
    ``{"channel": "…", "seq": 20, "type": "resync", "data": {"reason": "history"}}``
        The client's view of the channel cannot be caught up (``history``: older than the kept
        history; ``epoch``: another numbering; ``too_many``: more missed events than half the
        client's queue; ``backend``: this process lost events from the shared backend).  Reload
        the channel's state over HTTP and continue from this ``seq``.
    ``{"op": "subscribed", "channels": {"agency:…": 13}, "epoch": "…"}``
        After a subscribe, once any missed events have been replayed: the channels' current
        numbers.  Keep ``epoch`` for the next subscribe.
    ``{"op": "unsubscribed", "channels": […]}``, ``{"op": "pong"}``
    ``{"op": "error", "code": "realtime.forbidden", "detail": "…", "detail_vi": "…"}``
        A malformed message (``realtime.bad_message``), an unknown op
        (``realtime.unknown_op``), a channel no rule allows (``realtime.forbidden``), a domain
        error (its own code) or ``internal``.  The socket stays open.

Channels and who may subscribe
    Names are ``prefix:rest`` of letters, digits and ``_.:-`` (≤ 200).  Deny by default: a
    subscription is allowed only when a rule registered with :meth:`Hub.add_channel_rule` for a
    matching prefix says yes.  :func:`setup_realtime` registers ``user:<id>`` (that user only)
    and ``agency:<code>`` (that agency's people only).  A rule that raises counts as "no".

Decisions
=========

* **One queue and one sender task per client; drop the slow.**  An event is serialised to JSON
  and framed once; the same bytes are written straight to every client whose queue is empty and
  whose socket is not backed up, else queued.  A client whose queue (``realtime.client_queue``)
  overflows stopped reading: it is dropped with ``transport.abort()`` (a close handshake would
  wait to flush to a peer that does not read).  Each socket's kernel send buffer and transport
  high-water mark are capped (``Hub.send_buffer_bytes``, 64 KiB) so that happens quickly.  These
  are the choices DESIGN.md ("Tablets") measured as the ones that mattered.
* **Catch-up from a per-channel history ring** (``realtime.history`` events).  Replaying more
  than half a client's queue would get it dropped, so it gets ``resync`` instead.
* **Epochs.**  Numbers restart when the numbering is lost (memory backend: a restart); the
  epoch tells a reconnecting client its numbers are stale instead of silently replaying the
  wrong events.
* **Backends** (:mod:`server.realtime.backends`): ``memory`` (default, one process);
  ``postgres`` — ``LISTEN``/``NOTIFY`` on one channel, no table and so no migration: every
  listener sees notifications in the same (commit) order and numbers them itself; a process that
  joins late gets the current numbers from its peers in a hello handshake; events over 7.5 kB
  are split into chunks sent in one transaction (see :mod:`server.realtime.backends.pg`);
  ``redis`` — a Lua script does ``INCR`` + capped ``RPUSH`` + ``PUBLISH`` atomically, and a
  process that never saw a channel reads its number and history from Redis (see
  :mod:`server.realtime.backends.redis_pubsub`).
* **Metrics** (Prometheus, default registry): ``lienthong_realtime_clients``,
  ``lienthong_realtime_events_published_total``, ``lienthong_realtime_events_delivered_total``,
  ``lienthong_realtime_clients_dropped_total``.

Wiring
======

``setup_realtime(app, config)`` creates the hub for ``config.realtime.backend``, stores it at
``app[HUB_KEY]``, starts and stops it with the app (``cleanup_ctx``), closes client sockets on
shutdown, and routes ``GET /api/v1/realtime``.  Domains then call ``add_channel_rule`` and
``add_message_handler`` on it before the app starts.  The platform's auth middleware must have set
the principal on the request.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from server.auth.cache import LOGINS_KEY, PrincipalCache
from server.auth.principal import Principal, require_principal
from server.config import Config, RealtimeConfig
from server.realtime.backends import Backend
from server.realtime.errors import (
    BackendUnavailable,
    BadMessage,
    ChannelForbidden,
    InvalidEvent,
    RealtimeError,
)
from server.realtime.hub import ChannelCheck, Hub, MessageHandler
from server.realtime.rules import agency_channel, own_agency_channel, own_user_channel, user_channel
from server.realtime.ws import make_websocket_handler, websocket_handler

__all__ = [
    "HUB_KEY",
    "REALTIME_PATH",
    "BackendUnavailable",
    "BadMessage",
    "ChannelCheck",
    "ChannelForbidden",
    "Hub",
    "InvalidEvent",
    "MessageHandler",
    "RealtimeError",
    "agency_channel",
    "build_backend",
    "make_websocket_handler",
    "own_agency_channel",
    "own_user_channel",
    "setup_realtime",
    "user_channel",
    "websocket_handler",
]

HUB_KEY = web.AppKey("hub", Hub)
"""``app[HUB_KEY]``: the process's hub; domains publish through it and register rules on it."""

REALTIME_PATH = "/api/v1/realtime"


def build_backend(config: Config) -> Backend:
    """The backend ``config.realtime.backend`` names (``memory``, ``postgres`` or ``redis``)."""
    backend = config.realtime.backend
    if backend == "postgres":
        from server.realtime.backends.pg import PostgresBackend

        return PostgresBackend(config.database.url.reveal())
    if backend == "redis":
        from server.realtime.backends.redis_pubsub import RedisBackend

        return RedisBackend(config.realtime.redis_url.reveal(), history=config.realtime.history)
    from server.realtime.backends.memory import MemoryBackend

    return MemoryBackend()


def setup_realtime(
    app: web.Application,
    config: Config | RealtimeConfig,
    principal_from_request: Callable[[web.Request], Principal] = require_principal,
    *,
    path: str = REALTIME_PATH,
) -> Hub:
    """Create the hub, store it at ``app[HUB_KEY]``, tie it to the app's lifecycle, add the route.

    The built-in rules for ``user:<id>`` and ``agency:<code>`` are registered; domains add theirs
    on the returned hub before the app starts.  A bare :class:`RealtimeConfig` means the in-process
    backend (tests, one process).
    """
    hub = Hub(config.realtime, build_backend(config)) if isinstance(config, Config) else Hub(config)
    hub.add_channel_rule("user:", own_user_channel)
    hub.add_channel_rule("agency:", own_agency_channel)
    app[HUB_KEY] = hub
    app[LOGINS_KEY] = logins = PrincipalCache()
    hub.watch_logins(logins)
    app.cleanup_ctx.append(hub.cleanup_ctx)
    app.on_shutdown.append(_close_clients)
    app.router.add_get(path, make_websocket_handler(hub, principal_from_request))
    return hub


async def _close_clients(app: web.Application) -> None:
    # on_shutdown runs before cleanup: tablets get "going away" and reconnect elsewhere.
    await app[HUB_KEY].close_clients()
