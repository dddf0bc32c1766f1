"""The demo province as it is since 1 July 2025: agencies, their history and accounts that
``make run`` seeds (idempotent).

Two tiers of local government: the province (its People's Committee and Office, three
departments, the People's Council) and eight communes and wards directly under it.  Four of
them are the result of the 2025 reorganisation under a fictitious resolution
(:data:`ACT`); the former communes and the two former districts are loaded as ended units with
their successions, so the admin tree at 30 June 2025 shows the old three-tier province.

The province is fictitious (code group ``H99``) so that nothing here passes for a real agency.
Every demo account has the password :data:`DEMO_PASSWORD`; a real deployment never runs this.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.agencies import AgencyRow, get_agency_txn, import_rows_txn
from server.accounts.models import User
from server.accounts.passwords import hash_password
from server.accounts.restructure import Change, RestructureRow, restructure_txn
from server.accounts.users import create_user_txn
from server.audit.log import append_txn
from server.auth.principal import Role
from server.db import Database

DEMO_PASSWORD = "demo-2026"

REFORM = date(2025, 7, 1)
"""The day the two-tier local government took effect."""
BEFORE = date(2025, 6, 30)
ACT = "9999/NQ-UBTVQH15"
"""A fictitious resolution number (hư cấu) for the demo's reorganisation."""
ACT_DATE = date(2025, 6, 16)

PROVINCE = "000.00.00.H99"
OFFICE = "000.00.01.H99"
HOME_AFFAIRS = "000.00.10.H99"
FINANCE = "000.00.11.H99"
SCIENCE = "000.00.12.H99"
COUNCIL = "000.00.40.H99"

DONG_HOA = "001.00.11.H99"
"""Xã Đông Hoà (merged 2025), the demo briefing's endpoint."""
DONG_SON_WARD = "001.00.14.H99"
TAY_HA = "002.00.15.H99"
TAY_THANH_WARD = "002.00.16.H99"

FORMER_DISTRICT_A = "001.00.00.H99"
FORMER_DISTRICT_B = "002.00.00.H99"

SIGNING_AGENCY = PROVINCE
"""Where the demo clerk ``vanthu.tinh`` and the chair ``chutich.tinh`` work together: the chair
signs, the clerk seals with UBND tỉnh's seal (the draft → sign journey needs one agency)."""

LIVE = (
    AgencyRow(PROVINCE, "UBND tỉnh Liên Thông", None, 1),
    AgencyRow(OFFICE, "Văn phòng UBND tỉnh", PROVINCE, 2),
    AgencyRow(HOME_AFFAIRS, "Sở Nội vụ", PROVINCE, 2),
    AgencyRow(FINANCE, "Sở Tài chính", PROVINCE, 2),
    AgencyRow(SCIENCE, "Sở Khoa học và Công nghệ", PROVINCE, 2),
    AgencyRow(COUNCIL, "HĐND tỉnh Liên Thông", None, 1),
    AgencyRow(DONG_HOA, "UBND xã Đông Hoà", PROVINCE, 2, REFORM),
    AgencyRow(DONG_SON_WARD, "UBND phường Đông Sơn", PROVINCE, 2, REFORM),
    AgencyRow(TAY_HA, "UBND xã Tây Hà", PROVINCE, 2, REFORM),
    AgencyRow(TAY_THANH_WARD, "UBND phường Tây Thạnh", PROVINCE, 2, REFORM),
    AgencyRow("003.00.11.H99", "UBND xã Bắc Lương", PROVINCE, 2, REFORM),
    AgencyRow("003.00.12.H99", "UBND xã Nam Giang", PROVINCE, 2, REFORM),
    AgencyRow("004.00.11.H99", "UBND phường Trung Tâm", PROVINCE, 2, REFORM),
    AgencyRow("004.00.12.H99", "UBND xã Hải Thịnh", PROVINCE, 2, REFORM),
)
"""The province as it is now: no district."""


def _former(code: str, name: str, parent: str | None, level: int) -> AgencyRow:
    return AgencyRow(code, name, parent, level, None, BEFORE)


FORMER = (
    _former(FORMER_DISTRICT_A, "UBND huyện Đông Sơn", PROVINCE, 2),
    _former("001.00.01.H99", "UBND thị trấn Đông Sơn", FORMER_DISTRICT_A, 3),
    _former("001.00.10.H99", "UBND xã Đông Hoà", FORMER_DISTRICT_A, 3),
    _former("001.00.12.H99", "UBND xã Đông Tiến", FORMER_DISTRICT_A, 3),
    _former("001.00.13.H99", "UBND xã Đông Lĩnh", FORMER_DISTRICT_A, 3),
    _former(FORMER_DISTRICT_B, "UBND huyện Tây Hà", PROVINCE, 2),
    _former("002.00.11.H99", "UBND xã Tây Bình", FORMER_DISTRICT_B, 3),
    _former("002.00.12.H99", "UBND xã Tây An", FORMER_DISTRICT_B, 3),
    _former("002.00.13.H99", "UBND xã Tây Thạnh", FORMER_DISTRICT_B, 3),
)
"""Units that ended on 30 June 2025, kept so their history stays visible."""

AGENCIES = LIVE + FORMER


def _change(n: int, old: str, new: str | None, change: Change) -> RestructureRow:
    return RestructureRow(n, old, new, change, REFORM, ACT, ACT_DATE)


RESTRUCTURING = (
    _change(1, "001.00.10.H99", DONG_HOA, Change.MERGED),
    _change(2, "001.00.12.H99", DONG_HOA, Change.MERGED),
    _change(3, "001.00.01.H99", DONG_SON_WARD, Change.MERGED),
    _change(4, "001.00.13.H99", DONG_SON_WARD, Change.MERGED),
    _change(5, "002.00.11.H99", TAY_HA, Change.MERGED),
    _change(6, "002.00.12.H99", TAY_HA, Change.MERGED),
    _change(7, "002.00.13.H99", TAY_THANH_WARD, Change.RENAMED),
    _change(8, FORMER_DISTRICT_A, None, Change.DISSOLVED),
    _change(9, FORMER_DISTRICT_B, None, Change.DISSOLVED),
)
"""The 2025 reorganisation as a restructuring file would state it."""


@dataclass(frozen=True, slots=True)
class DemoAccount:
    login: str
    full_name: str
    agency: str
    roles: tuple[Role, ...]


ACCOUNTS = (
    DemoAccount("quantri", "Quản trị hệ thống", OFFICE, (Role.ADMIN,)),
    DemoAccount("vanthu.tinh", "Trần Thị Bình (văn thư)", SIGNING_AGENCY, (Role.CLERK,)),
    DemoAccount("chutich.tinh", "Nguyễn Văn An (Chủ tịch)", SIGNING_AGENCY, (Role.LEADER,)),
    DemoAccount("vanthu.snv", "Lê Thị Cúc (văn thư)", HOME_AFFAIRS, (Role.CLERK,)),
    DemoAccount("giamdoc.snv", "Phạm Minh Đức (Giám đốc)", HOME_AFFAIRS, (Role.LEADER,)),
    DemoAccount("chuyenvien.snv", "Hoàng Văn Em (chuyên viên)", HOME_AFFAIRS, (Role.OFFICIAL,)),
    DemoAccount("vanthu.dongson", "Đỗ Thị Giang (văn thư)", DONG_SON_WARD, (Role.CLERK,)),
    DemoAccount("thuky.hdnd", "Vũ Thị Hạnh (thư ký kỳ họp)", COUNCIL, (Role.SECRETARIAT,)),
    DemoAccount("daibieu1", "Đại biểu Ngô Văn Khánh", COUNCIL, (Role.MEMBER,)),
    DemoAccount("daibieu2", "Đại biểu Bùi Thị Lan", COUNCIL, (Role.MEMBER,)),
    DemoAccount("daibieu3", "Đại biểu Đặng Quốc Minh", COUNCIL, (Role.MEMBER,)),
    DemoAccount("diemcau.donghoa", "Điểm cầu xã Đông Hoà", DONG_HOA, (Role.ENDPOINT,)),
)


async def _seed_accounts_txn(session: AsyncSession, hashed: str) -> int:
    """Create missing demo accounts; move existing ones to their agency (an older demo database
    had district accounts).  Returns how many were created."""
    existing = {u.login: u for u in await session.scalars(select(User))}
    added = 0
    for acc in ACCOUNTS:
        user = existing.get(acc.login)
        if user is not None:
            user.agency_id = (await get_agency_txn(session, acc.agency)).id
            continue
        await create_user_txn(
            session,
            login=acc.login,
            full_name=acc.full_name,
            agency_code=acc.agency,
            roles=frozenset(acc.roles),
            password_hash=hashed,
        )
        added += 1
    return added


async def seed_demo(db: Database) -> int:
    """Create what is missing of the demo province; returns how many accounts were added."""
    hashed = hash_password(DEMO_PASSWORD)

    async def seed(session: AsyncSession) -> int:
        await import_rows_txn(session, AGENCIES)
        await restructure_txn(session, RESTRUCTURING)
        added = await _seed_accounts_txn(session, hashed)
        if added:
            await append_txn(session, "demo.seeded", actor="system", details={"accounts": added})
        return added

    return await db.write("seed_demo", seed)
