"""A demo briefing for the demo province (``make run``), idempotent.

The provincial chair (``chutich.tinh``) chairs a weekly briefing with the hall of Đông Hoà commune
(``diemcau.donghoa``) and the Department of Home Affairs' director invited, scheduled for the
next Monday at 08:00 (+07:00); the chair can open it at once from ``/briefings``.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, time, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meetings.briefings.models import Briefing
from meetings.briefings.repository import create_briefing_txn
from server.accounts.models import User
from server.db import Database

TITLE = "Giao ban trực tuyến tỉnh – xã"
VIETNAM = timezone(timedelta(hours=7))


def next_monday_8am(now: datetime) -> datetime:
    local = now.astimezone(VIETNAM)
    days = (7 - local.weekday()) % 7 or 7
    start = datetime.combine(local.date() + timedelta(days=days), time(8, 0), VIETNAM)
    return start.astimezone(UTC)


async def seed_demo_briefing(db: Database) -> bool:
    """Create the demo briefing unless it exists or the demo accounts are missing."""

    async def run(session: AsyncSession) -> bool:
        if await session.scalar(select(Briefing.id).where(Briefing.title == TITLE)):
            return False
        chair = await session.scalar(select(User).where(User.login == "chutich.tinh"))
        if chair is None:
            return False
        await create_briefing_txn(
            session,
            title=TITLE,
            starts_at=next_monday_8am(datetime.now(UTC)),
            join_code=secrets.token_urlsafe(12),
            chair_login=chair.login,
            created_by_user_id=chair.id,
            meeting_ref="",
            endpoint_codes=["001.00.11.H99"],
            official_logins=["giamdoc.snv"],
        )
        return True

    return await db.write("demo_briefing", run)
