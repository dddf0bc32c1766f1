"""``/api/v1/me``, API tokens, logout."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from aiohttp import web
from pydantic import Field, StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.tokens import create_token_txn, revoke_token_txn
from server.audit.log import append_txn
from server.auth.lifecycle import change_own_password
from server.auth.principal import require_principal
from server.auth.service import log_out
from server.db.base import utcnow
from server.errors import NotFound
from server.http.body import Body, read_body
from server.http.jsonio import json_ok
from server.http.keys import CONFIG_KEY, DB_KEY
from server.http.openapi import ApiRoutes
from server.http.params import path_int
from server.realtime import HUB_KEY


class NewToken(Body):
    """An API token for oneself: a name to recognise it by and, optionally, days of validity."""

    name: Annotated[str, StringConstraints(max_length=100)] = ""
    days: Annotated[int, Field(ge=1, le=3650)] | None = None


class PasswordChange(Body):
    """One's current password and the new one (at least 8 characters)."""

    current_password: Annotated[str, StringConstraints(max_length=200)]
    new_password: Annotated[str, StringConstraints(max_length=200)]


routes = ApiRoutes()

ME = {
    "type": "object",
    "properties": {
        "login": {"type": "string"},
        "full_name": {"type": "string"},
        "agency_code": {"type": "string"},
        "roles": {"type": "array", "items": {"type": "string"}},
        "via": {"type": "string", "enum": ["session", "token"]},
    },
}


@routes.route("GET", "/api/v1/me", summary="Who is asking", tags=("auth",), response=ME)
async def me(request: web.Request) -> web.Response:
    p = require_principal(request)
    return json_ok(
        {
            "login": p.login,
            "full_name": p.full_name,
            "agency_code": p.agency_code,
            "roles": sorted(r.value for r in p.roles),
            "via": p.via,
        }
    )


@routes.route(
    "POST",
    "/api/v1/tokens",
    summary="Create an API token for yourself (shown once)",
    tags=("auth",),
    body=NewToken,
)
async def create_token(request: web.Request) -> web.Response:
    p = require_principal(request)
    body = await read_body(request, NewToken)
    name = body.name
    expires = utcnow() + timedelta(days=body.days) if body.days else None

    async def make(session: AsyncSession) -> tuple[str, int]:
        value, row = await create_token_txn(
            session, p.user_id, name=name, expires_at=expires, session_id=p.origin_session_id
        )
        await append_txn(
            session, "token.created", actor=p.login, actor_user_id=p.user_id, target=row.prefix
        )
        return value, row.id

    value, token_id = await request.app[DB_KEY].write("create_token", make)
    return json_ok({"id": token_id, "token": value, "expires_at": expires}, status=201)


@routes.route("DELETE", "/api/v1/tokens/{id}", summary="Revoke one of your tokens", tags=("auth",))
async def revoke_token(request: web.Request) -> web.Response:
    p = require_principal(request)
    token_id = path_int(request, "id")

    async def revoke(session: AsyncSession) -> bool:
        done = await revoke_token_txn(session, token_id, p.user_id)
        if done:
            await append_txn(
                session,
                "token.revoked",
                actor=p.login,
                actor_user_id=p.user_id,
                target=str(token_id),
            )
        return done

    if not await request.app[DB_KEY].write("revoke_token", revoke):
        raise NotFound("No such live token of yours.", detail_vi="Không có mã truy cập này.")
    return json_ok({"revoked": token_id})


@routes.route(
    "POST",
    "/api/v1/logout-everywhere",
    summary="Close every login session of yours and revoke the API tokens they minted",
    tags=("auth",),
)
async def logout_everywhere(request: web.Request) -> web.Response:
    p = require_principal(request)
    await log_out(
        request.app[DB_KEY],
        user_id=p.user_id,
        login=p.login,
        session_id=p.session_id or 0,
        everywhere=True,
    )
    request.app[HUB_KEY].drop_user(p.user_id)
    return json_ok({"ok": True})


@routes.route(
    "POST",
    "/api/v1/me/password",
    summary="Change your own password (current one required); your other sessions end",
    tags=("auth",),
    body=PasswordChange,
)
async def change_password(request: web.Request) -> web.Response:
    p = require_principal(request)
    body = await read_body(request, PasswordChange)
    ended = await change_own_password(
        request.app[DB_KEY],
        request.app[CONFIG_KEY].auth,
        user_id=p.user_id,
        current=body.current_password,
        new=body.new_password,
        keep_session_id=p.session_id,
    )
    request.app[HUB_KEY].drop_user(p.user_id)
    return json_ok({"ok": True, "sessions_ended": ended.sessions, "tokens_revoked": ended.tokens})
