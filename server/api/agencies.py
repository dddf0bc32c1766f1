"""``/api/v1/agencies``: list, create, import and export the province's agencies."""

from __future__ import annotations

from aiohttp import web

from server.accounts.agencies import (
    AgencyRow,
    check_code,
    list_agencies_txn,
    parse_csv,
    parse_json,
    to_csv,
)
from server.accounts.service import Actor, add_agency, import_agencies
from server.auth.principal import Role, require_principal
from server.errors import ValidationFailed
from server.http.jsonio import field_str, json_ok, read_json_object
from server.http.keys import CONFIG_KEY, DB_KEY
from server.http.openapi import ApiRoutes

routes = ApiRoutes()

AGENCY = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "pattern": r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$"},
        "name": {"type": "string"},
        "parent_code": {"type": ["string", "null"]},
        "level": {"type": "integer", "minimum": 1, "maximum": 9},
    },
    "required": ["code", "name", "level"],
}


@routes.route(
    "GET",
    "/api/v1/agencies",
    summary="Every agency (any logged-in user: the directory is public inside the province)",
    tags=("agencies",),
    response={"type": "array", "items": AGENCY},
)
async def list_agencies(request: web.Request) -> web.Response:
    require_principal(request)
    rows = await request.app[DB_KEY].read("list_agencies", list_agencies_txn)
    if request.query.get("format") == "csv":
        return web.Response(
            text=to_csv(rows),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": 'attachment; filename="agencies.csv"'},
        )
    return json_ok([r.to_json() for r in rows])


@routes.route(
    "POST", "/api/v1/agencies", summary="Create an agency (admin)", tags=("agencies",), body=AGENCY
)
async def create_agency(request: web.Request) -> web.Response:
    p = require_principal(request, Role.ADMIN)
    data = await read_json_object(request)
    level = data.get("level")
    if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 9:
        raise ValidationFailed(
            "level must be 1–9.", detail_vi="Cấp phải là số từ 1 đến 9.", extra={"field": "level"}
        )
    parent = data.get("parent_code")
    row = AgencyRow(
        code=check_code(field_str(data, "code", max_len=32)),
        name=field_str(data, "name", max_len=300).strip(),
        parent_code=check_code(parent) if isinstance(parent, str) and parent else None,
        level=level,
    )

    await add_agency(request.app[DB_KEY], Actor.of(p), row)
    return json_ok(row.to_json(), status=201)


@routes.route(
    "POST",
    "/api/v1/agencies/import",
    summary="Import agencies from CSV (text/csv) or JSON; all rows or none (admin)",
    tags=("agencies",),
    body={"type": "string"},
    content_type="text/csv",
)
async def import_agencies_api(request: web.Request) -> web.Response:
    p = require_principal(request, Role.ADMIN)
    limit = request.app[CONFIG_KEY].http.max_json_bytes * 8
    text = (await request.content.read(limit)).decode("utf-8", errors="replace")
    rows = parse_json(text) if request.content_type == "application/json" else parse_csv(text)

    created, updated = await import_agencies(request.app[DB_KEY], Actor.of(p), rows, "api")
    return json_ok({"created": created, "updated": updated})
