"""Pages for drafts (dự thảo): the compose form's "save as a draft" button, the agency's list of
drafts, and one draft with the step its reader may take — the leader signs with their token
through the signing agent (``web/static/documents/sign.js``), the clerk has the agency's
signature applied, then sends."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from documents import drafts
from documents.drafts_http import read_draft_form
from documents.http import services
from documents.keys import SEALS_KEY
from server.auth.principal import Principal, Role, get_principal, require_principal
from server.errors import LienThongError
from server.http.keys import DB_KEY
from web.documents.pages import _compose, _context
from web.documents.texts import texts_for
from web.i18n import lang_of
from web.shell.admin import message_of
from web.shell.render import render
from web.subject import subject_fields

AGENT_PORT = 8765
"""The signing agent's default port (``lienthong sign-agent --port``); the page lets the signer
change it and remembers the choice."""


def _who(request: web.Request, *roles: Role) -> Principal:
    if get_principal(request) is None:
        raise web.HTTPFound(f"/login?next={request.path_qs}")
    return require_principal(request, *(roles or (Role.CLERK, Role.LEADER)))


async def drafts_page(request: web.Request) -> web.StreamResponse:
    p = _who(request)

    async def run(session: AsyncSession) -> list[dict[str, Any]]:
        return await drafts.list_drafts_txn(session, p)

    items = await request.app[DB_KEY].read("drafts_page", run)
    return render(request, "documents/drafts.html", _context(request, p, items=items, tab="drafts"))


async def create_post(request: web.Request) -> web.StreamResponse:
    p = _who(request, Role.CLERK)
    fields: dict[str, Any] = {}
    try:
        fields, main = await read_draft_form(request)
        attachments = fields.pop("_attachments")
        draft_id = await drafts.create_draft(services(request), p, fields, main, attachments)
    except LienThongError as err:
        fields.pop("_attachments", None)
        fields.setdefault("to", [])
        return await _compose(request, p, fields, message_of(request, err), err.status)
    raise web.HTTPFound(f"/documents/drafts/{draft_id}?saved=1")


async def _view(
    request: web.Request,
    p: Principal,
    draft_id: str,
    *,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    async def run(session: AsyncSession) -> dict[str, Any]:
        return await drafts.draft_view_txn(session, p, draft_id)

    draft = await request.app[DB_KEY].read("draft_page", run)
    t = texts_for(request)
    same = p.agency_code == draft["agency_code"]
    actions = {
        "sign": same and p.has(Role.LEADER) and draft["state"] == "draft",
        "seal": same and p.has(Role.CLERK) and draft["state"] == "signed",
        "send": same and p.has(Role.CLERK) and draft["state"] == "sealed",
        "seal_ready": request.app[SEALS_KEY].configured(draft["agency_code"]),
    }
    notice = None
    for flag, key in (
        ("saved", "docs.draft_saved"),
        ("signed", "docs.signed_ok"),
        ("sealed", "docs.sealed_ok"),
    ):
        if request.query.get(flag):
            notice = t[key]
    sign_texts = {
        "looking": t["docs.agent_looking"],
        "ready": t["docs.agent_ready"],
        "signing": t["docs.agent_signing"],
        "signed": t["docs.agent_signed"],
        "fields": subject_fields(lang_of(request)),
    }
    ctx = _context(
        request,
        p,
        draft=draft,
        actions=actions,
        error=error,
        notice=notice,
        tab="drafts",
        agent_port=AGENT_PORT,
        sign_texts=json.dumps(sign_texts, ensure_ascii=False),
    )
    return render(request, "documents/draft.html", ctx, status=status)


async def draft_page(request: web.Request) -> web.StreamResponse:
    p = _who(request)
    return await _view(request, p, request.match_info["id"])


async def seal_post(request: web.Request) -> web.StreamResponse:
    p = _who(request, Role.CLERK)
    draft_id = request.match_info["id"]
    try:
        await drafts.seal_draft(services(request), request.app[SEALS_KEY], p, draft_id)
    except LienThongError as err:
        if err.status == 404:
            raise
        return await _view(request, p, draft_id, error=message_of(request, err), status=err.status)
    raise web.HTTPFound(f"/documents/drafts/{draft_id}?sealed=1")


async def send_post(request: web.Request) -> web.StreamResponse:
    p = _who(request, Role.CLERK)
    draft_id = request.match_info["id"]
    try:
        doc_id = await drafts.send_draft(services(request), p, draft_id)
    except LienThongError as err:
        if err.status == 404:
            raise
        return await _view(request, p, draft_id, error=message_of(request, err), status=err.status)
    raise web.HTTPFound(f"/documents/{doc_id}?sent=1")


def add_draft_pages(app: web.Application) -> None:
    """Mount ``/documents/drafts…`` (before ``/documents/{id}``)."""
    r = app.router
    r.add_get("/documents/drafts", drafts_page)
    r.add_post("/documents/drafts", create_post)
    r.add_get("/documents/drafts/{id}", draft_page)
    r.add_post("/documents/drafts/{id}/seal", seal_post)
    r.add_post("/documents/drafts/{id}/send", send_post)
