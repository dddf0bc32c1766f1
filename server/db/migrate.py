"""Alembic migrations, configured in code so the console command needs no ``alembic.ini``.

The platform's revisions live in ``server/migrations/versions``; each domain package adds its own
directory (``documents/migrations``…) whose first revision ``depends_on`` the platform's head, and
the assembly passes all directories here.  ``upgrade`` goes to ``heads``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

HERE = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str, extra_dirs: Sequence[Path] = ()) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(HERE))
    locations = [str(HERE / "versions"), *(str(d) for d in extra_dirs)]
    cfg.set_main_option("version_locations", " ".join(locations))
    cfg.set_main_option("path_separator", "space")
    cfg.attributes["database_url"] = url
    return cfg


def _outside_loop(fn: Callable[[], None]) -> None:
    """Alembic's env runs its own event loop: from inside a running loop, use a worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        fn()
        return
    errors: list[BaseException] = []

    def target() -> None:
        try:
            fn()
        except BaseException as exc:  # re-raised in the calling thread
            errors.append(exc)

    worker = threading.Thread(target=target, name="alembic")
    worker.start()
    worker.join()
    if errors:
        raise errors[0]


def upgrade(url: str, extra_dirs: Sequence[Path] = ()) -> None:
    """Bring the database to the newest revision of every branch (blocking)."""
    _outside_loop(lambda: command.upgrade(alembic_config(url, extra_dirs), "heads"))


def downgrade(url: str, revision: str, extra_dirs: Sequence[Path] = ()) -> None:
    _outside_loop(lambda: command.downgrade(alembic_config(url, extra_dirs), revision))


async def is_current(url: str, extra_dirs: Sequence[Path] = ()) -> bool:
    """True when the database is at every head (the server refuses to start otherwise)."""
    script = ScriptDirectory.from_config(alembic_config(url, extra_dirs))
    heads = set(script.get_heads())
    engine = create_async_engine(url)

    def _current(conn: Connection) -> set[str]:
        return set(MigrationContext.configure(conn).get_current_heads())

    try:
        async with engine.connect() as conn:
            current = await conn.run_sync(_current)
    finally:
        await engine.dispose()
    return current == heads
