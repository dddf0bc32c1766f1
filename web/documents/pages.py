"""Pages in Vietnamese for clerks, leaders and officials: inbox, sent, compose and send, one
document with its timeline and the handling actions (vào sổ, từ chối, phân công, xử lý)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from documents import amend, views
from documents.access import INBOX_ROLES
from documents.dates import today_vn
from documents.errors import BadField
from documents.http import filters_of, read_upload_form, services
from documents.inputs import NewDocument, RevokeRequest, StatusChange
from documents.sending import send_document
from documents.status_flow import change_status
from documents.statuses import CONFIDENTIALITY_VI, LABELS_VI, URGENCY_VI, StatusCode
from server.accounts.agencies import list_agencies_txn, live_rows
from server.accounts.users import list_users_txn
from server.auth.principal import Principal, Role, get_principal, require_principal
from server.errors import LienThongError
from server.http.keys import DB_KEY
from server.realtime.rules import agency_channel
from web.documents.stored_text import stored_in
from web.documents.texts import texts_for
from web.i18n import lang_of
from web.shell.admin import message_of
from web.shell.render import render

__all__ = ["add_pages"]


def _who(request: web.Request, *roles: Role) -> Principal:
    if get_principal(request) is None:
        raise web.HTTPFound(f"/login?next={request.path_qs}")
    return require_principal(request, *(roles or INBOX_ROLES))


def _context(request: web.Request, p: Principal, **extra: Any) -> dict[str, Any]:
    t = texts_for(request)
    return {
        "t": t,
        "labels": {code.value: t[f"status.{code.value}"] for code in LABELS_VI},
        "urgency_labels": {k: t[f"urgency.{k}"] for k in URGENCY_VI},
        "confidentiality_labels": {k: t[f"conf.{k}"] for k in CONFIDENTIALITY_VI},
        "stored": lambda text: stored_in(text, lang_of(request)),
        "live_channel": agency_channel(p.agency_code),
        "is_clerk": p.has(Role.CLERK),
        "sees_drafts": p.has(Role.CLERK, Role.LEADER),
        "tab": "",
        **extra,
    }


async def inbox_page(request: web.Request) -> web.StreamResponse:
    p = _who(request)
    f = filters_of(request)

    items = await views.inbox_view(services(request), p, f)
    ctx = _context(request, p, items=items, tab="inbox", q=f.q, status=f.status)
    return render(request, "documents/inbox.html", ctx)


async def outbox_page(request: web.Request) -> web.StreamResponse:
    p = _who(request)
    f = filters_of(request)

    items = await views.outbox_view(services(request), p, f)
    ctx = _context(request, p, items=items, tab="outbox", q=f.q, status=f.status)
    return render(request, "documents/outbox.html", ctx)


async def _compose(
    request: web.Request, p: Principal, form: dict[str, Any], error: str | None, status: int
) -> web.Response:
    async def run(session: AsyncSession) -> list[Any]:
        rows = live_rows(await list_agencies_txn(session), today_vn())  # ended units: no
        return [a for a in rows if a.code != p.agency_code]

    agencies = await request.app[DB_KEY].read("documents_compose_agencies", run)
    ctx = _context(request, p, agencies=agencies, form=form, tab="compose", error=error)
    return render(request, "documents/compose.html", ctx, status=status)


async def compose_get(request: web.Request) -> web.StreamResponse:
    p = _who(request, Role.CLERK)
    return await _compose(request, p, {"to": []}, None, 200)


async def compose_post(request: web.Request) -> web.StreamResponse:
    p = _who(request, Role.CLERK)
    fields, main, attachments = await read_upload_form(request)
    fields.pop("csrf_token", None)
    try:
        meta = NewDocument.parse(fields)
        if main is None or not main.data:
            raise BadField("main", "The main PDF is missing.", "Thiếu tệp PDF văn bản chính.")
        public_id = await send_document(services(request), p, meta, main, attachments)
    except LienThongError as err:
        fields.setdefault("to", [])
        return await _compose(request, p, fields, message_of(request, err), err.status)
    raise web.HTTPFound(f"/documents/{public_id}?sent=1")


async def _view(
    request: web.Request,
    p: Principal,
    public_id: str,
    *,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    async def run(session: AsyncSession) -> tuple[dict[str, Any], list[Any]]:
        view = await views.document_view_txn(session, p, public_id)
        people: list[Any] = []
        if view["role"] == "recipient" and p.has(Role.LEADER):
            people = [
                u
                for u in await list_users_txn(session, p.agency_code)
                if u.is_active and ("official" in u.roles or "leader" in u.roles)
            ]
        return view, people

    view, people = await request.app[DB_KEY].read("document_page", run)
    own = view["recipients"][0] if view["role"] == "recipient" else None
    current = own["status"] if own else ""
    is_assignee = bool(own and own["assignee"] == p.login)
    actions = {
        "register": bool(own) and p.has(Role.CLERK) and current == StatusCode.ARRIVED,
        "assign": bool(own)
        and p.has(Role.LEADER)
        and current in (StatusCode.REGISTERED, StatusCode.ASSIGNED),
        "handle": bool(own)
        and (p.has(Role.LEADER) or is_assignee)
        and current in (StatusCode.ASSIGNED, StatusCode.IN_PROGRESS),
        "answer": bool(own and own["pending_request"]) and p.has(Role.CLERK, Role.LEADER),
        "revoke": view["role"] == "sender" and p.has(Role.CLERK),
    }
    if own and own["closed"]:
        actions.update(register=False, assign=False, handle=False)
    notice = None
    if request.query.get("sent"):
        notice = texts_for(request)["docs.sent_ok"]
    elif request.query.get("ok"):
        notice = texts_for(request)["docs.status_ok"]
    ctx = _context(
        request, p, doc=view, own=own, people=people, actions=actions, error=error, notice=notice
    )
    return render(request, "documents/view.html", ctx, status=status)


async def view_page(request: web.Request) -> web.StreamResponse:
    p = _who(request, *INBOX_ROLES)
    return await _view(request, p, request.match_info["id"])


async def status_post(request: web.Request) -> web.StreamResponse:
    p = _who(request, *INBOX_ROLES)
    public_id = request.match_info["id"]
    form = await request.post()
    data = {k: str(v) for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    try:
        await change_status(services(request), p, public_id, StatusChange.parse(data))
    except LienThongError as err:
        if err.status == 404:
            raise
        return await _view(request, p, public_id, error=message_of(request, err), status=err.status)
    raise web.HTTPFound(f"/documents/{public_id}?ok=1")


async def revoke_post(request: web.Request) -> web.StreamResponse:
    p = _who(request, Role.CLERK)
    public_id = request.match_info["id"]
    form = await request.post()
    data = {k: str(v) for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    try:
        await amend.request_amendment(
            services(request), p, public_id, RevokeRequest.parse(data).amendment()
        )
    except LienThongError as err:
        if err.status == 404:
            raise
        return await _view(request, p, public_id, error=message_of(request, err), status=err.status)
    raise web.HTTPFound(f"/documents/{public_id}?ok=1")


def add_pages(app: web.Application) -> None:
    """Mount the pages under ``/documents`` (the home tile links there)."""
    r = app.router
    r.add_get("/documents", inbox_page)
    r.add_get("/documents/outbox", outbox_page)
    r.add_get("/documents/new", compose_get)
    r.add_post("/documents/new", compose_post)
    r.add_get("/documents/{id}", view_page)
    r.add_post("/documents/{id}/status", status_post)
    r.add_post("/documents/{id}/revoke", revoke_post)
