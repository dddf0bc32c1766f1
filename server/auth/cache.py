"""A short-lived, per-process cache of cookie logins: who a session cookie is, without the database.

A hall of tablets sends three authenticated requests per reconnect; reading the login session and
the person (two statements in a transaction) for each was most of a reconnect's cost.  So the
answer is kept here for ``ttl`` seconds (5), keyed by the cookie's SHA-256 (the value the table
stores; the clear cookie is never kept).

Revocation stays immediate, in this process and in the others:

* whatever ends sessions or changes what a principal is (logout, logout everywhere, a password
  changed or reset, an account disabled, roles changed) calls :func:`forget_user` after its commit
  (``server/auth/service.py``, ``lifecycle.py``) or ``hub.drop_user`` (which calls it): the person's
  entries go at once in every cache of this process, and the hub carries a user-scoped notice to
  every other process (``server/realtime/hub.py``, channel ``auth:revoked``), which drops theirs;
* an entry read while such a change was under way is not kept (the cache's generation moved);
* when the hub loses events (its backend reconnected) every entry is dropped, and a cache whose
  hub is not running keeps nothing (``usable``);
* an entry past its login session's own expiry is never served.

What is cached is the same the database gave: the login session's id, CSRF token and expiry (so
sliding expiry still works: the middleware slides it and updates the entry) and the principal.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

from aiohttp import web

from server.auth.principal import Principal
from server.db.base import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CachedLogin:
    """A live login session as the database gave it, and its person."""

    session_id: int
    user_id: int
    csrf_token: str
    expires_at: datetime
    principal: Principal


_CACHES: weakref.WeakSet[PrincipalCache] = weakref.WeakSet()


class PrincipalCache:
    """``cookie digest → CachedLogin`` for ``ttl`` seconds, at most ``size`` entries."""

    def __init__(self, *, ttl: float = 5.0, size: int = 20_000) -> None:
        self.ttl = ttl
        self.size = size
        self.generation = 0
        """Moves on every forget: a read begun before it is not stored."""
        self.usable: Callable[[], bool] = lambda: True
        """False while cross-process notices cannot arrive (the hub is down): keep nothing."""
        self.announce: Callable[[int, bool], Awaitable[None]] | None = None
        """Tells every process that a person's logins changed, and whether to drop their open
        sockets too (set by the hub)."""
        self._entries: dict[str, tuple[float, CachedLogin]] = {}
        self.hits = 0
        _CACHES.add(self)

    def get(self, digest: str) -> CachedLogin | None:
        found = self._entries.get(digest)
        if found is None:
            return None
        until, login = found
        if until <= time.monotonic() or login.expires_at <= utcnow() or not self.usable():
            del self._entries[digest]
            return None
        self.hits += 1
        return login

    def put(self, digest: str, login: CachedLogin, generation: int) -> None:
        """Keep ``login`` unless something was forgotten since ``generation`` was read."""
        if generation != self.generation or not self.usable():
            return
        if len(self._entries) >= self.size:
            self._evict()
        self._entries[digest] = (time.monotonic() + self.ttl, login)

    def slid(self, digest: str, expires_at: datetime) -> None:
        """The login session's expiry moved (sliding expiry)."""
        found = self._entries.get(digest)
        if found is not None:
            self._entries[digest] = (found[0], replace(found[1], expires_at=expires_at))

    def forget(self, user_id: int) -> None:
        """Drop every entry of ``user_id`` in this cache (no notice to other processes)."""
        self.generation += 1
        for digest in [d for d, (_u, e) in self._entries.items() if e.user_id == user_id]:
            del self._entries[digest]

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()

    def _evict(self) -> None:
        now = time.monotonic()
        for digest in [d for d, (until, _e) in self._entries.items() if until <= now]:
            del self._entries[digest]
        while len(self._entries) >= self.size:
            self._entries.pop(next(iter(self._entries)))


LOGINS_KEY: web.AppKey[PrincipalCache] = web.AppKey("principal_cache", PrincipalCache)
"""Where an app keeps its cache (set up with the realtime hub, which keeps it honest)."""


async def forget_user(user_id: int, *, sockets: bool = False) -> None:
    """After a commit that ended a person's sessions or changed their principal: drop their
    cached logins in every cache of this process now, and tell the other processes (returns once
    the notice is sent, so that the caller's answer cannot overtake it).  ``sockets``: the other
    processes drop the person's open sockets too (``hub.drop_user``)."""
    announces = []
    for cache in list(_CACHES):
        cache.forget(user_id)
        if cache.announce is not None:
            announces.append(cache.announce(user_id, sockets))
    for outcome in await asyncio.gather(*announces, return_exceptions=True):
        if isinstance(outcome, BaseException):
            log.error("revocation notice for user %s not sent: %s", user_id, outcome)


def forget_user_soon(user_id: int) -> None:
    """:func:`forget_user` from code that cannot wait: this process at once, the others as soon
    as the notice is sent."""
    for cache in list(_CACHES):
        cache.forget(user_id)
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    task = loop.create_task(forget_user(user_id, sockets=True))
    _PENDING.add(task)
    task.add_done_callback(_PENDING.discard)


_PENDING: set[asyncio.Task[None]] = set()
