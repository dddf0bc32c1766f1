"""The live state of a session: everything a tablet or the wall draws, in one read.

The body is the shared part (``statecache.py``: the same bytes for everyone with the same role,
built once per change) followed by ``"me"``, the caller's own attendance and votes, kept per
person under the same event numbers (``statecache.MineCache``).  Its size does not depend on how many people are invited: the member
list is the desk's, paged (:func:`members_page`).  See docs/sessions.md, "Page state".
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meetings.sessions import polls, repo, speakers_repo
from meetings.sessions.counts import counts_txn
from meetings.sessions.errors import NotSecretariat, SessionNotFound
from meetings.sessions.models import Attendance, CouncilSession, Invitation, Poll, PollVote
from meetings.sessions.papers import repo as papers_repo
from meetings.sessions.service import (
    SessionsService,
    channel,
    desk_channel,
    guard_txn,
    is_desk,
    session_json,
)
from meetings.sessions.statecache import etag_of, matches
from server import jsonstrict
from server.auth.principal import Principal


@dataclass(frozen=True, slots=True)
class StateAnswer:
    """The page state's bytes and strong ETag; ``body`` is None when ``If-None-Match`` matched."""

    body: bytes | None
    etag: str


def _dumps(data: Any) -> bytes:
    return jsonstrict.dumps(data, ensure_ascii=False, default=str).encode("utf-8")


async def session_state(svc: SessionsService, p: Principal, session_id: int) -> dict[str, Any]:
    """The page state as a dict (the HTML pages read the session and the caller's role)."""
    answer = await state_answer(svc, p, session_id)
    assert answer.body is not None
    data: dict[str, Any] = json.loads(answer.body)
    return data


async def state_answer(
    svc: SessionsService,
    p: Principal,
    session_id: int,
    *,
    if_none_match: str | None = None,
    seen_seq: int | None = None,
) -> StateAnswer:
    """The page state for ``p``; ``seen_seq``: the last ``session:<id>`` event the caller saw."""
    # The key is read before the database (see statecache.py): a body kept under seq n holds
    # every change whose event is ≤ n.
    seq = svc.hub.current_seq(channel(session_id))
    desk_seq = svc.hub.current_seq(desk_channel(session_id))
    epoch = svc.hub.epoch

    published, at = svc.published.get(session_id, (0, 0.0))
    if published > seq and time.monotonic() - at < 5:
        # this process published an event its hub has not heard back yet (a shared backend)
        seen_seq = max(seen_seq or 0, published)
    fresh = seen_seq is not None and seen_seq > seq  # this process has not heard of it yet
    role, me_bytes = await _mine(svc, p, session_id, (epoch, seq, desk_seq), fresh)

    async def build() -> bytes:
        async def run(session: AsyncSession) -> bytes:
            return _dumps(await _shared_txn(session, session_id, role))

        return await svc.read("session_state", run)

    if fresh:
        shared = await build()  # no cached body
        shared_tag = etag_of(shared)
    else:
        key = (session_id, role, epoch, seq, desk_seq if is_desk(role) else None)
        built = await svc.state_cache.get(key, build)
        shared, shared_tag = built.body, built.etag
    etag = etag_of(shared_tag.encode() + me_bytes)
    if matches(if_none_match, etag):
        return StateAnswer(None, etag)
    return StateAnswer(shared[:-1] + b',"me":' + me_bytes + b"}", etag)


async def _mine(
    svc: SessionsService, p: Principal, session_id: int, seqs: tuple[str, int, int], fresh: bool
) -> tuple[str, bytes]:
    """The caller's role and own part, kept per event numbers (``statecache.MineCache``)."""
    key = (session_id, p.user_id, *seqs, svc.mine_cache.version(p.user_id))
    kept = None if fresh else svc.mine_cache.get(key)
    if kept is not None:
        return kept

    async def mine(session: AsyncSession) -> tuple[str, dict[str, Any]]:
        return await _me_txn(session, session_id, p)

    role, me = await svc.read("session_me", mine)
    me_bytes = _dumps(me)
    if not fresh:
        svc.mine_cache.put(key, role, me_bytes)
    return role, me_bytes


async def _me_txn(
    session: AsyncSession, session_id: int, p: Principal
) -> tuple[str, dict[str, Any]]:
    """The caller's role (404 when not invited) and what is theirs alone: their attendance at
    the current sitting and the votes they took part in.  Two statements (the session joined to
    the caller's invitation and attendance; their votes): a reconnect storm after the sitting
    moved on rebuilds this once per tablet."""
    row = (
        await session.execute(
            select(Invitation.role, Attendance.status, Attendance.reason)
            .select_from(CouncilSession)
            .join(
                Invitation,
                (Invitation.session_id == CouncilSession.id) & (Invitation.user_id == p.user_id),
            )
            .outerjoin(
                Attendance,
                (Attendance.sitting_id == CouncilSession.current_sitting_id)
                & (Attendance.user_id == p.user_id),
            )
            .where(CouncilSession.id == session_id)
        )
    ).first()
    if row is None:
        raise SessionNotFound()
    role, status, reason = row
    attendance = {"status": status, "reason": reason} if status is not None else None
    voted = await session.scalars(
        select(PollVote.poll_id)
        .join(Poll, Poll.id == PollVote.poll_id)
        .where(Poll.session_id == session_id, PollVote.user_id == p.user_id)
        .order_by(PollVote.poll_id)
    )
    me = {"user_id": p.user_id, "role": role, "attendance": attendance, "voted": list(voted)}
    return role, me


async def _shared_txn(session: AsyncSession, session_id: int, role: str) -> dict[str, Any]:
    """What everyone with ``role`` sees alike: no person's own data, no member list."""
    cs = await repo.get_session_txn(session, session_id)
    desk = is_desk(role)
    all_polls = await polls.polls_txn(session, session_id)
    live = await counts_txn(session, [x for x in all_polls if x.status == "open"]) if desk else {}
    return {
        "session": session_json(cs, role),
        "sittings": [
            {"id": s.id, "title": s.title, "started": s.starts_at is not None}
            for s in await repo.sittings_txn(session, session_id)
        ],
        "agenda": await repo.agenda_txn(session, session_id),
        "current_item_id": cs.current_item_id,
        "minutes": _minutes(cs),
        "conclusions": cs.conclusions if desk else None,
        "quorum": (await repo.quorum_txn(session, session_id, cs.current_sitting_id)).to_json(),
        "queue": (
            await speakers_repo.queue_txn(session, cs.current_item_id)
            if cs.current_item_id is not None
            else []
        ),
        "speaker": await speakers_repo.current_speaker_txn(session, session_id),
        "polls": [polls.poll_json(x, with_counts=desk, live=live.get(x.id)) for x in all_polls],
        "papers_version": await papers_repo.papers_version_txn(session, session_id),
    }


async def members_page(
    svc: SessionsService, p: Principal, session_id: int, page: int, per_page: int
) -> dict[str, Any]:
    """The desk's list of everyone invited, by name, a page at a time, with each person's
    attendance at the current sitting; 404 when not invited, 403 for members and guests."""

    async def run(session: AsyncSession) -> dict[str, Any]:
        cs, role = await guard_txn(session, session_id, p)
        if not is_desk(role):
            raise NotSecretariat()
        total, rows = await repo.invitations_page_txn(
            session, session_id, offset=(page - 1) * per_page, limit=per_page
        )
        sitting = cs.current_sitting_id
        marks = (
            await repo.attendance_of_txn(session, sitting, [r["user_id"] for r in rows])
            if sitting is not None
            else {}
        )
        for r in rows:
            r["attendance"] = marks.get(r["user_id"])
        return {"members": rows, "page": page, "per_page": per_page, "total": total}

    return await svc.read("session_members", run)


def _minutes(cs: CouncilSession) -> dict[str, Any] | None:
    if cs.minutes_sha256 and cs.minutes_at:
        return {"signer": cs.minutes_signer, "at": cs.minutes_at.isoformat()}
    return None
