"""``/api/v1/users``: people and their roles (admin)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from aiohttp import web
from pydantic import Field, StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.service import Actor, add_user, change_roles
from server.accounts.users import list_users_txn, parse_roles
from server.auth.lifecycle import reset_password, set_active
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


class PasswordReset(Body):
    """The password an administrator sets; the person must change it at their next login."""

    password: Annotated[str, StringConstraints(max_length=200)]


class NewRoles(Body):
    """The complete set of roles a person holds from now on."""

    roles: Annotated[list[RoleName], Field(max_length=16)]


@routes.route(
    "GET",
    "/api/v1/users",
    summary="List people, or those whose login, name or agency contains ?q= (admin)",
    tags=("users",),
)
async def list_users(request: web.Request) -> web.Response:
    require_principal(request, Role.ADMIN)
    agency = request.query.get("agency") or None
    q = request.query.get("q", "")[:100]

    async def run(session: AsyncSession) -> list[dict[str, object]]:
        return [asdict(u) for u in await list_users_txn(session, agency, q)]

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


@routes.route(
    "POST",
    "/api/v1/users/{login}/disable",
    summary="Disable an account: its sessions, API tokens and open sockets end at once (admin)",
    tags=("users",),
)
async def disable_user(request: web.Request) -> web.Response:
    p = require_principal(request, Role.ADMIN)
    login = request.match_info["login"]
    ended = await set_active(request.app[DB_KEY], Actor.of(p), login, False)
    request.app[HUB_KEY].drop_user(ended.user_id)
    return json_ok(
        {"login": login, "active": False, "sessions": ended.sessions, "tokens": ended.tokens}
    )


@routes.route(
    "POST", "/api/v1/users/{login}/enable", summary="Re-enable an account (admin)", tags=("users",)
)
async def enable_user(request: web.Request) -> web.Response:
    p = require_principal(request, Role.ADMIN)
    login = request.match_info["login"]
    await set_active(request.app[DB_KEY], Actor.of(p), login, True)
    return json_ok({"login": login, "active": True})


@routes.route(
    "POST",
    "/api/v1/users/{login}/password",
    summary="Reset a person's password; they must change it at next login (admin)",
    tags=("users",),
    body=PasswordReset,
)
async def reset_user_password(request: web.Request) -> web.Response:
    p = require_principal(request, Role.ADMIN)
    body = await read_body(request, PasswordReset)
    login = request.match_info["login"]
    ended = await reset_password(request.app[DB_KEY], Actor.of(p), login, body.password)
    request.app[HUB_KEY].drop_user(ended.user_id)
    return json_ok({"login": login, "must_change_password": True, "sessions": ended.sessions})
