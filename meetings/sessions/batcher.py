"""Votes committed in small batches before they are acknowledged.

One transaction per vote costs 3–20 × more than one per batch (DESIGN.md, "Tablets"): with 1,000
members pressing the button in the same 100 ms, each commit would wait behind hundreds of others.
The batcher takes whatever votes queued while the previous commit ran, records them in one
transaction (:func:`meetings.sessions.polls.cast_batch_txn`), and only then resolves each caller's
future, so an acknowledgement always means "durably recorded".

Bounded, so that early votes stay early: a batch holds at most ``max_batch`` (64) votes — a batch
of 202 took ~76 ms to commit and every vote in it waited that long (issue 15) — and no batch
lingers to fill up: a vote that finds nothing committing starts at once.  On PostgreSQL up to
``concurrency`` (3) batches commit side by side, a second one only once ``parallel_from`` (16)
votes wait or the running one is done; each batch holds its votes ``FOR SHARE`` and appends its
audit entries last (:func:`cast_batch_txn`), because the audit chain is one lock for the whole
deployment held until commit.  SQLite has one writer, so it gets
one batch at a time.  :meth:`VoteBatcher.flush` (closing a vote) waits for every batch running
before it.  Figures: docs/sessions.md, "Page state at province scale".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from meetings.sessions.models import Poll
from meetings.sessions.polls import Ballot, BallotOutcome, cast_batch_txn
from server.db import Database

log = logging.getLogger(__name__)

OnBatch = Callable[[list[Poll]], Awaitable[None]]
_Item = tuple[Ballot | None, "asyncio.Future[BallotOutcome | None]"]


class VoteBatcher:
    """Owns the queue of votes waiting to be committed and the task that commits them."""

    def __init__(
        self,
        db: Database,
        *,
        max_batch: int = 64,
        concurrency: int | None = None,
        on_batch: OnBatch | None = None,
    ):
        self.db = db
        self.max_batch = max_batch
        self.concurrency = concurrency or (1 if db.is_sqlite else 3)
        self.parallel_from = max(1, max_batch // 4)
        """Votes waiting before a batch starts beside a running one (16 of 64)."""
        self._done = asyncio.Event()
        self.on_batch = on_batch
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._tallies: dict[int, Poll] = {}
        self._publisher: asyncio.Task[None] | None = None
        self.batches = 0
        """How many transactions were committed (for tests and the benchmark)."""
        self.largest = 0
        """The largest batch committed (for tests and the benchmark)."""

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="vote-batcher")

    async def stop(self) -> None:
        if self._publisher is not None:
            self._publisher.cancel()
            with suppress(asyncio.CancelledError):
                await self._publisher
            self._publisher = None
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def cast(self, ballot: Ballot) -> BallotOutcome:
        """Queue ``ballot``; return once it is committed (or refused)."""
        future: asyncio.Future[BallotOutcome | None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((ballot, future))
        outcome = await future
        assert outcome is not None
        return outcome

    async def flush(self) -> None:
        """Return once every vote queued before this call is committed (closing a vote waits)
        and its live count published, so no count of an open vote follows the result."""
        future: asyncio.Future[BallotOutcome | None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((None, future))
        await future
        while self._publisher is not None and not self._publisher.done():
            await asyncio.shield(self._publisher)

    async def _run(self) -> None:
        slots = asyncio.Semaphore(self.concurrency)
        try:
            while True:
                items = [await self._queue.get()]
                if items[0][0] is not None:
                    await self._worth_another()
                    await slots.acquire()  # the batch is taken once it can start, not before
                while len(items) < self.max_batch and not self._queue.empty():
                    items.append(self._queue.get_nowait())
                if any(ballot is None for ballot, _f in items):
                    # a flush: everything queued before it commits first, then this batch
                    if items[0][0] is not None:
                        slots.release()
                    if self._running:
                        await asyncio.wait(set(self._running))
                    await self._guarded(items)
                    continue
                task = asyncio.get_running_loop().create_task(self._guarded(items))
                self._running.add(task)
                task.add_done_callback(self._finished)
                task.add_done_callback(lambda _t: slots.release())
        finally:
            for task in list(self._running):
                task.cancel()

    async def _worth_another(self) -> None:
        """Wait, while a batch is committing, until enough votes queued to be worth a second
        one beside it (``parallel_from``), or until it is done: tiny batches side by side only
        queue on the audit chain's lock (one for the deployment) and the batch after them grows
        (the first tenth of a second of a hundred sittings voting was the slowest)."""
        while self._running and self._queue.qsize() + 1 < self.parallel_from:
            self._done.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._done.wait(), 0.002)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._done.set()

    async def _guarded(self, items: list[_Item]) -> None:
        try:
            await self._commit(items)
        except Exception as exc:  # the database went away: every caller hears it
            log.warning("vote batch of %d failed: %s", len(items), exc.__class__.__name__)
            for _ballot, future in items:
                if not future.done():
                    future.set_exception(exc)

    async def _commit(self, items: list[_Item]) -> None:
        ballots = [b for b, _f in items if b is not None]
        polls: list[Poll] = []
        outcomes: list[BallotOutcome] = []
        if ballots:
            try:
                outcomes, polls = await self.db.write("cast_votes", _batch(ballots))
            except IntegrityError:
                # Another process recorded one of these members in between: go one by one.
                outcomes, polls = [], []
                for single in ballots:
                    try:
                        (one,), touched = await self.db.write("cast_vote", _batch([single]))
                    except IntegrityError:
                        one, touched = BallotOutcome("already"), []
                    outcomes.append(one)
                    polls.extend(touched)
            self.batches += 1
            self.largest = max(self.largest, len(ballots))
        results = iter(outcomes)
        for ballot, future in items:
            outcome = next(results) if ballot is not None else None
            if not future.done():  # a caller who left (socket closed) has cancelled its future
                future.set_result(outcome)
        if polls and self.on_batch is not None:
            # The live count is published beside the loop, not in it: the next batch's commit
            # need not wait for it (a publish through PostgreSQL is a round trip), and counts of
            # batches that committed meanwhile go out as one, the latest per poll.
            for poll in polls:
                self._tallies[poll.id] = poll
            if self._publisher is None or self._publisher.done():
                self._publisher = asyncio.get_running_loop().create_task(
                    self._publish_tallies(), name="vote-tallies"
                )

    async def _publish_tallies(self) -> None:
        while self._tallies and self.on_batch is not None:
            polls = list(self._tallies.values())
            self._tallies.clear()
            try:
                await self.on_batch(polls)
            except Exception:
                log.exception("publishing vote counts failed")


def _batch(
    ballots: list[Ballot],
) -> Callable[[AsyncSession], Awaitable[tuple[list[BallotOutcome], list[Poll]]]]:
    async def run(session: AsyncSession) -> tuple[list[BallotOutcome], list[Poll]]:
        return await cast_batch_txn(session, ballots)

    return run
