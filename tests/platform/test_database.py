"""The database gateway behaves the same on SQLite and PostgreSQL where the domains rely on it."""

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import Database
from server.errors import ServiceUnavailable
from tests.conftest import _pg_exec


async def test_lower_folds_vietnamese_letters(database_url: str) -> None:
    """Searches lower() both sides; SQLite's built-in lower() would leave "ĐÊ ĐIỀU" as it is."""
    db = Database(database_url)

    async def fold(session: AsyncSession) -> tuple[str, bool]:
        folded = await session.scalar(text("SELECT lower('ĐÊ ĐIỀU Ở HÀ NỘI')"))
        found = await session.scalar(
            text("SELECT lower('Về việc ĐÊ ĐIỀU') LIKE :p"), {"p": "%đê điều%"}
        )
        return str(folded), bool(found)

    try:
        for run in (db.read, db.write):  # the reader and the writer connections alike
            assert await run("fold", fold) == ("đê điều ở hà nội", True)
    finally:
        await db.close()


# one database only: the parametrized fixture, narrowed (no skipped twin on the other one)
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
POSTGRES_ONLY = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


@SQLITE_ONLY
async def test_sqlite_commits_survive_a_power_cut(database_url: str) -> None:
    """A committed vote or document must be on disk: SQLite's synchronous=FULL (2) in WAL mode.
    (PostgreSQL's synchronous_commit is on unless an operator turns it off.)"""
    db = Database(database_url)

    async def pragmas(session: AsyncSession) -> tuple[str, int]:
        mode = await session.scalar(text("PRAGMA journal_mode"))
        sync = await session.scalar(text("PRAGMA synchronous"))
        return str(mode), int(sync or 0)

    try:
        assert await db.write("pragmas", pragmas) == ("wal", 2)
    finally:
        await db.close()


@POSTGRES_ONLY
async def test_a_restarted_postgresql_costs_one_failed_request(database_url: str) -> None:
    """Without pre-ping, the pool must still recover after every server connection died (a
    restart of PostgreSQL, as the clients see it): one transaction fails with 503, the next
    ones run on fresh connections."""
    db = Database(database_url)
    name = database_url.rsplit("/", 1)[1]
    try:

        async def hold(session: AsyncSession) -> int:
            await asyncio.sleep(0.05)  # concurrent: the pool keeps several connections
            return int(await session.scalar(text("SELECT 1")) or 0)

        # the single-statement reads (autocommit) share the pool and recover the same way
        for run in (db.read, db.write, db.read_one):
            assert await asyncio.gather(*(run("warm", hold) for _ in range(5))) == [1] * 5
            await _pg_exec(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            )
            outcomes = []
            for _ in range(6):
                try:
                    outcomes.append(await run("after_restart", hold))
                except ServiceUnavailable:
                    outcomes.append(0)
            assert outcomes[0] in (0, 1)  # at most the first, on a connection that was dead
            assert outcomes[1:] == [1] * 5
            assert await asyncio.gather(*(run("again", hold) for _ in range(5))) == [1] * 5
    finally:
        await db.close()


@POSTGRES_ONLY
async def test_read_one_runs_its_statement_outside_a_transaction(database_url: str) -> None:
    """Seen with two statements 50 ms apart: inside a transaction the second one's now() is the
    transaction's start; under read_one (autocommit on PostgreSQL) each statement is its own.
    (On SQLite read_one is read.)"""
    db = Database(database_url)
    try:

        async def lag(session: AsyncSession) -> bool:
            await session.execute(text("SELECT 1"))  # BEGIN, if any, goes with this one
            await asyncio.sleep(0.05)
            return bool(
                await session.scalar(
                    text("SELECT statement_timestamp() - now() > interval '40 milliseconds'")
                )
            )

        assert await db.read("in_a_transaction", lag)
        assert not await db.read_one("each_its_own", lag)
    finally:
        await db.close()
