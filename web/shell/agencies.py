"""Admin pages for agencies: the tree on a chosen day, add, import, restructure, export."""

from __future__ import annotations

from datetime import date

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.agencies import (
    AgencyRow,
    check_code,
    list_agencies_txn,
    live_rows,
    parse_csv,
    parse_json,
    to_csv,
)
from server.accounts.history import TreeNode, tree_at_txn
from server.accounts.restructure import parse_restructure
from server.accounts.service import Actor, add_agency, import_agencies, restructure_agencies
from server.errors import LienThongError, ValidationFailed
from server.http.keys import DB_KEY
from server.vntime import today_vn
from web.i18n import lang_of, translate
from web.shell.admin import admin_only, message_of
from web.shell.render import render


def _on(request: web.Request) -> date:
    """The tree's day from ``?on=`` (today when absent or malformed: a page never fails on it)."""
    try:
        return date.fromisoformat(request.query.get("on", ""))
    except ValueError:
        return today_vn()


async def _agencies_page(
    request: web.Request, *, error: str | None = None, notice: str | None = None, status: int = 200
) -> web.Response:
    on = _on(request)

    async def load(session: AsyncSession) -> tuple[list[AgencyRow], list[TreeNode]]:
        return await list_agencies_txn(session), await tree_at_txn(session, on)

    rows, tree = await request.app[DB_KEY].read("agency_tree", load)
    live = live_rows(rows)
    return render(
        request,
        "admin_agencies.html",
        {"agencies": live, "tree": tree, "on": on, "error": error, "notice": notice},
        status=status,
    )


async def agencies_get(request: web.Request) -> web.StreamResponse:
    admin_only(request)
    return await _agencies_page(request)


async def agencies_post(request: web.Request) -> web.StreamResponse:
    p = admin_only(request)
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
        return await _agencies_page(request, error=message_of(request, err), status=err.status)
    return await _agencies_page(request, notice=translate("saved", lang_of(request)))


async def _upload_text(request: web.Request) -> tuple[str, str]:
    form = await request.post()
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        raise ValidationFailed("Choose a file.", detail_vi="Vui lòng chọn tệp để nhập.")
    return upload.file.read().decode("utf-8", errors="replace"), upload.filename


async def agencies_import(request: web.Request) -> web.StreamResponse:
    p = admin_only(request)
    try:
        text, filename = await _upload_text(request)
        rows = parse_json(text) if filename.lower().endswith(".json") else parse_csv(text)
        created, updated = await import_agencies(request.app[DB_KEY], Actor.of(p), rows, filename)
    except LienThongError as err:
        return await _agencies_page(request, error=message_of(request, err), status=err.status)
    return await _agencies_page(
        request, notice=translate("imported", lang_of(request), created=created, updated=updated)
    )


async def agencies_restructure(request: web.Request) -> web.StreamResponse:
    """Apply a restructuring file (all rows or none; the page names a bad row)."""
    p = admin_only(request)
    try:
        text, filename = await _upload_text(request)
        rows = parse_restructure(text, filename)
        done = await restructure_agencies(request.app[DB_KEY], Actor.of(p), rows, filename)
    except LienThongError as err:
        return await _agencies_page(request, error=message_of(request, err), status=err.status)
    notice = translate("agency.restructured", lang_of(request), ended=done.ended, links=done.links)
    return await _agencies_page(request, notice=notice)


async def agencies_export(request: web.Request) -> web.StreamResponse:
    admin_only(request)
    rows = await request.app[DB_KEY].read("list_agencies", list_agencies_txn)
    return web.Response(
        text=to_csv(rows),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="agencies.csv"'},
    )
