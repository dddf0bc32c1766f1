"""The sessions domain's runtime and the one check every operation starts with.

:class:`SessionsService` holds what the operations (``meetings/sessions/actions/``) share: the
database, the realtime hub, the vote batcher and the invitation-role cache.  It decides nothing;
each action checks who asks (:func:`guard_txn`), commits, then tells the tablets.

Events go to ``session:<id>`` (everyone invited) and ``session:<id>:desk`` (chair and secretariat:
the live count of an open vote).  Each event is published after its transaction commits, so a
tablet that reloads the state on ``resync`` never sees less than the events told it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from meetings.sessions import polls, repo
from meetings.sessions.batcher import VoteBatcher
from meetings.sessions.counts import Counts, counts_txn
from meetings.sessions.errors import NotSecretariat, SessionNotFound
from meetings.sessions.models import CouncilSession, Poll
from meetings.sessions.roles import InvitationRoles
from meetings.sessions.rules import InviteRole
from meetings.sessions.statecache import MineCache, StateCache
from server.auth.principal import Principal, Role
from server.db import Database
from server.http.keys import CONFIG_KEY, DB_KEY
from server.realtime import Hub

T = TypeVar("T")


def channel(session_id: int) -> str:
    """Everyone invited to the session listens here."""
    return f"session:{session_id}"


def desk_channel(session_id: int) -> str:
    """The chair and the secretariat listen here too: live counts of an open vote."""
    return f"session:{session_id}:desk"


def is_desk(role: str | None) -> bool:
    """The chair and the secretariat see live counts."""
    return role in (InviteRole.CHAIR.value, InviteRole.SECRETARIAT.value)


async def guard_txn(
    session: AsyncSession, session_id: int, p: Principal, *, secretariat: bool = False
) -> tuple[CouncilSession, str]:
    """The session and the caller's role in it; 404 when not invited, 403 when not secretariat."""
    cs = await repo.find_session_txn(session, session_id)
    role = await repo.role_of_txn(session, session_id, p.user_id) if cs is not None else None
    if cs is None or role is None:
        raise SessionNotFound()
    if secretariat and not (role == "secretariat" and p.has(Role.SECRETARIAT)):
        raise NotSecretariat()
    return cs, role


def actor(p: Principal) -> dict[str, Any]:
    """The audit fields naming who did it."""
    return {"actor": p.login, "actor_user_id": p.user_id}


def session_json(cs: CouncilSession, role: str) -> dict[str, Any]:
    """A session for the wire, with the caller's role in it."""
    return {
        "id": cs.id,
        "title": cs.title,
        "place": cs.place,
        "starts_on": cs.starts_on.isoformat() if cs.starts_on else None,
        "status": cs.status,
        "current_item_id": cs.current_item_id,
        "current_sitting_id": cs.current_sitting_id,
        "role": role,
    }


class SessionsService:
    """What the sessions operations share, bound to the app's database and hub when it starts."""

    def __init__(self, hub: Hub, db: Database | None = None) -> None:
        self.hub = hub
        self._db = db
        self._batcher: VoteBatcher | None = None
        self.roles = InvitationRoles(self._load_roles)
        """Invitation roles for the realtime channel rule (cached; see ``roles.py``)."""
        self.state_cache = StateCache()
        self.mine_cache = MineCache()
        """The caller's own part of the page state, per person and event number."""
        self.published: dict[int, tuple[int, float]] = {}
        """The number of the last event this process published per session, and when."""
        """The shared part of the page state, per session, role and event number."""
        self.files_dir = Path("files")
        self.trust_dir = Path("trust")
        self.verify_online = True
        """Fetch OCSP/CRL answers when checking signed minutes (hard-fail)."""

    async def cleanup_ctx(self, app: web.Application) -> AsyncIterator[None]:
        """Bind to the app's database (opened by then) and run the vote batcher with the app."""
        self._db = app[DB_KEY]
        self.files_dir = app[CONFIG_KEY].files_dir
        self.trust_dir = app[CONFIG_KEY].trust_dir
        self._batcher = VoteBatcher(self._db, on_batch=self._publish_tallies)
        self._batcher.start()
        yield
        await self._batcher.stop()

    @property
    def db(self) -> Database:
        if self._db is None:
            raise RuntimeError("SessionsService used before the app started")
        return self._db

    @property
    def batcher(self) -> VoteBatcher:
        if self._batcher is None:
            raise RuntimeError("SessionsService used before the app started")
        return self._batcher

    async def read(self, desc: str, fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """``fn`` in a read transaction."""
        return await self.db.read(desc, fn)

    async def write(self, desc: str, fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """``fn`` in a write transaction, committed when this returns."""
        return await self.db.write(desc, fn)

    async def publish(self, session_id: int, type: str, data: dict[str, Any]) -> None:
        """Tell everyone invited to the session (after the commit)."""
        seq = await self.hub.publish(channel(session_id), type, data)
        # With a shared backend the hub hears its own event back a moment later; until then
        # the page state must not come from the cache (see statecache.py).
        if len(self.published) >= 4096:
            self.published.clear()
        self.published[session_id] = (seq, time.monotonic())

    async def _load_roles(self, session_id: int) -> dict[int, str]:
        async def run(session: AsyncSession) -> dict[int, str]:
            return await repo.roles_txn(session, session_id)

        return await self.db.read("session_roles", run)

    async def _publish_tallies(self, touched: list[Poll]) -> None:
        """The live count of each vote a batch touched, counted after the commit (so it holds
        every batch committed by then, of this process or another; a desk keeps the higher of
        two counts that arrive out of order, web/static/sessions/session.js)."""

        async def count(session: AsyncSession) -> dict[int, Counts]:
            return await counts_txn(session, touched)

        live = await self.db.read("vote_counts", count)
        for poll in touched:
            await self.hub.publish(
                desk_channel(poll.session_id),
                "vote.tally",
                {"poll": polls.poll_json(poll, with_counts=True, live=live.get(poll.id))},
            )


SERVICE_KEY = web.AppKey("sessions_service", SessionsService)
