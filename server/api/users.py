"""``/api/v1/users``: people and their roles (admin)."""

from __future__ import annotations

from dataclasses import asdict

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.service import Actor, add_user, change_roles
from server.accounts.users import list_users_txn, parse_roles
from server.auth.principal import Role, require_principal
from server.errors import ValidationFailed
from server.http.jsonio import field_str, json_ok, read_json_object
from server.http.keys import DB_KEY
from server.http.openapi import ApiRoutes
from server.realtime import HUB_KEY

routes = ApiRoutes()

ROLES_SCHEMA = {"type": "array", "items": {"type": "string", "enum": [r.value for r in Role]}}
NEW_USER = {
    "type": "object",
    "properties": {
        "login": {"type": "string"},
        "full_name": {"type": "string"},
        "agency_code": {"type": "string"},
        "roles": ROLES_SCHEMA,
        "password": {"type": "string", "minLength": 8},
    },
    "required": ["login", "agency_code", "roles"],
}


def _roles_field(data: dict[str, object]) -> frozenset[Role]:
    roles = data.get("roles")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise ValidationFailed(
            "roles must be a list of role names.",
            detail_vi="Vai trò phải là danh sách tên vai trò.",
            extra={"field": "roles"},
        )
    return parse_roles(str(r) for r in roles)


@routes.route("GET", "/api/v1/users", summary="List people (admin)", tags=("users",))
async def list_users(request: web.Request) -> web.Response:
    require_principal(request, Role.ADMIN)
    agency = request.query.get("agency") or None

    async def run(session: AsyncSession) -> list[dict[str, object]]:
        return [asdict(u) for u in await list_users_txn(session, agency)]

    return json_ok(await request.app[DB_KEY].read("list_users", run))


@routes.route(
    "POST", "/api/v1/users", summary="Add a person (admin)", tags=("users",), body=NEW_USER
)
async def create_user(request: web.Request) -> web.Response:
    p = require_principal(request, Role.ADMIN)
    data = await read_json_object(request)
    roles = _roles_field(data)
    password = data.get("password")
    if password is not None and not isinstance(password, str):
        raise ValidationFailed("password must be a string.", detail_vi="Mật khẩu không hợp lệ.")
    login = field_str(data, "login", max_len=64)
    user_id = await add_user(
        request.app[DB_KEY],
        Actor.of(p),
        login=login,
        full_name=field_str(data, "full_name", required=False, max_len=200),
        agency_code=field_str(data, "agency_code", max_len=32),
        roles=roles,
        password=password,
    )
    return json_ok({"id": user_id, "login": login.strip().lower()}, status=201)


@routes.route(
    "PUT",
    "/api/v1/users/{login}/roles",
    summary="Replace a person's roles (admin)",
    tags=("users",),
    body={"type": "object", "properties": {"roles": ROLES_SCHEMA}},
)
async def put_roles(request: web.Request) -> web.Response:
    p = require_principal(request, Role.ADMIN)
    roles = _roles_field(await read_json_object(request))
    login = request.match_info["login"]
    user_id = await change_roles(request.app[DB_KEY], Actor.of(p), login, roles)
    # open sockets keep the roles they connected with: drop them so they re-authorise
    request.app[HUB_KEY].drop_user(user_id)
    return json_ok({"login": login, "roles": sorted(r.value for r in roles)})
