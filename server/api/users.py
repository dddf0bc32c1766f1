"""``/api/v1/users``: people and their roles (admin)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from aiohttp import web
from pydantic import Field, StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.service import Actor, add_user, change_roles
from server.accounts.users import list_users_txn, parse_roles
from server.auth.principal import Role, require_principal
from server.http.body import Body, read_body
from server.http.jsonio import json_ok
from server.http.keys import DB_KEY
from server.http.openapi import ApiRoutes
from server.realtime import HUB_KEY

routes = ApiRoutes()

RoleName = Annotated[str, StringConstraints(max_length=32)]


class NewUser(Body):
    """A person to add: login, agency, roles and, optionally, a first password."""

    login: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    full_name: Annotated[str, StringConstraints(max_length=200)] = ""
    agency_code: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)
    ]
    roles: Annotated[list[RoleName], Field(max_length=16)]
    password: Annotated[str, StringConstraints(max_length=200)] | None = None


class NewRoles(Body):
    """The complete set of roles a person holds from now on."""

    roles: Annotated[list[RoleName], Field(max_length=16)]


@routes.route("GET", "/api/v1/users", summary="List people (admin)", tags=("users",))
async def list_users(request: web.Request) -> web.Response:
    require_principal(request, Role.ADMIN)
    agency = request.query.get("agency") or None

    async def run(session: AsyncSession) -> list[dict[str, object]]:
        return [asdict(u) for u in await list_users_txn(session, agency)]

    return json_ok(await request.app[DB_KEY].read("list_users", run))


@routes.route(
    "POST", "/api/v1/users", summary="Add a person (admin)", tags=("users",), body=NewUser
)
async def create_user(request: web.Request) -> web.Response:
    p = require_principal(request, Role.ADMIN)
    body = await read_body(request, NewUser)
    user_id = await add_user(
        request.app[DB_KEY],
        Actor.of(p),
        login=body.login,
        full_name=body.full_name,
        agency_code=body.agency_code,
        roles=parse_roles(body.roles),
        password=body.password,
    )
    return json_ok({"id": user_id, "login": body.login.lower()}, status=201)


@routes.route(
    "PUT",
    "/api/v1/users/{login}/roles",
    summary="Replace a person's roles (admin)",
    tags=("users",),
    body=NewRoles,
)
async def put_roles(request: web.Request) -> web.Response:
    p = require_principal(request, Role.ADMIN)
    roles = parse_roles((await read_body(request, NewRoles)).roles)
    login = request.match_info["login"]
    user_id = await change_roles(request.app[DB_KEY], Actor.of(p), login, roles)
    # open sockets keep the roles they connected with: drop them so they re-authorise
    request.app[HUB_KEY].drop_user(user_id)
    return json_ok({"login": login, "roles": sorted(r.value for r in roles)})
