"""Link figures in the shared room state: written in one statement, only when they moved, only to
rows the writing worker still hosts, and without telling the other workers."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from meetings.briefings.live import LiveWriter, host_txn, read_live
from meetings.briefings.repository import create_briefing_txn
from server.auth.principal import Role
from server.db import Database
from tests.conftest import People

HOST = (0, "epoch-a")


async def _briefing(database: Database, people: People) -> int:
    await people.add("chutich", Role.LEADER)

    async def run(session: AsyncSession) -> int:
        bid = await create_briefing_txn(
            session,
            title="Giao ban",
            starts_at=None,
            join_code="code-live-quality",
            chair_login="chutich",
            created_by_user_id=1,
            meeting_ref="",
            endpoint_codes=[],
            official_logins=[],
        )
        for pid in ("u1", "u2"):
            await host_txn(session, bid, pid, worker=HOST[0], epoch=HOST[1], name=pid)
        await host_txn(session, bid, "u3", worker=1, epoch="epoch-b", name="u3")
        return bid

    return await database.write("test_seed", run)


async def _figures(database: Database, bid: int) -> dict[str, tuple[Any, Any]]:
    snapshot = await read_live(database, bid)
    return {r.id: (r.rtt_ms, r.loss) for r in snapshot.rows}


async def test_quality_written_when_moved_and_not_told(database: Database, people: People) -> None:
    bid = await _briefing(database, people)
    told: list[int] = []
    writer = LiveWriter(database, bid, lambda: told.append(1))
    try:
        writer.quality("u1", HOST, 20.0, 0.0)
        writer.quality("u2", HOST, 30.0, 0.01)
        writer.quality("u3", HOST, 40.0, 0.02)  # hosted by another worker
        await _settle(writer)
        figures = await _figures(database, bid)
        assert figures["u1"] == (20.0, 0.0)
        assert figures["u2"] == (30.0, 0.01)
        assert figures["u3"] == (None, None)
        writer.quality("u1", HOST, 22.0, 0.001)  # within the steps: kept
        writer.quality("u2", HOST, 80.0, 0.01)  # moved: written
        await _settle(writer)
        figures = await _figures(database, bid)
        assert figures["u1"] == (20.0, 0.0)
        assert figures["u2"] == (80.0, 0.01)
        assert len(told) == 2  # the two no-op writes of _settle only
        writer.fields("u1", host=HOST, hand=True)  # any other field: written and told
        await writer.flush()
        assert len(told) == 3
    finally:
        await writer.close()


async def _settle(writer: LiveWriter) -> None:
    """Quality writes do not hold :meth:`LiveWriter.flush`: a no-op write (which tells the other
    workers once) is committed with them or after them."""

    async def nothing(_session: AsyncSession) -> None:
        return None

    writer.put(nothing)
    await writer.flush()
