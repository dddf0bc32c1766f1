"""Agencies with history: restructuring files (all or nothing, the bad row named), successors
followed through chains at a date, every former name, and the demo province since July 2025."""

import json
from datetime import date
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.agencies import AgencyRow, import_rows_txn, list_agencies_txn
from server.accounts.history import (
    agency_names_txn,
    predecessor_codes_txn,
    resolve_successors_txn,
    tree_at_txn,
)
from server.accounts.models import AgencySuccession
from server.auth.principal import Role
from server.db import Database
from server.demo import seed_demo
from tests.conftest import People, bearer

P = "000.00.00.H97"
A = "001.00.11.H97"  # UBND xã An Phú, merged into M in 2020
B = "001.00.12.H97"  # UBND xã Bình Phú, merged into M in 2020
M = "001.00.21.H97"  # UBND xã Phú Mỹ (2020), renamed R in 2025
R = "001.00.31.H97"  # UBND phường Phú Mỹ (2025)
C = "002.00.10.H97"  # split into S1 and S2 in 2025
S1, S2 = "002.00.11.H97", "002.00.12.H97"

UNITS = [
    AgencyRow(P, "UBND tỉnh Chín Bảy", None, 1),
    AgencyRow(A, "UBND xã An Phú", P, 2, date(2010, 1, 1)),
    AgencyRow(B, "UBND xã Bình Phú", P, 2),
    AgencyRow(M, "UBND xã Phú Mỹ", P, 2, date(2020, 1, 1)),
    AgencyRow(R, "UBND phường Phú Mỹ", P, 2),
    AgencyRow(C, "UBND xã Cẩm Giang", P, 2),
    AgencyRow(S1, "UBND xã Cẩm Bắc", P, 2),
    AgencyRow(S2, "UBND xã Cẩm Nam", P, 2),
]

HEADER = "old_code,new_code,change,effective_date,act,act_date\n"
GOOD = HEADER + (
    f"{A},{M},merged,2020-01-01,1/NQ-TEST,2019-12-01\n"
    f"{B},{M},merged,2020-01-01,1/NQ-TEST,2019-12-01\n"
    f"{M},{R},renamed,2025-07-01,2/NQ-TEST,\n"
    f"{C},{S1},split,2025-07-01,2/NQ-TEST,\n"
    f"{C},{S2},split,2025-07-01,2/NQ-TEST,\n"
)
FIRST_ROW_OK = f"{B},{M},merged,2020-01-01,1/NQ-TEST,\n"

BAD = {
    "unknown code": (HEADER + FIRST_ROW_OK + f"{A},001.00.99.H97,merged,2020-01-01,1/NQ,\n", 2),
    "cycle": (
        HEADER + f"{A},{M},merged,2020-01-01,1/NQ,\n" + f"{M},{A},renamed,2025-07-01,2/NQ,\n",
        2,
    ),
    "date before the code existed": (
        HEADER + FIRST_ROW_OK + f"{M},{R},renamed,2019-06-01,2/NQ,\n",
        2,
    ),
    "two successors for one renamed": (
        HEADER + f"{C},{S1},renamed,2025-07-01,2/NQ,\n" + f"{C},{S2},renamed,2025-07-01,2/NQ,\n",
        2,
    ),
}


@pytest.fixture
async def admin(client: TestClient[Any, Any], people: People, database: Database) -> dict[str, str]:
    await database.write("units", lambda s: import_rows_txn(s, UNITS))
    await people.add("quantri", Role.ADMIN)
    return bearer(await people.token("quantri"))


async def _restructure(client: TestClient[Any, Any], admin: dict[str, str], text: str) -> Any:
    return await client.post(
        "/api/v1/agencies/restructure", data=text, headers={**admin, "Content-Type": "text/csv"}
    )


async def _state(database: Database) -> tuple[list[AgencyRow], int]:
    async def run(session: AsyncSession) -> tuple[list[AgencyRow], int]:
        count = await session.scalar(select(func.count()).select_from(AgencySuccession))
        return await list_agencies_txn(session), int(count or 0)

    return await database.read("state", run)


@pytest.mark.parametrize("case", sorted(BAD))
async def test_a_bad_restructuring_changes_nothing_and_names_the_row(
    client: TestClient[Any, Any], admin: dict[str, str], database: Database, case: str
) -> None:
    text, row = BAD[case]
    before = await _state(database)
    resp = await _restructure(client, admin, text)
    assert resp.status == 422, case
    body = await resp.json()
    assert body["code"] == "agency.restructure_rejected"
    assert body["row"] == row
    assert body["detail"].startswith(f"Row {row}:") and "Nothing was changed" in body["detail"]
    assert body["detail_vi"].startswith(f"Dòng {row}:")
    assert await _state(database) == before


async def test_a_good_restructuring_sets_validity_and_successors_followed_at_a_date(
    client: TestClient[Any, Any], admin: dict[str, str], database: Database
) -> None:
    resp = await _restructure(client, admin, GOOD)
    assert resp.status == 200, await resp.text()
    assert await resp.json() == {"ended": 4, "links": 5}
    rows, links = await _state(database)
    by_code = {r.code: r for r in rows}
    assert by_code[A].valid_to == date(2019, 12, 31)
    assert by_code[M].valid_to == date(2025, 6, 30)
    assert by_code[R].valid_from == date(2025, 7, 1)  # a successor without a start starts then
    assert links == 5

    async def resolve(code: str, on: date) -> list[str]:
        found = await database.read("r", lambda s: resolve_successors_txn(s, code, on))
        return [a.code for a in found]

    assert await resolve(A, date(2019, 6, 1)) == [A]
    assert await resolve(A, date(2021, 1, 1)) == [M]
    assert await resolve(A, date(2025, 7, 1)) == [R]  # merged, then renamed
    assert await resolve(B, date(2026, 1, 1)) == [R]
    assert await resolve(C, date(2025, 7, 1)) == [S1, S2]
    assert await resolve(C, date(2025, 6, 30)) == [C]
    assert await resolve(R, date(2024, 1, 1)) == []  # did not exist yet

    # the same file again changes nothing: an old code's rows are its whole set of successors
    assert (await _restructure(client, admin, GOOD)).status == 200
    assert await _state(database) == (rows, links)

    # any official may ask who receives for a former code
    resp = await client.get(f"/api/v1/agencies/{A}/history?on=2025-08-01", headers=admin)
    assert (await resp.json())["receivers"] == [{"code": R, "name": "UBND phường Phú Mỹ"}]
    resp = await client.get(f"/api/v1/agencies/{A}/history?on=2025-13-01", headers=admin)
    assert resp.status == 422


async def test_agency_names_find_old_and_new_names(
    client: TestClient[Any, Any], admin: dict[str, str], database: Database
) -> None:
    assert (await _restructure(client, admin, GOOD)).status == 200
    names = await database.read("n", lambda s: agency_names_txn(s, R))
    assert names == ["UBND phường Phú Mỹ", "UBND xã Phú Mỹ", "UBND xã An Phú", "UBND xã Bình Phú"]
    assert await database.read("n", lambda s: agency_names_txn(s, A)) == ["UBND xã An Phú"]
    codes = await database.read("c", lambda s: predecessor_codes_txn(s, R))
    assert codes == [R, M, A, B]


async def test_restructuring_is_audited(
    client: TestClient[Any, Any], admin: dict[str, str]
) -> None:
    assert (await _restructure(client, admin, GOOD)).status == 200
    entries = await (await client.get("/api/v1/audit", headers=admin)).json()
    done = [e for e in entries if e["action"] == "agency.restructured"]
    assert done and json.loads(done[0]["details"])["acts"] == ["1/NQ-TEST", "2/NQ-TEST"]


async def test_demo_province_has_history_and_no_live_district(database: Database) -> None:
    await seed_demo(database)
    first = await _state(database)
    assert await seed_demo(database) == 0
    assert await _state(database) == first  # idempotent, history included
    assert first[1] == 9

    def names(nodes: list[Any]) -> list[str]:
        return [n.name for n in nodes] + [x for n in nodes for x in names(n.children)]

    now = names(await database.read("t", lambda s: tree_at_txn(s, date(2025, 7, 1))))
    before = names(await database.read("t", lambda s: tree_at_txn(s, date(2025, 6, 30))))
    assert not [n for n in now if "huyện" in n]
    assert "UBND huyện Đông Sơn" in before and "UBND xã Đông Tiến" in before
    assert "UBND phường Đông Sơn" not in before and "UBND phường Đông Sơn" in now
    found = await database.read(
        "r", lambda s: resolve_successors_txn(s, "001.00.12.H99", date(2026, 1, 1))
    )
    assert [a.code for a in found] == ["001.00.11.H99"]  # Đông Tiến → Xã Đông Hoà
