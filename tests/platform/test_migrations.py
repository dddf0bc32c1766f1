"""Every migration goes up and down on SQLite and PostgreSQL, and matches the models."""

from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from lienthong.app import MIGRATION_DIRS
from server.db import Database
from server.db.migrate import downgrade, is_current, upgrade


async def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    assert await is_current(database_url, MIGRATION_DIRS)
    downgrade(database_url, "base", MIGRATION_DIRS)
    assert not await is_current(database_url, MIGRATION_DIRS)
    db = Database(database_url)

    def tables(conn: Connection) -> set[str]:
        return set(inspect(conn).get_table_names())

    async with db.engine.connect() as conn:
        assert await conn.run_sync(tables) <= {"alembic_version"}
    upgrade(database_url, MIGRATION_DIRS)
    async with db.engine.connect() as conn:
        assert {
            "agencies",
            "users",
            "audit_log",
            "login_sessions",
            "api_tokens",
        } <= await conn.run_sync(tables)
    await db.close()
    assert await is_current(database_url, MIGRATION_DIRS)


async def test_models_match_migrations(database_url: str) -> None:
    """A table or column added to a model without a migration fails here (both databases)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import lienthong.app  # noqa: F401  (the assembly imports every domain, registering its tables)
    from server.db.base import Base

    db = Database(database_url)

    def diff(conn: Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        return list(compare_metadata(context, Base.metadata))

    async with db.engine.connect() as conn:
        differences = await conn.run_sync(diff)
    await db.close()
    assert differences == []


DEPENDS_ON_BRANCH = """
revision = "0001_extra"
down_revision = None
branch_labels = ("extra",)
depends_on = "0001_platform"


def upgrade() -> None:
    from alembic import op
    import sqlalchemy as sa

    op.create_table("extra_things", sa.Column("id", sa.Integer, primary_key=True))


def downgrade() -> None:
    from alembic import op

    op.drop_table("extra_things")
"""


async def test_branch_that_depends_on_the_platform_counts_as_current(tmp_path: Path) -> None:
    """A domain branch declared with ``depends_on`` leaves the platform's revision a script head
    that the version table does not list; the database is still current once it is applied."""
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "0001_extra.py").write_text(DEPENDS_ON_BRANCH)
    url = f"sqlite+aiosqlite:///{tmp_path / 'branch.db'}"
    assert not await is_current(url, [extra])
    upgrade(url, [extra])
    assert await is_current(url, [extra])
    downgrade(url, "extra@base", [extra])
    assert not await is_current(url, [extra])
