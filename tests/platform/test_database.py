"""The database gateway behaves the same on SQLite and PostgreSQL where the domains rely on it."""

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import Database


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


async def test_sqlite_commits_survive_a_power_cut(database_url: str) -> None:
    """A committed vote or document must be on disk: SQLite's synchronous=FULL (2) in WAL mode."""
    if not database_url.startswith("sqlite"):
        pytest.skip(
            "SQLite only; PostgreSQL's synchronous_commit is on unless an operator turns it off"
        )
    db = Database(database_url)

    async def pragmas(session: AsyncSession) -> tuple[str, int]:
        mode = await session.scalar(text("PRAGMA journal_mode"))
        sync = await session.scalar(text("PRAGMA synchronous"))
        return str(mode), int(sync or 0)

    try:
        assert await db.write("pragmas", pragmas) == ("wal", 2)
    finally:
        await db.close()
