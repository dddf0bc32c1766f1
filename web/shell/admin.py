"""Admin pages: agencies (list, add, import, export), people and roles, the audit log."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.agencies import (
    AgencyRow,
    check_code,
    list_agencies_txn,
    parse_csv,
    parse_json,
    to_csv,
)
from server.accounts.service import Actor, add_agency, add_user, change_roles, import_agencies
from server.accounts.users import (
    list_users_txn,
    parse_roles,
)
from server.audit.log import latest_txn, verify_txn
from server.audit.models import AuditEntry
from server.auth.principal import Principal, Role, require_principal
from server.errors import LienThongError, ValidationFailed
from server.http.keys import DB_KEY
from server.realtime import HUB_KEY
from web.i18n import lang_of, translate
from web.shell.pages import login_required
from web.shell.render import render


def _admin(request: web.Request) -> Principal:
    login_required(request)
    return require_principal(request, Role.ADMIN)


def _message(request: web.Request, err: LienThongError) -> str:
    return err.detail_vi if lang_of(request) == "vi" else err.detail


async def _agencies_page(
    request: web.Request, *, error: str | None = None, notice: str | None = None, status: int = 200
) -> web.Response:
    rows = await request.app[DB_KEY].read("list_agencies", list_agencies_txn)
    return render(
        request,
        "admin_agencies.html",
        {"agencies": rows, "error": error, "notice": notice},
        status=status,
    )


async def agencies_get(request: web.Request) -> web.StreamResponse:
    _admin(request)
    return await _agencies_page(request)


async def agencies_post(request: web.Request) -> web.StreamResponse:
    p = _admin(request)
    form = await request.post()
    try:
        try:
            level = int(str(form.get("level", "")))
        except ValueError:
            raise ValidationFailed(
                "level must be a number", detail_vi="Cấp phải là một số."
            ) from None
        parent = str(form.get("parent_code", "")).strip()
        name = str(form.get("name", "")).strip()
        if not name:
            raise ValidationFailed("The name is empty.", detail_vi="Thiếu tên cơ quan.")
        row = AgencyRow(check_code(str(form.get("code", ""))), name, parent or None, level)

        await add_agency(request.app[DB_KEY], Actor.of(p), row)
    except LienThongError as err:
        return await _agencies_page(request, error=_message(request, err), status=err.status)
    return await _agencies_page(request, notice=translate("saved", lang_of(request)))


async def agencies_import(request: web.Request) -> web.StreamResponse:
    p = _admin(request)
    form = await request.post()
    upload = form.get("file")
    try:
        if not isinstance(upload, web.FileField):
            raise ValidationFailed("Choose a file.", detail_vi="Vui lòng chọn tệp để nhập.")
        text = upload.file.read().decode("utf-8", errors="replace")
        rows = parse_json(text) if upload.filename.lower().endswith(".json") else parse_csv(text)

        created, updated = await import_agencies(
            request.app[DB_KEY], Actor.of(p), rows, upload.filename
        )
    except LienThongError as err:
        return await _agencies_page(request, error=_message(request, err), status=err.status)
    return await _agencies_page(
        request, notice=translate("imported", lang_of(request), created=created, updated=updated)
    )


async def agencies_export(request: web.Request) -> web.StreamResponse:
    _admin(request)
    rows = await request.app[DB_KEY].read("list_agencies", list_agencies_txn)
    return web.Response(
        text=to_csv(rows),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="agencies.csv"'},
    )


async def _users_page(
    request: web.Request, *, error: str | None = None, notice: str | None = None, status: int = 200
) -> web.Response:
    db = request.app[DB_KEY]
    users = await db.read("list_users", lambda s: list_users_txn(s))
    agencies = await db.read("list_agencies", list_agencies_txn)
    context: dict[str, Any] = {
        "users": users,
        "agencies": agencies,
        "roles": [r.value for r in Role],
        "error": error,
        "notice": notice,
    }
    return render(request, "admin_users.html", context, status=status)


async def users_get(request: web.Request) -> web.StreamResponse:
    _admin(request)
    return await _users_page(request)


async def users_post(request: web.Request) -> web.StreamResponse:
    p = _admin(request)
    form = await request.post()
    try:
        roles = parse_roles(str(v) for v in form.getall("roles", []))
        await add_user(
            request.app[DB_KEY],
            Actor.of(p),
            login=str(form.get("login", "")),
            full_name=str(form.get("full_name", "")),
            agency_code=str(form.get("agency_code", "")),
            roles=roles,
            password=str(form.get("password", "")),
        )
    except LienThongError as err:
        return await _users_page(request, error=_message(request, err), status=err.status)
    return await _users_page(request, notice=translate("saved", lang_of(request)))


async def user_roles_post(request: web.Request) -> web.StreamResponse:
    p = _admin(request)
    form = await request.post()
    login = request.match_info["login"]
    try:
        roles = parse_roles(str(v) for v in form.getall("roles", []))

        user_id = await change_roles(request.app[DB_KEY], Actor.of(p), login, roles)
        # open sockets keep the roles they connected with: drop them so they re-authorise
        request.app[HUB_KEY].drop_user(user_id)
    except LienThongError as err:
        return await _users_page(request, error=_message(request, err), status=err.status)
    return await _users_page(request, notice=translate("saved", lang_of(request)))


async def audit_get(request: web.Request) -> web.StreamResponse:
    _admin(request)
    db = request.app[DB_KEY]
    result = await db.read("audit_verify", verify_txn)

    async def latest(session: AsyncSession) -> list[AuditEntry]:
        return await latest_txn(session, 200)

    entries = await db.read("list_audit", latest)
    return render(request, "admin_audit.html", {"result": result, "entries": entries})
