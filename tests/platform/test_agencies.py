import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.agencies import (
    check_code,
    import_rows_txn,
    list_agencies_txn,
    parse_csv,
    parse_json,
    to_csv,
)
from server.accounts.errors import BadAgencyCode, ImportRejected
from server.accounts.models import Agency
from server.auth.principal import Role
from server.db import Database
from tests.conftest import People, bearer

GOOD_CSV = """code,name,parent_code,level
001.00.11.H97,UBND xã Một,001.00.00.H97,3
001.00.00.H97,UBND huyện Một,000.00.00.H97,2
000.00.00.H97,UBND tỉnh Chín Bảy,,1
"""


@pytest.mark.parametrize("code", ["000.00.00.H30", "001.00.10.H47", "000.00.04.G14"])
def test_valid_codes(code: str) -> None:
    assert check_code(f" {code} ") == code


@pytest.mark.parametrize(
    "code", ["", "000.00.00.h30", "00.00.00.H30", "000-00-00-H30", "000.00.00.H3", "000.00.00.30"]
)
def test_bad_codes(code: str) -> None:
    with pytest.raises(BadAgencyCode) as info:
        check_code(code)
    assert "XXX.YY.ZZ.Lnn" in info.value.detail_vi


async def _count(db: Database) -> int:
    async def run(session: AsyncSession) -> int:
        return int(await session.scalar(select(func.count()).select_from(Agency)) or 0)

    return await db.read("count", run)


async def test_import_csv_children_before_parents(database: Database) -> None:
    rows = parse_csv(GOOD_CSV)

    async def run(session: AsyncSession) -> tuple[int, int]:
        return await import_rows_txn(session, rows)

    assert await database.write("import", run) == (3, 0)
    listed = await database.read("list", list_agencies_txn)
    by_code = {r.code: r for r in listed}
    assert by_code["001.00.11.H97"].parent_code == "001.00.00.H97"
    assert by_code["001.00.00.H97"].parent_code == "000.00.00.H97"
    # importing the export again changes nothing but counts updates
    again = parse_csv(to_csv(listed))
    assert await database.write("import", lambda s: import_rows_txn(s, again)) == (0, 3)


@pytest.mark.parametrize(
    ("text", "row"),
    [
        (GOOD_CSV + "999.9.99.H97,Sai mã,,2\n", 4),
        (GOOD_CSV + "002.00.00.H97,,000.00.00.H97,2\n", 4),
        (GOOD_CSV + "002.00.00.H97,Không cấp,000.00.00.H97,cao\n", 4),
        (GOOD_CSV + "002.00.00.H97,Cha lạ,123.00.00.H97,2\n", 4),
        (GOOD_CSV + "001.00.11.H97,Trùng,001.00.00.H97,3\n", 4),
        ("id,name\n1,x\n", 0),
    ],
)
async def test_import_with_a_bad_row_imports_nothing(
    database: Database, text: str, row: int
) -> None:
    with pytest.raises(ImportRejected) as info:
        rows = parse_csv(text)
        await database.write("import", lambda s: import_rows_txn(s, rows))
    assert info.value.extra["row"] == row
    assert "Không có dữ liệu nào được nhập" in info.value.detail_vi or row == 0
    assert await _count(database) == 0


def test_json_import_parses_and_rejects() -> None:
    rows = parse_json(json.dumps([{"code": "000.00.00.H97", "name": "Tỉnh", "level": 1}]))
    assert rows[0].parent_code is None
    with pytest.raises(ImportRejected):
        parse_json("{not json")
    with pytest.raises(ImportRejected) as info:
        parse_json(json.dumps([{"code": "000.00.00.H97", "name": "Tỉnh", "level": 1}, "x"]))
    assert info.value.extra["row"] == 2


async def test_api_agencies(client: TestClient[Any, Any], people: People) -> None:
    await people.add("admin1", Role.ADMIN)
    await people.add("clerk1", Role.CLERK)
    admin = bearer(await people.token("admin1"))
    clerk = bearer(await people.token("clerk1"))

    resp = await client.get("/api/v1/agencies", headers=clerk)
    assert resp.status == 200
    assert {a["code"] for a in await resp.json()} >= {"000.00.10.H98"}

    new = {"code": "000.00.12.H98", "name": "Sở Y tế", "parent_code": "000.00.00.H98", "level": 2}
    resp = await client.post("/api/v1/agencies", json=new, headers=clerk)
    assert resp.status == 403
    assert resp.content_type == "application/problem+json"
    resp = await client.post("/api/v1/agencies", json=new, headers=admin)
    assert resp.status == 201
    resp = await client.post("/api/v1/agencies", json=new, headers=admin)
    assert resp.status == 409
    resp = await client.post("/api/v1/agencies", json={**new, "code": "12.3"}, headers=admin)
    assert resp.status == 422
    assert (await resp.json())["code"] == "agency.bad_code"
    resp = await client.post(
        "/api/v1/agencies",
        json={**new, "code": "000.00.13.H98", "parent_code": "000.00.99.H98"},
        headers=admin,
    )
    assert resp.status == 404

    bad = "code,name,parent_code,level\n000.00.14.H98,Sở A,000.00.00.H98,2\nxx,Sở B,,2\n"
    resp = await client.post(
        "/api/v1/agencies/import", data=bad, headers={**admin, "Content-Type": "text/csv"}
    )
    assert resp.status == 422
    body = await resp.json()
    assert body["row"] == 2
    resp = await client.get("/api/v1/agencies?format=csv", headers=admin)
    assert "000.00.14.H98" not in await resp.text()
