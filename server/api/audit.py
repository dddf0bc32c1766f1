"""``/api/v1/audit``: the audit log and its verification (admin)."""

from __future__ import annotations

from dataclasses import asdict

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.log import latest_txn, verify_txn
from server.auth.principal import Role, require_principal
from server.http.jsonio import json_ok
from server.http.keys import DB_KEY
from server.http.openapi import ApiRoutes
from server.http.params import query_int

routes = ApiRoutes()


@routes.route("GET", "/api/v1/audit", summary="Latest audit entries (admin)", tags=("audit",))
async def list_audit(request: web.Request) -> web.Response:
    require_principal(request, Role.ADMIN)
    limit = query_int(request, "limit", 100, low=1, high=500)

    async def run(session: AsyncSession) -> list[dict[str, object]]:
        return [
            {
                "seq": r.seq,
                "at": r.at.isoformat(),
                "actor": r.actor,
                "action": r.action,
                "target": r.target,
                "details": r.details,
                "hash": r.hash,
            }
            for r in await latest_txn(session, limit)
        ]

    return json_ok(await request.app[DB_KEY].read("list_audit", run))


@routes.route(
    "GET", "/api/v1/audit/verify", summary="Check the hash chain (admin)", tags=("audit",)
)
async def verify(request: web.Request) -> web.Response:
    require_principal(request, Role.ADMIN)
    result = await request.app[DB_KEY].read("audit_verify", verify_txn)
    return json_ok(asdict(result))
