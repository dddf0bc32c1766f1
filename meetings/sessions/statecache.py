"""The shared part of a session's page state, built once per change and per view.

A hall's tablets reload the page state together (after a Wi-Fi blink, on ``resync``, after most
events).  What they download is the same for everyone with the same *view* (their invitation
role): the agenda, sittings, the current item, the speaker and the queue, the quorum's counts and
the votes (with live counts for the desk only).  So it is built once and kept here, keyed by

    (session id, view, hub epoch, seq of ``session:<id>``, seq of ``session:<id>:desk`` for the desk)

Every change that alters the state publishes an event on ``session:<id>`` after its commit
(``service.py``), and vote counts on the desk channel; the hub numbers events the same in every
process (``server/realtime``).  The key is read *before* the database is, so a body kept under
seq ``n`` holds at least every change whose event is ``≤ n`` (it may hold newer ones: harmless,
the next event moves the key).  A process that published an event its hub has not heard back
yet (Redis, PostgreSQL: a moment later) builds fresh bodies meanwhile, so an action's own page
reload sees the action.  A caller that already saw a newer event than this process
(another process behind the same nginx told it first) passes that number and gets a fresh body,
not a cached one.  Entries also expire after ``ttl`` seconds, which bounds how long a change whose
event was lost (the hub down after the commit) can hide.

Nothing per person is kept in the shared part: the caller's own attendance and votes are added
per request (``actions/state.py``) from :class:`MineCache`, their own entry, and papers
(confidential ones are per reader) stay on ``/papers``.
The ETag is a hash of the bytes served, so two processes that built different bytes never share a
tag, and a tag names exactly one body.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Built:
    """A serialised JSON object (``{...}``) and its strong ETag."""

    body: bytes
    etag: str


def etag_of(body: bytes) -> str:
    """A strong ETag naming exactly these bytes."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """``If-None-Match`` names ``etag`` (or ``*``): answer 304."""
    if not if_none_match:
        return False
    tags = {t.strip() for t in if_none_match.split(",")}
    return "*" in tags or etag in tags or f"W/{etag}" in tags


class StateCache:
    """``key → Built``, one build at a time per key, kept ``ttl`` seconds, at most ``size``."""

    def __init__(self, *, ttl: float = 3.0, size: int = 1024) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: dict[Hashable, tuple[float, Built]] = {}
        self._building: dict[Hashable, asyncio.Future[Built]] = {}
        self.builds = 0
        """How many bodies were built (for tests and the benchmark)."""

    async def get(self, key: Hashable, build: Callable[[], Awaitable[bytes]]) -> Built:
        """The entry under ``key``, built by ``build`` when missing or expired.  Callers that
        arrive while it is being built share that build; it runs as its own task, so a caller
        who leaves (a tablet that drops its request) does not cancel it for the others."""
        entry = self._entries.get(key)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        task = self._building.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._build(key, build))
            task.add_done_callback(_retrieve)
            self._building[key] = task
        return await asyncio.shield(task)

    async def _build(self, key: Hashable, build: Callable[[], Awaitable[bytes]]) -> Built:
        try:
            self.builds += 1
            body = await build()
            built = Built(body, etag_of(body))
            if len(self._entries) >= self.size:
                self._evict()
            self._entries[key] = (time.monotonic() + self.ttl, built)
            return built
        finally:
            self._building.pop(key, None)

    def _evict(self) -> None:
        now = time.monotonic()
        for key in [k for k, (until, _b) in self._entries.items() if until <= now]:
            del self._entries[key]
        while len(self._entries) >= self.size:
            self._entries.pop(next(iter(self._entries)))


def _retrieve(task: asyncio.Task[Built]) -> None:
    if not task.cancelled():
        task.exception()  # the callers re-raise it; nobody logs it as never retrieved


class MineCache:
    """The caller's own part of the page state (their role and ``me``), per person, so that a
    reload of an unchanged session (a Wi-Fi blink, a reconnect storm: 304) reads no database.

    Keyed like the shared part plus the person: ``(session id, user id, hub epoch, seq of
    session:<id>, seq of session:<id>:desk, the person's version)``.  What ``me`` holds changes only with an
    event: one's attendance (``attendance.changed``), invitation role (``invitations.changed``),
    the current sitting (``sitting.started``) on the session channel; one's votes move the desk
    channel (``vote.tally``, after the commit) and, in the process that took the vote, ``version``
    (:meth:`touched`, before the acknowledgement), so one's own reload after voting is never
    stale.  Kept ``ttl`` seconds (30): longer than the shared part, since a tablet's reconnect
    comes seconds after its last load and the entry is per person; it bounds how long a change
    whose event was lost (the hub down after the commit) can hide.
    """

    def __init__(self, *, ttl: float = 30.0, size: int = 50_000) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: dict[Hashable, tuple[float, str, bytes]] = {}
        self._versions: dict[int, int] = {}
        self.hits = 0

    def version(self, user_id: int) -> int:
        return self._versions.get(user_id, 0)

    def touched(self, user_id: int) -> None:
        """The person's own votes changed in this process: their kept parts are not served."""
        if len(self._versions) >= self.size:
            self._versions.clear()  # every version back to 0: drop the entries they guarded
            self._entries.clear()
        self._versions[user_id] = self._versions.get(user_id, 0) + 1

    def get(self, key: Hashable) -> tuple[str, bytes] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            del self._entries[key]
            return None
        self.hits += 1
        return entry[1], entry[2]

    def put(self, key: Hashable, role: str, me: bytes) -> None:
        if len(self._entries) >= self.size:
            now = time.monotonic()
            for old in [k for k, (until, _r, _m) in self._entries.items() if until <= now]:
                del self._entries[old]
            while len(self._entries) >= self.size:
                self._entries.pop(next(iter(self._entries)))
        self._entries[key] = (time.monotonic() + self.ttl, role, me)
