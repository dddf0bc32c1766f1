"""``/api/v1/agencies``: list, create, import and export the province's agencies."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated

from aiohttp import web
from pydantic import Field, StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.agencies import (
    AgencyRow,
    check_code,
    list_agencies_txn,
    parse_csv,
    parse_json,
    to_csv,
)
from server.accounts.history import (
    agency_names_txn,
    predecessor_codes_txn,
    resolve_successors_txn,
    tree_at_txn,
)
from server.accounts.restructure import parse_restructure_csv, parse_restructure_json
from server.accounts.service import Actor, add_agency, import_agencies, restructure_agencies
from server.auth.principal import Role, require_principal
from server.errors import ValidationFailed
from server.http.body import Body, read_body
from server.http.jsonio import json_ok
from server.http.keys import CONFIG_KEY, DB_KEY
from server.http.openapi import ApiRoutes
from server.vntime import today_vn


class NewAgency(Body):
    """An agency with its Decision 20 code, under an existing parent (or at the top)."""

    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    parent_code: Annotated[str, StringConstraints(max_length=32)] | None = None
    level: Annotated[int, Field(ge=1, le=9)]


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
    summary="Every agency, or those whose name or code contains ?q= (any diacritics, tone "
    "placement or case); any logged-in user: the directory is public inside the province",
    tags=("agencies",),
    response={"type": "array", "items": AGENCY},
)
async def list_agencies(request: web.Request) -> web.Response:
    require_principal(request)
    q = request.query.get("q", "")[:100]

    async def run(session: AsyncSession) -> list[AgencyRow]:
        return await list_agencies_txn(session, q)

    rows = await request.app[DB_KEY].read("list_agencies", run)
    if request.query.get("format") == "csv":
        return web.Response(
            text=to_csv(rows),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": 'attachment; filename="agencies.csv"'},
        )
    return json_ok([r.to_json() for r in rows])


@routes.route(
    "POST",
    "/api/v1/agencies",
    summary="Create an agency (admin)",
    tags=("agencies",),
    body=NewAgency,
)
async def create_agency(request: web.Request) -> web.Response:
    p = require_principal(request, Role.ADMIN)
    body = await read_body(request, NewAgency)
    row = AgencyRow(
        code=check_code(body.code),
        name=body.name,
        parent_code=check_code(body.parent_code) if body.parent_code else None,
        level=body.level,
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


def query_date(request: web.Request, name: str = "on") -> date:
    """``?on=YYYY-MM-DD`` (today when absent); 422 naming the parameter when malformed."""
    text = request.query.get(name, "")
    if not text:
        return today_vn()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            f"Parameter {name!r} must be a date YYYY-MM-DD.",
            detail_vi=f"Tham số {name!r} phải là ngày dạng YYYY-MM-DD.",
            extra={"field": name},
        ) from None


@routes.route(
    "POST",
    "/api/v1/agencies/restructure",
    summary="Apply a restructuring (CSV old_code,new_code,change,effective_date,act or JSON); "
    "all rows or none, a bad row named (admin)",
    tags=("agencies",),
    body={"type": "string"},
    content_type="text/csv",
)
async def restructure_api(request: web.Request) -> web.Response:
    p = require_principal(request, Role.ADMIN)
    limit = request.app[CONFIG_KEY].http.max_json_bytes * 8
    text = (await request.content.read(limit)).decode("utf-8", errors="replace")
    if request.content_type == "application/json":
        rows = parse_restructure_json(text)
    else:
        rows = parse_restructure_csv(text)
    done = await restructure_agencies(request.app[DB_KEY], Actor.of(p), rows, "api")
    return json_ok({"ended": done.ended, "links": done.links})


@routes.route(
    "GET",
    "/api/v1/agencies/tree",
    summary="The agencies valid on ?on=YYYY-MM-DD (default today) as a tree, with their history",
    tags=("agencies",),
)
async def agency_tree(request: web.Request) -> web.Response:
    require_principal(request)
    on = query_date(request)
    roots = await request.app[DB_KEY].read("agency_tree", lambda s: tree_at_txn(s, on))
    return json_ok({"on": on.isoformat(), "agencies": [asdict(r) for r in roots]})


@routes.route(
    "GET",
    "/api/v1/agencies/{code}/history",
    summary="Who receives for a code on ?on= (its successors once it ended), its former names "
    "and predecessor codes",
    tags=("agencies",),
)
async def agency_history(request: web.Request) -> web.Response:
    require_principal(request)
    code = check_code(request.match_info["code"])
    on = query_date(request)

    async def run(session: AsyncSession) -> dict[str, object]:
        successors = await resolve_successors_txn(session, code, on)
        return {
            "code": code,
            "on": on.isoformat(),
            "receivers": [{"code": a.code, "name": a.name} for a in successors],
            "names": await agency_names_txn(session, code),
            "predecessor_codes": (await predecessor_codes_txn(session, code))[1:],
        }

    return json_ok(await request.app[DB_KEY].read("agency_history", run))
