"""Votes (biểu quyết) and opinion collections (lấy ý kiến): prepare, open, cast, close, remind."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from meetings.sessions import polls
from meetings.sessions.bodies import NewPoll
from meetings.sessions.counts import counts_txn
from meetings.sessions.errors import BadInput, StateConflict, VoteNotFound, VoteRefused
from meetings.sessions.polls import REFUSALS, Ballot, BallotOutcome
from meetings.sessions.rules import Choice
from meetings.sessions.service import SessionsService, actor, guard_txn, is_desk
from server.audit.log import append_txn
from server.auth.principal import Principal
from server.db.base import utcnow
from server.realtime import user_channel

log = logging.getLogger(__name__)


async def create_poll(
    svc: SessionsService, p: Principal, session_id: int, new: NewPoll
) -> dict[str, Any]:
    """A vote at the sitting, or with a deadline an opinion collection (lấy ý kiến)."""
    if new.deadline is not None and new.deadline <= utcnow():
        raise BadInput(
            "The deadline must be in the future.",
            detail_vi="Hạn lấy ý kiến phải sau thời điểm hiện tại.",
            extra={"field": "deadline"},
        )

    async def run(session: AsyncSession) -> dict[str, Any]:
        await guard_txn(session, session_id, p, secretariat=True)
        poll = await polls.create_poll_txn(
            session,
            session_id,
            title=new.title,
            item_id=new.item_id,
            secret=new.secret,
            threshold=new.threshold,
            kind="opinion" if new.deadline is not None else "vote",
            deadline=new.deadline,
        )
        return polls.poll_json(poll, with_counts=True)

    data = await svc.write("poll_create", run)
    await svc.publish(session_id, "vote.created", {"poll": data})
    return data


async def open_poll(
    svc: SessionsService, p: Principal, session_id: int, poll_id: int
) -> dict[str, Any]:
    """Open the vote: tablets may vote from now."""

    async def run(session: AsyncSession) -> dict[str, Any]:
        cs, _role = await guard_txn(session, session_id, p, secretariat=True)
        poll = await polls.get_poll_txn(session, session_id, poll_id)
        await polls.open_poll_txn(session, cs, poll)
        await append_txn(session, "vote.open", target=f"poll:{poll_id}", **actor(p))
        return polls.poll_json(poll, with_counts=False)

    data = await svc.write("poll_open", run)
    await svc.publish(session_id, "vote.opened", {"poll": data})

    async def warm(session: AsyncSession) -> None:
        # Compile the batch's statements now, not under the first burst of 1,000 votes:
        # nobody has user id 0, so this is refused before anything is written.
        await polls.cast_batch_txn(session, [Ballot(poll_id, 0, Choice.YES)])

    await svc.read("poll_warm", warm)
    return data


async def close_poll(
    svc: SessionsService, p: Principal, session_id: int, poll_id: int
) -> dict[str, Any]:
    """Close after every vote already queued is committed; publish the result to all."""

    async def check(session: AsyncSession) -> None:
        await guard_txn(session, session_id, p, secretariat=True)
        await polls.get_poll_txn(session, session_id, poll_id)

    await svc.read("poll_check", check)
    return await _close(svc, session_id, poll_id, actor=p.login, actor_user_id=p.user_id)


async def _close(
    svc: SessionsService, session_id: int, poll_id: int, *, actor: str, actor_user_id: int | None
) -> dict[str, Any]:
    await svc.batcher.flush()

    async def run(session: AsyncSession) -> dict[str, Any]:
        poll = await polls.get_poll_txn(session, session_id, poll_id)
        await polls.close_poll_txn(session, poll)
        result = polls.poll_json(poll, with_counts=True)
        who: dict[str, Any] = {
            "actor": actor,
            "actor_user_id": actor_user_id,
            "target": f"poll:{poll_id}",
        }
        if poll.secret:  # who voted, once each, in one sorted list: no batch, no order
            voters = await polls.participants_txn(session, poll_id)
            await append_txn(session, "vote.voters", details={"voters": voters}, **who)
        counts = {k: result[k] for k in ("yes", "no", "abstain", "members_total", "passed")}
        await append_txn(session, "vote.close", details=counts, **who)
        return result

    data = await svc.write("poll_close", run)
    await svc.publish(session_id, "vote.closed", {"poll": data})
    if data["secret"]:
        await polls.forget_wal(svc.db)
    return data


async def close_expired_opinions(svc: SessionsService) -> int:
    """Close every opinion collection past its deadline (run periodically)."""

    async def run(session: AsyncSession) -> list[tuple[int, int]]:
        return await polls.expired_opinions_txn(session)

    closed = 0
    for session_id, poll_id in await svc.read("opinions_expired", run):
        try:
            await _close(svc, session_id, poll_id, actor="deadline", actor_user_id=None)
            closed += 1
        except StateConflict:  # closed by the secretariat meanwhile
            pass
    return closed


def deadline_sweeper(
    svc: SessionsService, every: float = 15.0
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context closing expired opinion collections every ``every`` seconds."""

    async def sweep() -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await close_expired_opinions(svc)
            except Exception:  # logged with its traceback; the next sweep tries again
                log.exception("closing expired opinion collections failed")

    async def ctx(_app: web.Application) -> AsyncIterator[None]:
        task = asyncio.get_running_loop().create_task(sweep(), name="opinion-deadlines")
        yield
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task

    return ctx


async def remind(svc: SessionsService, p: Principal, session_id: int, poll_id: int) -> int:
    """Remind (nhắc) every member who has not answered an open vote or opinion collection."""

    async def run(session: AsyncSession) -> tuple[list[int], dict[str, Any]]:
        await guard_txn(session, session_id, p, secretariat=True)
        poll = await polls.get_poll_txn(session, session_id, poll_id)
        if poll.status != "open":
            raise StateConflict("The vote is not open.", detail_vi="Biểu quyết không mở.")
        users = await polls.not_answered_txn(session, poll)
        return users, polls.poll_json(poll, with_counts=False)

    users, data = await svc.read("poll_remind", run)
    for uid in users:
        await svc.hub.publish(
            user_channel(uid), "vote.reminder", {"session_id": session_id, "poll": data}
        )
    return len(users)


async def poll_detail(
    svc: SessionsService, p: Principal, session_id: int, poll_id: int
) -> dict[str, Any]:
    """A vote with its count (desk, or once closed) and who voted; how, only if named."""

    async def run(session: AsyncSession) -> dict[str, Any]:
        _cs, role = await guard_txn(session, session_id, p)
        poll = await polls.find_poll_txn(session, session_id, poll_id)
        live = (await counts_txn(session, [poll])).get(poll.id) if is_desk(role) else None
        data = polls.poll_json(poll, with_counts=is_desk(role), live=live)
        # who voted is listed once the vote is closed; before, only to the desk of a named
        # vote (a secret one shows even the desk no more than how many voted)
        if poll.status == "closed" or (is_desk(role) and not poll.secret):
            data["voters"] = await polls.voters_txn(session, poll_id)
        return data

    return await svc.read("poll_detail", run)


async def cast(
    svc: SessionsService,
    p: Principal,
    poll_id: int,
    choice: Choice,
    *,
    session_id: int | None = None,
) -> BallotOutcome:
    """Record one vote through the batcher; refusals raise :class:`VoteRefused`, and
    :class:`VoteNotFound` for a vote that does not exist or whose session the caller is not
    invited to (the same answer, so an outsider learns nothing of a vote's state)."""
    try:
        outcome = await svc.batcher.cast(Ballot(poll_id, p.user_id, choice, session_id))
    finally:  # committed (or not) by now, before any acknowledgement: one's reload sees it
        svc.mine_cache.touched(p.user_id)
    if outcome.code == "votes.no_poll":
        raise VoteNotFound()
    if outcome.status == "refused":
        detail, detail_vi = REFUSALS[outcome.code]
        raise VoteRefused(detail, detail_vi=detail_vi, code=outcome.code)
    return outcome
