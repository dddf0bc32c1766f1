"""A demo council session for the demo province (``make run``), idempotent.

Uses the demo accounts of :mod:`server.demo` (``thuky.hdnd``, ``daibieu1``…``daibieu3``,
``chutich.tinh``): a session with two sittings, an agenda tree, a 200-page report and a
confidential paper.  ``server/demo.py`` calls :func:`seed_demo_session` after the accounts.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meetings.sessions import repo
from meetings.sessions.models import CouncilSession, Invitation
from meetings.sessions.papers import pdf
from meetings.sessions.papers import repo as papers_repo
from meetings.sessions.papers.sample import sample_pdf
from server.accounts.models import User
from server.db import Database

TITLE = "Kỳ họp thứ 10 HĐND tỉnh Liên Thông khoá XI"
PEOPLE = {
    "daibieu1": "chair",
    "daibieu2": "member",
    "daibieu3": "member",
    "chutich.tinh": "guest",
}


async def seed_demo_session(db: Database, files_dir: Path) -> bool:
    """Create the demo session unless it exists or the demo accounts are missing."""

    async def exists(session: AsyncSession) -> bool:
        found = await session.scalar(select(CouncilSession.id).where(CouncilSession.title == TITLE))
        return found is not None

    if await db.read("demo_session_exists", exists):
        return False
    report = await asyncio.to_thread(
        pdf.check_and_prepare, sample_pdf(200, title="To trinh du toan ngan sach 2027")
    )
    secret = await asyncio.to_thread(pdf.check_and_prepare, sample_pdf(6, title="Bao cao mat"))
    for checked in (report, secret):
        path = files_dir / "papers" / f"{checked.sha256}.pdf"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            await asyncio.to_thread(path.write_bytes, checked.data)

    async def run(session: AsyncSession) -> bool:
        if await session.scalar(select(CouncilSession.id).where(CouncilSession.title == TITLE)):
            return False
        users = {
            u.login: u
            for u in await session.scalars(
                select(User).where(User.login.in_(["thuky.hdnd", *PEOPLE]))
            )
        }
        if "thuky.hdnd" not in users:
            return False
        secretary = users["thuky.hdnd"].id
        cs = await repo.create_session_txn(
            session, title=TITLE, place="Hội trường HĐND tỉnh", starts_on=None, created_by=secretary
        )
        for login, role in PEOPLE.items():
            if login in users:
                session.add(Invitation(session_id=cs.id, user_id=users[login].id, role=role))
        budget = await _agenda_txn(session, cs.id)
        await _papers_txn(session, cs.id, budget, secretary, report, secret)
        return True

    return await db.write("demo_session", run)


async def _agenda_txn(session: AsyncSession, session_id: int) -> int:
    """Two sittings (the first held), the agenda tree; the budget item's id."""
    sitting = await repo.add_sitting_txn(session, session_id, "Phiên khai mạc (sáng)")
    await repo.add_sitting_txn(session, session_id, "Phiên thảo luận (chiều)")
    await repo.start_sitting_txn(session, session_id, sitting.id)
    opening = await repo.add_item_txn(
        session, session_id, title="Khai mạc kỳ họp", description="", parent_id=None
    )
    budget = await repo.add_item_txn(
        session,
        session_id,
        title="Dự toán ngân sách địa phương năm 2027",
        description="Tờ trình của UBND tỉnh, báo cáo thẩm tra của Ban Kinh tế - Ngân sách",
        parent_id=None,
    )
    await repo.add_item_txn(
        session, session_id, title="Thảo luận tại hội trường", description="", parent_id=budget.id
    )
    await repo.set_current_item_txn(session, session_id, opening.id)
    return budget.id


async def _papers_txn(
    session: AsyncSession,
    session_id: int,
    item_id: int,
    secretary: int,
    report: pdf.CheckedPdf,
    secret: pdf.CheckedPdf,
) -> None:
    """The 200-page report for everyone, the confidential paper for the chair only."""
    for checked, title, confidential in (
        (report, "Tờ trình dự toán ngân sách 2027 (200 trang)", False),
        (secret, "Báo cáo tình hình an ninh (mật)", True),
    ):
        paper = await papers_repo.create_paper_txn(
            session,
            session_id=session_id,
            item_id=item_id,
            title=title,
            confidential=confidential,
            allow_download=not confidential,
            allow_print=not confidential,
            created_by=secretary,
        )
        await papers_repo.add_version_txn(
            session, paper, checked, filename="to-trinh.pdf", note="", by=secretary
        )
        if confidential:
            await papers_repo.set_readers_txn(session, paper.id, ["daibieu1"])
