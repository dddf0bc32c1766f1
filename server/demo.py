"""The demo province: agencies and accounts that ``make run`` seeds (idempotent).

The province is fictitious (code group ``H99``) so that nothing here passes for a real agency.
Every demo account has the password :data:`DEMO_PASSWORD`; a real deployment never runs this.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.agencies import AgencyRow, import_rows_txn
from server.accounts.models import User
from server.accounts.passwords import hash_password
from server.accounts.users import create_user_txn
from server.audit.log import append_txn
from server.auth.principal import Role
from server.db import Database

DEMO_PASSWORD = "demo-2026"

PROVINCE = "000.00.00.H99"
OFFICE = "000.00.01.H99"
HOME_AFFAIRS = "000.00.10.H99"
FINANCE = "000.00.11.H99"
COUNCIL = "000.00.40.H99"
DISTRICT_A = "001.00.00.H99"
DISTRICT_B = "002.00.00.H99"

AGENCIES = (
    AgencyRow(PROVINCE, "UBND tỉnh Liên Thông", None, 1),
    AgencyRow(OFFICE, "Văn phòng UBND tỉnh", PROVINCE, 2),
    AgencyRow(HOME_AFFAIRS, "Sở Nội vụ", PROVINCE, 2),
    AgencyRow(FINANCE, "Sở Tài chính", PROVINCE, 2),
    AgencyRow(COUNCIL, "HĐND tỉnh Liên Thông", None, 1),
    AgencyRow(DISTRICT_A, "UBND huyện Đông Sơn", PROVINCE, 2),
    AgencyRow("001.00.11.H99", "UBND xã Đông Hoà", DISTRICT_A, 3),
    AgencyRow("001.00.12.H99", "UBND xã Đông Tiến", DISTRICT_A, 3),
    AgencyRow("001.00.13.H99", "UBND xã Đông Lĩnh", DISTRICT_A, 3),
    AgencyRow(DISTRICT_B, "UBND huyện Tây Hà", PROVINCE, 2),
    AgencyRow("002.00.11.H99", "UBND xã Tây Bình", DISTRICT_B, 3),
    AgencyRow("002.00.12.H99", "UBND xã Tây An", DISTRICT_B, 3),
    AgencyRow("002.00.13.H99", "UBND xã Tây Thạnh", DISTRICT_B, 3),
)


@dataclass(frozen=True, slots=True)
class DemoAccount:
    login: str
    full_name: str
    agency: str
    roles: tuple[Role, ...]


ACCOUNTS = (
    DemoAccount("quantri", "Quản trị hệ thống", OFFICE, (Role.ADMIN,)),
    DemoAccount("vanthu.tinh", "Trần Thị Bình (văn thư)", OFFICE, (Role.CLERK,)),
    DemoAccount("chutich.tinh", "Nguyễn Văn An (Chủ tịch)", PROVINCE, (Role.LEADER,)),
    DemoAccount("vanthu.snv", "Lê Thị Cúc (văn thư)", HOME_AFFAIRS, (Role.CLERK,)),
    DemoAccount("giamdoc.snv", "Phạm Minh Đức (Giám đốc)", HOME_AFFAIRS, (Role.LEADER,)),
    DemoAccount("chuyenvien.snv", "Hoàng Văn Em (chuyên viên)", HOME_AFFAIRS, (Role.OFFICIAL,)),
    DemoAccount("vanthu.dongson", "Đỗ Thị Giang (văn thư)", DISTRICT_A, (Role.CLERK,)),
    DemoAccount("thuky.hdnd", "Vũ Thị Hạnh (thư ký kỳ họp)", COUNCIL, (Role.SECRETARIAT,)),
    DemoAccount("daibieu1", "Đại biểu Ngô Văn Khánh", COUNCIL, (Role.MEMBER,)),
    DemoAccount("daibieu2", "Đại biểu Bùi Thị Lan", COUNCIL, (Role.MEMBER,)),
    DemoAccount("daibieu3", "Đại biểu Đặng Quốc Minh", COUNCIL, (Role.MEMBER,)),
    DemoAccount("diemcau.donghoa", "Điểm cầu xã Đông Hoà", "001.00.11.H99", (Role.ENDPOINT,)),
)


async def seed_demo(db: Database) -> int:
    """Create what is missing of the demo province; returns how many accounts were added."""
    hashed = hash_password(DEMO_PASSWORD)

    async def seed(session: AsyncSession) -> int:
        await import_rows_txn(session, AGENCIES)
        existing = set(await session.scalars(select(User.login)))
        added = 0
        for acc in ACCOUNTS:
            if acc.login in existing:
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
        if added:
            await append_txn(session, "demo.seeded", actor="system", details={"accounts": added})
        return added

    return await db.write("seed_demo", seed)
