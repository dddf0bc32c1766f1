"""Admin pages for agencies: the tree on a chosen day, add, import, restructure, export."""

from __future__ import annotations

from dataclasses import replace
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
from server.search import fold
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
    q = request.query.get("q", "")[:100]
    context = {"agencies": live, "tree": prune_tree(tree, q), "on": on, "q": q}
    context.update(error=error, notice=notice)
    return render(request, "admin_agencies.html", context, status=status)


def prune_tree(nodes: list[TreeNode], q: str) -> list[TreeNode]:
    """The units whose name (by the search fold of :mod:`server.search`) or code contains
    ``q``, each with its whole subtree and under its ancestors; all of ``nodes`` without ``q``."""
    needle = fold(q)
    if not needle:
        return nodes
    kept = []
    for node in nodes:
        if needle in fold(node.name) or needle in fold(node.code):
            kept.append(node)
        elif children := prune_tree(node.children, q):
            kept.append(replace(node, children=children))
    return kept


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
