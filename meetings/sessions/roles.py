"""Who is invited to a session as what, cached for the realtime channel rule.

A reconnect storm (1,000 tablets coming back after the hall's Wi-Fi drops) subscribes every
tablet to ``session:<id>``; asking the database once per subscription made connecting 1,000
tablets take 10–20 s.  The cache loads the whole invitation list of a session in one query, shares
that load between the subscriptions that arrive while it runs, and keeps it for ``ttl`` seconds.
An invitation made in this process clears the session's entry at once; in another process
(several servers behind one database) a change is seen within ``ttl``.  Only the channel rule
reads it: API calls still check the invitation in their own transaction.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

Loader = Callable[[int], Awaitable[dict[int, str]]]


class InvitationRoles:
    """``session_id → {user_id: role}``, loaded whole and kept for ``ttl`` seconds."""

    def __init__(self, load: Loader, *, ttl: float = 10.0, max_sessions: int = 256) -> None:
        self._load = load
        self.ttl = ttl
        self.max_sessions = max_sessions
        self._entries: dict[int, tuple[float, dict[int, str]]] = {}
        self._loading: dict[int, asyncio.Future[dict[int, str]]] = {}
        self.loads = 0
        """How many times the database was asked (for tests)."""

    async def role(self, session_id: int, user_id: int) -> str | None:
        """The person's invitation role in the session, or None when not invited."""
        entry = self._entries.get(session_id)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1].get(user_id)
        return (await self._roles(session_id)).get(user_id)

    def forget(self, session_id: int) -> None:
        """An invitation changed: the next question goes to the database."""
        self._entries.pop(session_id, None)
        # a load already running may predate the change: detached, its answer is not kept
        self._loading.pop(session_id, None)

    async def _roles(self, session_id: int) -> dict[int, str]:
        pending = self._loading.get(session_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[dict[int, str]] = asyncio.get_running_loop().create_future()
        self._loading[session_id] = future
        try:
            self.loads += 1
            roles = await self._load(session_id)
        except BaseException as exc:
            if self._loading.get(session_id) is future:
                del self._loading[session_id]
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody logs it as lost
            raise
        if self._loading.get(session_id) is future:
            del self._loading[session_id]
            if len(self._entries) >= self.max_sessions:
                self._entries.pop(next(iter(self._entries)))
            self._entries[session_id] = (time.monotonic() + self.ttl, roles)
        future.set_result(roles)
        return roles
