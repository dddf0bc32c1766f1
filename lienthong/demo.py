"""What ``lienthong demo`` seeds besides the province and its accounts (:mod:`server.demo`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from server.config import Config
from server.db import Database

DemoSeeder = Callable[[Database, Config], Awaitable[str | None]]
"""Seeds a domain's demo data after the demo accounts (idempotent); returns a line to print."""


async def _demo_council_session(db: Database, config: Config) -> str | None:
    from meetings.sessions.demo import TITLE, seed_demo_session

    added = await seed_demo_session(db, config.files_dir)
    return f"Kỳ họp demo{' (mới)' if added else ''}: {TITLE} — /sessions"


async def _demo_briefing(db: Database, config: Config) -> str | None:
    from meetings.briefings.demo import TITLE, seed_demo_briefing

    added = await seed_demo_briefing(db)
    return f"Hội nghị trực tuyến demo{' (mới)' if added else ''}: {TITLE} — /briefings"


async def _demo_pki(db: Database, config: Config) -> str | None:
    from lienthong.demo_pki import seed_demo_pki

    return await seed_demo_pki(db, config)


DEMO_SEEDERS: list[DemoSeeder] = [_demo_council_session, _demo_briefing, _demo_pki]
"""What ``lienthong demo`` seeds besides the province and its accounts, in order."""
