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
from alembic.util import CommandError
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
    """True when the database is at every head (the server refuses to start otherwise).

    A head counts as reached when it is one of the recorded revisions or an ancestor of one,
    following both ``down_revision`` and ``depends_on``: a branch that ``depends_on`` the
    platform's revision leaves the platform's revision a script head that Alembic's version
    table never lists once the branch is applied.
    """
    script = ScriptDirectory.from_config(alembic_config(url, extra_dirs))
    engine = create_async_engine(url)

    def _current(conn: Connection) -> set[str]:
        return set(MigrationContext.configure(conn).get_current_heads())

    try:
        async with engine.connect() as conn:
            current = await conn.run_sync(_current)
    finally:
        await engine.dispose()
    return set(script.get_heads()) <= _reached(script, current)


def _as_tuple(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _reached(script: ScriptDirectory, current: set[str]) -> set[str]:
    """The recorded revisions and all their ancestors (empty if one is unknown to the scripts)."""
    seen: set[str] = set()
    todo = list(current)
    while todo:
        rev_id = todo.pop()
        if rev_id in seen:
            continue
        try:
            rev = script.get_revision(rev_id)
        except CommandError:
            rev = None
        if rev is None:  # a revision the scripts do not know: a newer or foreign database
            return set()
        seen.add(rev_id)
        todo.extend(_as_tuple(rev.down_revision))
        todo.extend(_as_tuple(rev.dependencies))
    return seen
