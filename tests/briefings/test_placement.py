"""Where the supervisor places a signaling socket: a briefing's endpoints kept on one media
worker (no pipe copies), new briefings on the least-loaded worker, a full worker spilling over."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from meetings.briefings import workers
from meetings.briefings.workers import Seat, WorkerPool


def _seat(briefing: int, user: int) -> Seat:
    return Seat(briefing, user, f"u{user}", f"U {user}", "000.00.11.H98", False, True)


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[WorkerPool]:
    made = WorkerPool(3, {})
    monkeypatch.setattr(made, "running", lambda k: k in (0, 1, 2))
    yield made
    for sock in [*made.pipes, *made.listeners.values()]:
        sock.close()


def test_a_briefing_stays_on_one_worker_until_it_is_full(
    pool: WorkerPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ExitStack() as open_sockets:

        def join(briefing: int, user: int) -> int:
            worker = pool.place(_seat(briefing, user))
            open_sockets.enter_context(pool.seated(worker, briefing))
            return worker

        assert [join(1, u) for u in range(1, 6)] == [0] * 5  # together, not spread
        assert join(2, 10) == 1  # a new briefing: the least-loaded worker
        assert join(3, 20) == 2
        assert join(2, 11) == 1
        monkeypatch.setattr(workers, "PACK_UP_TO", 5)
        assert join(1, 6) == 2  # worker 0 is full: the least-loaded takes the next one
        assert join(1, 7) == 2  # and what spilled stays together there
        assert pool.hosted[(0, 1)] == 5 and pool.hosted[(2, 1)] == 2
    assert pool.hosted == {} and set(pool.load.values()) == {0}
