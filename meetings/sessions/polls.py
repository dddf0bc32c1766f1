"""SQL for votes (biểu quyết): create, open, record a batch of ballots, close with a result."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from meetings.sessions import repo
from meetings.sessions.errors import SessionNotFound, StateConflict
from meetings.sessions.models import Attendance, CouncilSession, Invitation, Poll, PollVote
from meetings.sessions.rules import PRESENT, VOTING_ROLES, Choice, Threshold, passes
from server.accounts.models import User
from server.audit.log import append_txn
from server.db.base import utcnow


@dataclass(frozen=True, slots=True)
class Ballot:
    """One vote as submitted by a tablet."""

    poll_id: int
    user_id: int
    choice: Choice


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


def poll_json(p: Poll, *, with_counts: bool) -> dict[str, Any]:
    """A vote for the wire; counts only once closed, or for the chair and secretariat."""
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
    if with_counts or p.status == "closed":
        data.update(
            members_total=p.members_total,
            present=p.present,
            yes=p.yes,
            no=p.no,
            abstain=p.abstain,
            voted=p.yes + p.no + p.abstain,
            passed=p.passed,
        )
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
        await session.flush()
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
    await session.flush()


async def close_poll_txn(session: AsyncSession, poll: Poll) -> None:
    if poll.status != "open":
        raise StateConflict("The vote is not open.", detail_vi="Biểu quyết không ở trạng thái mở.")
    quorum = await repo.quorum_txn(session, poll.session_id, poll.sitting_id)
    poll.status, poll.closed_at = "closed", utcnow()
    poll.members_total, poll.present = quorum.members_total, quorum.present
    if poll.kind == "opinion":  # nobody is "present" between sittings: those who answered
        poll.present = poll.yes + poll.no + poll.abstain
    poll.passed = passes(Threshold(poll.threshold), poll.yes, poll.members_total)
    await session.flush()


async def cast_batch_txn(
    session: AsyncSession, ballots: list[Ballot]
) -> tuple[list[BallotOutcome], list[Poll]]:
    """Record a batch of ballots in one transaction; each gets its own outcome.

    Checks in SQL, per poll: open, the voter invited as a member and present at the vote's sitting,
    not voted before (the primary key on ``(poll_id, user_id)`` is the last word).  Counts are
    added to the poll row; a secret vote stores no choice per member.  One audit entry per poll
    per batch lists who voted (and, for a named vote, how).
    """
    outcomes: list[BallotOutcome | None] = [None] * len(ballots)
    by_poll: dict[int, list[int]] = {}
    for index, b in enumerate(ballots):
        by_poll.setdefault(b.poll_id, []).append(index)
    touched: list[Poll] = []
    for poll_id, indexes in by_poll.items():
        poll = (
            await session.scalars(select(Poll).where(Poll.id == poll_id).with_for_update())
        ).first()
        opinion = poll is not None and poll.kind == "opinion"
        expired = (
            opinion and poll is not None and poll.deadline is not None and poll.deadline <= utcnow()
        )
        if (
            poll is None
            or poll.status != "open"
            or expired
            or (poll.sitting_id is None and not opinion)
        ):
            code = "votes.no_poll" if poll is None else "votes.not_open"
            for i in indexes:
                outcomes[i] = BallotOutcome("refused", code)
            continue
        users = sorted({ballots[i].user_id for i in indexes})
        # One query answers every check for the batch: invited as what, present, voted before.
        checks = await session.execute(
            select(
                Invitation.user_id,
                Invitation.role,
                Attendance.status,
                PollVote.user_id,
                PollVote.choice,
            )
            .outerjoin(
                Attendance,
                (Attendance.sitting_id == poll.sitting_id)
                & (Attendance.user_id == Invitation.user_id),
            )
            .outerjoin(
                PollVote,
                (PollVote.poll_id == poll_id) & (PollVote.user_id == Invitation.user_id),
            )
            .where(Invitation.session_id == poll.session_id, Invitation.user_id.in_(users))
        )
        invited: set[int] = set()
        present: set[int] = set()
        before: dict[int, str | None] = {}
        for uid, role, attendance, voted, choice in checks:
            if role in VOTING_ROLES:
                invited.add(uid)
            if attendance in PRESENT:
                present.add(uid)
            if voted is not None:
                before[uid] = choice
        seen: dict[int, Choice] = {}
        rows: list[dict[str, Any]] = []
        counts: Counter[str] = Counter()
        now = utcnow()
        for i in indexes:
            b = ballots[i]
            if b.user_id not in invited:
                outcomes[i] = BallotOutcome("refused", "votes.not_member")
            elif b.user_id in before or b.user_id in seen:
                earlier = seen.get(b.user_id) or before.get(b.user_id)
                same = poll.secret or earlier is None or earlier == b.choice.value
                outcomes[i] = (
                    BallotOutcome("already") if same else BallotOutcome("refused", "votes.changed")
                )
            elif b.user_id not in present and not opinion:
                outcomes[i] = BallotOutcome("refused", "votes.not_present")
            else:
                seen[b.user_id] = b.choice
                counts[b.choice.value] += 1
                rows.append(
                    {
                        "poll_id": poll_id,
                        "user_id": b.user_id,
                        "choice": None if poll.secret else b.choice.value,
                        "at": now,
                    }
                )
                outcomes[i] = BallotOutcome("recorded")
        if rows:
            await session.execute(insert(PollVote), rows)
            # the row is locked (FOR UPDATE / SQLite's write lock): add in Python, flushed at commit
            poll.yes += counts["yes"]
            poll.no += counts["no"]
            poll.abstain += counts["abstain"]
            details: dict[str, Any] = {"voters": sorted(seen)}
            if not poll.secret:
                details["choices"] = {str(u): c.value for u, c in sorted(seen.items())}
            await append_txn(
                session, "vote.cast", actor="tablets", target=f"poll:{poll_id}", details=details
            )
        touched.append(poll)
    return [o or BallotOutcome("refused", "votes.no_poll") for o in outcomes], touched


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
