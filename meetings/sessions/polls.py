"""SQL for votes (biểu quyết): create, open, record a batch of ballots, close with a result."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from meetings.sessions import repo
from meetings.sessions.counts import Counts, add_secret_txn, apply, audit_details, counts_txn
from meetings.sessions.errors import SessionNotFound, StateConflict
from meetings.sessions.models import (
    Attendance,
    CouncilSession,
    Invitation,
    Poll,
    PollTally,
    PollVote,
)
from meetings.sessions.rules import PRESENT, VOTING_ROLES, Choice, Threshold, passes
from server.accounts.models import User
from server.audit.log import NewEntry, append_many_txn
from server.db import Database
from server.db.among import among
from server.db.base import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Ballot:
    """One vote as submitted by a tablet."""

    poll_id: int
    user_id: int
    choice: Choice
    session_id: int | None = None
    """The session named in the request's URL (HTTP); None over the socket."""


@dataclass(frozen=True, slots=True)
class BallotOutcome:
    """``recorded``, ``already`` (the same member voted before: counted once) or a refusal code."""

    status: str
    code: str = ""


REFUSALS = {
    "votes.no_poll": ("No such vote in this session.", "Không có cuộc biểu quyết này."),
    "votes.not_open": ("The vote is not open.", "Biểu quyết chưa mở hoặc đã kết thúc."),
    "votes.not_member": (
        "Only invited members vote.",
        "Chỉ đại biểu được triệu tập mới được biểu quyết.",
    ),
    "votes.not_present": (
        "Check in to the sitting before voting.",
        "Bạn cần điểm danh có mặt trước khi biểu quyết.",
    ),
    "votes.changed": (
        "You already voted otherwise; a vote cannot be changed.",
        "Bạn đã biểu quyết; không thể thay đổi.",
    ),
}


def poll_json(p: Poll, *, with_counts: bool, live: Counts | None = None) -> dict[str, Any]:
    """A vote for the wire; counts once closed, or for the chair and secretariat.

    An open vote's counts are not on its row (see :mod:`meetings.sessions.counts`): the caller
    passes them as ``live`` (without, an open vote shows none).  Of a secret vote not yet closed
    even the desk gets only how many voted: never a count per choice, so polling after each
    vote (or replaying the desk's events) reveals nobody's choice.
    """
    data: dict[str, Any] = {
        "id": p.id,
        "session_id": p.session_id,
        "item_id": p.item_id,
        "title": p.title,
        "kind": p.kind,
        "deadline": p.deadline.isoformat() if p.deadline else None,
        "secret": p.secret,
        "threshold": p.threshold,
        "status": p.status,
        "opened_at": p.opened_at.isoformat() if p.opened_at else None,
        "closed_at": p.closed_at.isoformat() if p.closed_at else None,
    }
    shown = live if p.status == "open" else None
    c = shown or Counts(voted=p.voted, yes=p.yes, no=p.no, abstain=p.abstain)
    if p.status == "closed" or (with_counts and not p.secret):
        data.update(
            members_total=p.members_total,
            present=p.present,
            yes=c.yes,
            no=c.no,
            abstain=c.abstain,
            voted=c.voted,
            passed=p.passed,
        )
    elif with_counts:
        data.update(members_total=p.members_total, voted=c.voted)
    return data


async def create_poll_txn(
    session: AsyncSession,
    session_id: int,
    *,
    title: str,
    item_id: int | None,
    secret: bool,
    threshold: Threshold,
    kind: str = "vote",
    deadline: datetime | None = None,
) -> Poll:
    if item_id is not None:
        await repo.get_item_txn(session, session_id, item_id)
    row = Poll(
        session_id=session_id,
        item_id=item_id,
        title=title,
        kind=kind,
        deadline=deadline,
        secret=secret,
        threshold=threshold.value,
    )
    session.add(row)
    await session.flush()
    return row


async def get_poll_txn(session: AsyncSession, session_id: int, poll_id: int) -> Poll:
    row = (await session.scalars(select(Poll).where(Poll.id == poll_id).with_for_update())).first()
    if row is None or row.session_id != session_id:
        raise SessionNotFound("vote")
    return row


async def find_poll_txn(session: AsyncSession, session_id: int, poll_id: int) -> Poll:
    """The vote, unlocked (for reading); 404 unless it belongs to ``session_id``."""
    row = await session.get(Poll, poll_id)
    if row is None or row.session_id != session_id:
        raise SessionNotFound("vote")
    return row


async def voted_txn(session: AsyncSession, all_polls: list[Poll], user_id: int) -> list[int]:
    """Which of ``all_polls`` (opened ones) ``user_id`` has voted in."""
    ids = [x.id for x in all_polls if x.status != "draft"]
    if not ids:
        return []
    rows = await session.scalars(
        select(PollVote.poll_id).where(PollVote.poll_id.in_(ids), PollVote.user_id == user_id)
    )
    return sorted(rows)


async def polls_txn(session: AsyncSession, session_id: int) -> list[Poll]:
    return list(
        await session.scalars(select(Poll).where(Poll.session_id == session_id).order_by(Poll.id))
    )


async def open_poll_txn(session: AsyncSession, cs: CouncilSession, poll: Poll) -> None:
    if poll.status != "draft":
        raise StateConflict("The vote was opened before.", detail_vi="Biểu quyết đã được mở.")
    if poll.kind == "opinion":
        # lấy ý kiến: between sittings, every invited member answers until the deadline
        poll.status, poll.opened_at = "open", utcnow()
        poll.members_total = await repo.members_total_txn(session, cs.id)
        await _open_tally_txn(session, poll)
        return
    if cs.current_sitting_id is None:
        raise StateConflict(
            "Start a sitting before opening a vote.",
            detail_vi="Cần bắt đầu phiên họp trước khi mở biểu quyết.",
        )
    other = await session.scalar(
        select(Poll.id)
        .where(Poll.session_id == cs.id, Poll.status == "open", Poll.kind == "vote")
        .limit(1)
    )
    if other is not None:
        raise StateConflict(
            "Another vote is open; close it first.",
            detail_vi="Đang có một biểu quyết khác; hãy kết thúc trước.",
        )
    poll.status, poll.opened_at, poll.sitting_id = "open", utcnow(), cs.current_sitting_id
    poll.members_total = await repo.members_total_txn(session, cs.id)
    await _open_tally_txn(session, poll)


async def _open_tally_txn(session: AsyncSession, poll: Poll) -> None:
    """A secret vote's tally rows exist from the start, so casting only ever updates them."""
    await session.flush()
    if poll.secret:
        await session.execute(
            insert(PollTally), [{"poll_id": poll.id, "choice": c.value, "count": 0} for c in Choice]
        )


async def close_poll_txn(session: AsyncSession, poll: Poll) -> None:
    """Close ``poll`` (locked ``FOR UPDATE`` by :func:`get_poll_txn`: the batches recording
    votes hold it ``FOR SHARE``, so this waits for them, and any batch after sees it closed)."""
    if poll.status != "open":
        raise StateConflict("The vote is not open.", detail_vi="Biểu quyết không ở trạng thái mở.")
    quorum = await repo.quorum_txn(session, poll.session_id, poll.sitting_id)
    apply(poll, (await counts_txn(session, [poll]))[poll.id])
    poll.status, poll.closed_at = "closed", utcnow()
    poll.members_total, poll.present = quorum.members_total, quorum.present
    if poll.secret:  # the result leaves the tally only now
        tally = await session.execute(
            select(PollTally.choice, PollTally.count).where(PollTally.poll_id == poll.id)
        )
        counts = {choice: count for choice, count in tally}
        poll.yes, poll.no = counts.get("yes", 0), counts.get("no", 0)
        poll.abstain = counts.get("abstain", 0)
    if poll.kind == "opinion":  # nobody is "present" between sittings: those who answered
        poll.present = poll.yes + poll.no + poll.abstain
    poll.passed = passes(Threshold(poll.threshold), poll.yes, poll.members_total)
    await session.flush()


async def cast_batch_txn(
    session: AsyncSession, ballots: list[Ballot]
) -> tuple[list[BallotOutcome], list[Poll]]:
    """Record a batch of ballots in one transaction; each gets its own outcome.

    A batch may hold ballots of many votes (sittings voting at once): their polls are locked in
    one statement (in id order), one query answers every check for every (poll, voter) pair, one
    insert records every accepted vote (a secret vote's tally is added per poll).  The checks, in SQL: the
    voter invited to the poll's session at all (if not, the answer is the one for a vote that
    does not exist, whatever the vote's state), open, invited as a member and present at the
    vote's sitting, not voted before (the primary key on ``(poll_id, user_id)`` is the last
    word).  Returns the polls whose counts changed, for the desk's live count.
    """
    outcomes: list[BallotOutcome | None] = [None] * len(ballots)
    by_poll: dict[int, list[int]] = {}
    for index, b in enumerate(ballots):
        by_poll.setdefault(b.poll_id, []).append(index)
    polls = await _shared_polls_txn(session, sorted(by_poll))
    facts = await _facts_txn(session, list(polls.values()), sorted({b.user_id for b in ballots}))
    touched: list[Poll] = []
    audits: list[tuple[int, dict[str, Any]]] = []
    rows: list[dict[str, Any]] = []
    for poll_id, indexes in sorted(by_poll.items()):
        poll = polls.get(poll_id)
        if poll is None:
            for i in indexes:
                outcomes[i] = BallotOutcome("refused", "votes.no_poll")
            continue
        accepted: dict[int, Choice] = {}
        known = facts.get(poll_id) or _Facts()
        for i in indexes:
            outcomes[i] = _decide(poll, ballots[i], known, accepted)
        if accepted:
            rows.extend(_vote_rows(poll, accepted))
            if poll.secret:
                await add_secret_txn(session, poll, accepted)
            audits.append((poll.id, audit_details(poll, accepted)))
            touched.append(poll)
    if rows:
        await session.execute(insert(PollVote), rows)
    # The audit chain is one lock for the whole deployment (held until commit): appended last,
    # so batches committing side by side, in this process or another, overlap all the rest.
    await append_many_txn(
        session,
        [
            NewEntry("vote.cast", "tablets", f"poll:{poll_id}", details)
            for poll_id, details in audits
        ],
    )
    return [o or BallotOutcome("refused", "votes.no_poll") for o in outcomes], touched


async def _shared_polls_txn(session: AsyncSession, ids: list[int]) -> dict[int, Poll]:
    """The polls held FOR SHARE (in id order): batches do not wait for each other (they write
    no poll row, see counts.py), closing a vote (FOR UPDATE) waits for them, and a batch after
    the close sees the vote closed."""
    query = (
        select(Poll)
        .where(among(session, Poll.id, ids))
        .order_by(Poll.id)
        .with_for_update(read=True)
    )
    return {poll.id: poll for poll in await session.scalars(query)}


@dataclass(slots=True)
class _Facts:
    """What one query tells about the voters of a batch in one poll."""

    invited: set[int] = field(default_factory=set)
    """Invited to the poll's session in any role (the others must not learn the poll exists)."""
    voting: set[int] = field(default_factory=set)
    present: set[int] = field(default_factory=set)
    before: dict[int, str | None] = field(default_factory=dict)


async def _facts_txn(
    session: AsyncSession, polls: list[Poll], users: list[int]
) -> dict[int, _Facts]:
    """Per poll, what one query tells about the batch's voters: invited as what, present at
    the poll's sitting, voted before."""
    if not polls:
        return {}
    checks = await session.execute(
        select(
            Poll.id,
            Invitation.user_id,
            Invitation.role,
            Attendance.status,
            PollVote.user_id,
            PollVote.choice,
        )
        .join(Invitation, Invitation.session_id == Poll.session_id)
        .outerjoin(
            Attendance,
            (Attendance.sitting_id == Poll.sitting_id) & (Attendance.user_id == Invitation.user_id),
        )
        .outerjoin(
            PollVote,
            (PollVote.poll_id == Poll.id) & (PollVote.user_id == Invitation.user_id),
        )
        .where(
            among(session, Poll.id, [p.id for p in polls]),
            among(session, Invitation.user_id, users),
        )
    )
    found: dict[int, _Facts] = {}
    for poll_id, uid, role, attendance, voted, choice in checks:
        facts = found.setdefault(poll_id, _Facts())
        facts.invited.add(uid)
        if role in VOTING_ROLES:
            facts.voting.add(uid)
        if attendance in PRESENT:
            facts.present.add(uid)
        if voted is not None:
            facts.before[uid] = choice
    return found


def _accepts_votes(poll: Poll) -> bool:
    opinion = poll.kind == "opinion"
    if poll.status != "open" or (poll.sitting_id is None and not opinion):
        return False
    return not (opinion and poll.deadline is not None and poll.deadline <= utcnow())


def _decide(poll: Poll, b: Ballot, facts: _Facts, accepted: dict[int, Choice]) -> BallotOutcome:
    """The outcome of one ballot; a recorded one is added to ``accepted``."""
    if b.user_id not in facts.invited or b.session_id not in (None, poll.session_id):
        return BallotOutcome("refused", "votes.no_poll")
    if not _accepts_votes(poll):
        return BallotOutcome("refused", "votes.not_open")
    if b.user_id not in facts.voting:
        return BallotOutcome("refused", "votes.not_member")
    if b.user_id in facts.before or b.user_id in accepted:
        earlier = accepted.get(b.user_id) or facts.before.get(b.user_id)
        same = poll.secret or earlier is None or earlier == b.choice.value
        return BallotOutcome("already") if same else BallotOutcome("refused", "votes.changed")
    if b.user_id not in facts.present and poll.kind != "opinion":
        return BallotOutcome("refused", "votes.not_present")
    accepted[b.user_id] = b.choice
    return BallotOutcome("recorded")


def _vote_rows(poll: Poll, accepted: dict[int, Choice]) -> list[dict[str, Any]]:
    """Who voted: a named vote keeps each member's choice and time; a secret vote keeps who
    voted without choice or time (the vote's opening time, the same for all)."""
    now = utcnow()
    at = (poll.opened_at or now) if poll.secret else now
    return [
        {
            "poll_id": poll.id,
            "user_id": uid,
            "choice": None if poll.secret else choice.value,
            "at": at,
        }
        for uid, choice in sorted(accepted.items())  # by member: nothing follows arrival order
    ]


async def participants_txn(session: AsyncSession, poll_id: int) -> list[int]:
    """Who voted in ``poll_id``, by user id (so the list says nothing about when)."""
    rows = await session.scalars(
        select(PollVote.user_id).where(PollVote.poll_id == poll_id).order_by(PollVote.user_id)
    )
    return list(rows)


async def expired_opinions_txn(session: AsyncSession) -> list[tuple[int, int]]:
    """``(session_id, poll_id)`` of open opinion collections whose deadline has passed."""
    rows = await session.execute(
        select(Poll.session_id, Poll.id).where(
            Poll.kind == "opinion", Poll.status == "open", Poll.deadline <= utcnow()
        )
    )
    return [(sid, pid) for sid, pid in rows]


async def not_answered_txn(session: AsyncSession, poll: Poll) -> list[int]:
    """Voting members of the poll's session who have not answered yet."""
    answered = select(PollVote.user_id).where(PollVote.poll_id == poll.id)
    rows = await session.scalars(
        select(Invitation.user_id).where(
            Invitation.session_id == poll.session_id,
            Invitation.role.in_(VOTING_ROLES),
            Invitation.user_id.not_in(answered),
        )
    )
    return list(rows)


async def voters_txn(session: AsyncSession, poll_id: int) -> list[dict[str, Any]]:
    """Who voted (and how, for a named vote)."""
    rows = await session.execute(
        select(PollVote.user_id, PollVote.choice, User.full_name)
        .join(User, User.id == PollVote.user_id)
        .where(PollVote.poll_id == poll_id)
        .order_by(User.full_name)
    )
    return [{"user_id": u, "choice": c, "full_name": n} for u, c, n in rows]


async def forget_wal(db: Database) -> None:
    """Empty SQLite's write-ahead log after a secret vote closes (best effort).

    The log keeps a copy of every page each commit wrote, so until it is overwritten it holds
    the tally as it stood after each batch next to that batch's voters.  A checkpoint with
    TRUNCATE copies the pages into the database file (which keeps only the latest) and cuts the
    log to zero bytes.  It waits at most 250 ms for readers; if one is busy the log stays for the
    next checkpoint (docs/sessions.md, "Secret ballots").  PostgreSQL: nothing to do here.
    """
    if not db.is_sqlite:
        return
    try:
        async with db.engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA busy_timeout=250")
            try:
                busy = (await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")).first()
            finally:
                await conn.exec_driver_sql("PRAGMA busy_timeout=30000")
        if busy is not None and busy[0]:
            log.info("write-ahead log not truncated after a secret vote: readers were busy")
    except (SQLAlchemyError, OSError) as exc:  # the vote is closed and published already
        log.warning("truncating the write-ahead log failed: %s", exc.__class__.__name__)
