"""Vietnamese-aware search: the one fold (server.search), and the agencies' and people's search
through the API and the admin pages, on SQLite and PostgreSQL."""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.agencies import AgencyRow, import_rows_txn
from server.accounts.models import Agency, User
from server.auth.principal import Role
from server.db import Database
from server.search import find, fold, fold_with_map
from tests.conftest import PROVINCE, People, bearer
from tests.platform.test_auth import HTML, login


def NFD(text: str) -> str:
    return unicodedata.normalize("NFD", text)


FOLDS = [
    ("ngân sách", "ngan sach"),
    ("NGÂN SÁCH", "ngan sach"),
    ("Ngan Sach", "ngan sach"),
    ("thủy lợi", "thuy loi"),  # tone on the y (the new placement)
    ("thuỷ lợi", "thuy loi"),  # tone on the u... the old placement: the same fold
    ("hòa", "hoa"),
    ("hoà", "hoa"),
    ("khỏe", "khoe"),
    ("khoẻ", "khoe"),
    ("quý", "quy"),
    ("qúy", "quy"),
    ("Đà Nẵng", "da nang"),
    ("đường ĐÊ", "duong de"),
    ("Ưu tiên Ở", "uu tien o"),
    (NFD("Thuỷ lợi Đồng Nai"), "thuy loi dong nai"),  # decomposed input folds the same
    ("  nhiều\t khoảng \n trắng  ", "nhieu khoang trang"),
    ("Straße", "strasse"),
    ("", ""),
]


@pytest.mark.parametrize(("text", "folded"), FOLDS)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded
    assert fold(unicodedata.normalize("NFC", text)) == folded
    mapped, where = fold_with_map(text)
    assert mapped == folded and len(where) == len(folded)


@pytest.mark.parametrize(
    ("text", "query", "found"),
    [
        ("Dự toán ngan sach tỉnh", "ngân sách", "ngan sach"),
        ("Công trình thủy lợi năm 2027", "thuy loi", "thủy lợi"),
        ("Công trình thuỷ lợi năm 2027", "THỦY LỢI", "thuỷ lợi"),
        (NFD("Công trình thuỷ lợi"), "thuy loi", NFD("thuỷ lợi")),
        ("Về  việc   đê điều", "viec de", "việc   đê"),
        ("Bảo vệ sức khoẻ", "khỏe", "khoẻ"),
    ],
)
def test_find_maps_back_to_the_words_as_written(text: str, query: str, found: str) -> None:
    hit = find(text, query)
    assert hit is not None and text[hit[0] : hit[1]] == found


def test_find_misses() -> None:
    assert find("ngân sách", "ngan sac h") is None
    assert find("ngân sách", "   ") is None
    assert find("ma", "mà x") is None


async def _more_agencies(db: Database) -> None:
    rows = [
        AgencyRow("000.00.21.H98", "Sở Nông nghiệp và Phát triển nông thôn", PROVINCE, 2),
        AgencyRow("000.00.22.H98", "Chi cục Thuỷ lợi", PROVINCE, 2),
        AgencyRow("000.00.23.H98", "UBND xã Hoà Bình", PROVINCE, 2),
        AgencyRow("000.00.24.H98", "Ban Quản lý dự án Đầu tư", PROVINCE, 2),
    ]

    async def run(session: AsyncSession) -> None:
        await import_rows_txn(session, rows)

    await db.write("more_agencies", run)


async def test_agencies_api_search(
    client: TestClient[Any, Any], people: People, database: Database
) -> None:
    await _more_agencies(database)
    await people.add("vt", Role.CLERK)
    h = bearer(await people.token("vt"))

    async def codes(q: str) -> list[str]:
        resp = await client.get("/api/v1/agencies?q=" + quote(q), headers=h)
        assert resp.status == 200
        return [a["code"] for a in await resp.json()]

    for q in ("thuy loi", "THỦY LỢI", "thuỷ lợi", "Thủy"):
        assert await codes(q) == ["000.00.22.H98"], q
    for q in ("hòa bình", "hoa binh", "HOÀ"):
        assert await codes(q) == ["000.00.23.H98"], q
    assert await codes("dau tu") == ["000.00.24.H98"]
    assert await codes("đầu tư") == ["000.00.24.H98"]
    assert await codes("00.24.h98") == ["000.00.24.H98"]  # by code, any case
    assert await codes("%") == [] and await codes("_") == []  # LIKE wildcards are literal
    assert len(await codes("")) == 7  # no query: every agency


async def test_renamed_agency_and_person_stay_findable(
    database: Database, people: People, client: TestClient[Any, Any]
) -> None:
    """The folded columns follow a rename (the ORM hook), not only the first insert."""
    await people.add("admin", Role.ADMIN)
    await people.add("nv", Role.CLERK, name="Nguyễn Văn An")
    h = bearer(await people.token("admin"))

    async def rename(session: AsyncSession) -> None:
        agency = await session.scalar(select(Agency).where(Agency.code == PROVINCE))
        user = await session.scalar(select(User).where(User.login == "nv"))
        assert agency is not None and user is not None
        agency.name, user.full_name = "UBND tỉnh Đắk Lắk", "Đỗ Thị Thuý"

    await database.write("rename", rename)
    resp = await client.get("/api/v1/agencies?q=dak lak", headers=h)
    assert [a["code"] for a in await resp.json()] == [PROVINCE]
    resp = await client.get("/api/v1/users?q=" + quote("do thi thúy"), headers=h)
    assert [u["login"] for u in await resp.json()] == ["nv"]
    resp = await client.get("/api/v1/users?q=nguyen", headers=h)
    assert await resp.json() == []


async def test_users_api_and_admin_pages_search(
    client: TestClient[Any, Any], people: People, database: Database
) -> None:
    await _more_agencies(database)
    await people.add("admin", Role.ADMIN, name="Quản trị")
    await people.add("thuy.nt", Role.CLERK, name="Nguyễn Thị Thuỷ")
    await people.add("hoa.lv", Role.CLERK, name="Lê Văn Hòa", agency="000.00.22.H98")
    await people.add("khoe.pt", Role.CLERK, name="Phạm Thị Khỏe")
    h = bearer(await people.token("admin"))

    async def logins(q: str) -> set[str]:
        resp = await client.get("/api/v1/users?q=" + quote(q), headers=h)
        assert resp.status == 200
        return {u["login"] for u in await resp.json()}

    assert await logins("nguyen thi thuy") == {"thuy.nt"}
    assert await logins("NGUYỄN THỊ THỦY") == {"thuy.nt"}
    assert await logins("hoà") == {"hoa.lv"}
    assert await logins("khoẻ") == {"khoe.pt"}
    assert await logins("thuy") == {"thuy.nt", "hoa.lv"}  # hoa.lv works at "Chi cục Thuỷ lợi"
    assert await logins("THUY.NT") == {"thuy.nt"}
    assert await logins("") == {"admin", "thuy.nt", "hoa.lv", "khoe.pt"}

    # the admin pages take the same ?q= (logged in with the browser's cookie)
    assert (await login(client, "admin")).status == 302
    page = await (await client.get("/admin/users?q=" + quote("le van hoa"), headers=HTML)).text()
    assert "hoa.lv" in page and "thuy.nt" not in page
    url = "/admin/agencies?q=" + quote("thủy lợi")
    page = await (await client.get(url, headers=HTML)).text()
    assert 'data-testid="agency-000.00.22.H98"' in page
    assert 'data-testid="agency-000.00.23.H98"' not in page
    # the match's ancestors stay, so the tree reads as a tree
    assert f'data-testid="agency-{PROVINCE}"' in page


async def test_migrations_backfill_the_folded_columns(database_url: str) -> None:
    """Rows written before the folded columns existed are found after the upgrade."""
    import datetime as dt

    import sqlalchemy as sa

    from lienthong.migrations import MIGRATION_DIRS
    from server.db.migrate import downgrade, upgrade

    downgrade(database_url, "0004_platform_user_certificates", MIGRATION_DIRS)
    downgrade(database_url, "0006_documents_envelope_sig", MIGRATION_DIRS)
    now = dt.datetime.now(dt.UTC)
    db = Database(database_url)
    async with db.engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO agencies (id, code, name, level, created_at)"
                " VALUES (1, '000.00.00.H98', 'UBND tỉnh Khánh Hoà', 1, :now)"
            ),
            {"now": now},
        )
        await conn.execute(
            sa.text(
                "INSERT INTO users (login, full_name, agency_id, is_active,"
                " must_change_password, created_at)"
                " VALUES ('thuy', 'Trần Thị Thuỷ', 1, true, false, :now)"
            ),
            {"now": now},
        )
        await conn.execute(
            sa.text(
                "INSERT INTO doc_files (sha256, size, media_type, page_count, created_at)"
                " VALUES (:h, 1, 'application/pdf', 1, :now)"
            ),
            {"h": "a" * 64, "now": now},
        )
        await conn.execute(
            sa.text(
                "INSERT INTO documents (public_id, sender_code, sender_name, number, notation,"
                " doc_type, subject, place, signer_name, signer_position, urgency,"
                " confidentiality, main_sha256, main_name, state, business_type, created_at,"
                " signature_summary)"
                " VALUES ('p1', '000.00.00.H98', '', '12', 'UBND-KT', '',"
                " 'Về công trình thủy lợi Đá Bàn', '', '', '', 1, 0, :h, 'a.pdf', 'sent', 0,"
                " :now, '')"
            ),
            {"h": "a" * 64, "now": now},
        )
    await db.close()
    upgrade(database_url, MIGRATION_DIRS)
    db = Database(database_url)
    async with db.engine.connect() as conn:
        agency = await conn.scalar(sa.text("SELECT name_folded FROM agencies"))
        user = await conn.scalar(sa.text("SELECT search_folded FROM users"))
        doc = await conn.scalar(sa.text("SELECT search_folded FROM documents"))
    await db.close()
    assert agency == "ubnd tinh khanh hoa"
    assert user == "thuy\ntran thi thuy"
    assert doc == "12\nubnd-kt\nve cong trinh thuy loi da ban"
