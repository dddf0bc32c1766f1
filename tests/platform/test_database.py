"""The database gateway behaves the same on SQLite and PostgreSQL where the domains rely on it."""

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
