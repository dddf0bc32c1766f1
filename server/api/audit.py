"""``/api/v1/audit``: the audit log and its verification (admin)."""

from __future__ import annotations

from dataclasses import asdict

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.log import verify_txn
from server.audit.models import AuditEntry
from server.auth.principal import Role, require_principal
from server.http.jsonio import json_ok
from server.http.keys import DB_KEY
from server.http.openapi import ApiRoutes

routes = ApiRoutes()


@routes.route("GET", "/api/v1/audit", summary="Latest audit entries (admin)", tags=("audit",))
async def list_audit(request: web.Request) -> web.Response:
    require_principal(request, Role.ADMIN)
    try:
        limit = max(1, min(500, int(request.query.get("limit", "100"))))
    except ValueError:
        limit = 100

    async def run(session: AsyncSession) -> list[dict[str, object]]:
        rows = await session.scalars(
            select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
        )
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
            for r in rows
        ]

    return json_ok(await request.app[DB_KEY].read("list_audit", run))


@routes.route(
    "GET", "/api/v1/audit/verify", summary="Check the hash chain (admin)", tags=("audit",)
)
async def verify(request: web.Request) -> web.Response:
    require_principal(request, Role.ADMIN)
    result = await request.app[DB_KEY].read("audit_verify", verify_txn)
    return json_ok(asdict(result))
