"""A vote's counts while it is open, read from who voted: the vote rows are the truth.

A batch of ballots no longer adds to counters on the vote's row.  Counters on the row meant
every batch that touched a vote updated that row, and a row being updated is locked until the
batch commits: with a hundred sittings voting at once, every batch touched most of the hundred
rows, so the batches of two processes (and the three of one) waited for each other in a line
(issue 15: 505 ms vote-ack p95 on two processes behind nginx).  Now a batch only reads the
vote's row under a shared lock (``FOR SHARE``: batches never wait for each other, closing the
vote waits for them), and the counts are counted when someone needs them — the desk's page
state, the live count after a batch, the result at close — from the primary key
``(poll_id, user_id)`` of the vote rows, one grouped query for any number of votes.

A secret vote's rows carry no choice: open, it has only ``voted``; its choices are added to its
tally rows in place, in the batch (:func:`add_secret_txn`), read only at close.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from meetings.sessions.models import Poll, PollTally, PollVote
from meetings.sessions.rules import Choice
from server.db.among import among


@dataclass(frozen=True, slots=True)
class Counts:
    """How many voted, and (a named vote only) how many chose what."""

    voted: int = 0
    yes: int = 0
    no: int = 0
    abstain: int = 0


async def counts_txn(session: AsyncSession, polls: Sequence[Poll]) -> dict[int, Counts]:
    """The counts of ``polls`` as committed (and as this transaction wrote), by poll id."""
    ids = sorted({p.id for p in polls})
    if not ids:
        return {}
    rows = await session.execute(
        select(PollVote.poll_id, PollVote.choice, func.count())
        .where(among(session, PollVote.poll_id, ids))
        .group_by(PollVote.poll_id, PollVote.choice)
    )
    by_poll: dict[int, Counter[str]] = {i: Counter() for i in ids}
    for poll_id, choice, n in rows:
        by_poll[poll_id][choice or ""] += int(n)
    return {
        i: Counts(voted=c.total(), yes=c["yes"], no=c["no"], abstain=c["abstain"])
        for i, c in by_poll.items()
    }


async def add_secret_txn(session: AsyncSession, poll: Poll, accepted: dict[int, Choice]) -> None:
    """Add a batch's choices to a secret vote's tally rows (who voted is in the vote rows,
    without choice; nothing links the two)."""
    counts = Counter(c.value for c in accepted.values())
    tally = cast(Table, PollTally.__table__)
    await session.execute(
        update(tally)
        .where(tally.c.poll_id == poll.id)
        .values(count=tally.c.count + case(dict(counts), value=tally.c.choice, else_=0))
    )


def audit_details(poll: Poll, accepted: dict[int, Choice]) -> dict[str, Any]:
    """What the audit entry of a batch says about one vote: a named vote each member's choice,
    a secret vote only how many ballots (who voted is audited once, at close, sorted)."""
    if poll.secret:
        return {"ballots": len(accepted)}
    return {
        "voters": sorted(accepted),
        "choices": {str(u): c.value for u, c in sorted(accepted.items())},
    }


def apply(poll: Poll, counts: Counts) -> None:
    """Write ``counts`` onto the vote's row (at close, under its exclusive lock)."""
    poll.voted = counts.voted
    if not poll.secret:
        poll.yes, poll.no, poll.abstain = counts.yes, counts.no, counts.abstain
