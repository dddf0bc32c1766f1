"""``/api/v1/documents/drafts``: compose, sign with the leader's token (two-phase, through the
signing agent), seal on the server, send. ``setup_drafts(app)`` mounts them and the seal keys.

- ``POST /api/v1/documents/drafts`` (clerk): the send form (``metadata`` JSON or fields, ``main``
  unsigned PDF, ``attachment``…) → 201 ``{"id"}``.
- ``GET /api/v1/documents/drafts`` (clerk, leader): the agency's drafts not sent yet.
- ``GET /api/v1/documents/drafts/{id}`` and ``…/file`` (the current PDF).
- ``POST …/{id}/sign/prepare`` (a leader of the agency): ``{certificate_b64, chain_b64}`` from
  the agent → what the agent signs, with the number and subject it shows.
- ``POST …/{id}/sign/finish`` (the same leader): ``{request_id, signature_b64}`` → the draft,
  signed; the result is validated against the trust roots first.
- ``POST …/{id}/seal`` (clerk): the agency's signature by the server's key.
- ``POST …/{id}/send`` (clerk) → ``{"id"}`` of the sent document.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from documents import drafts
from documents.errors import BadField
from documents.http import read_upload_form, services
from documents.inputs import Upload
from documents.keys import SEALS_KEY, app_seals
from server.auth.principal import Role, require_principal
from server.http.body import read_body
from server.http.jsonio import json_ok
from server.http.keys import DB_KEY
from server.http.openapi import OPENAPI_KEY, ApiRoutes, Schema
from signing.remote import REMOTE_KEY, RemoteSigning
from signing.twophase import FinishBody, PrepareBody, Prepared, finish_route, prepare_route

routes = ApiRoutes()
TAGS = ("documents",)
DRAFT = "/api/v1/documents/drafts/{id}"

_DRAFT: Schema = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "state": {"type": "string", "enum": ["draft", "signed", "sealed", "sent"]},
        "state_label": {"type": "string"},
        "number": {"type": "string"},
        "notation": {"type": "string"},
        "subject": {"type": "string"},
        "to": {"type": "array", "items": {"type": "string"}},
        "anchor_text": {"type": "string"},
        "main": {"type": "object"},
        "signer_subject": {"type": "string"},
        "document_id": {"type": ["string", "null"]},
    },
}


class DraftPrepared(Prepared):
    """What the agent signs for a draft, with what it shows the leader."""

    document_number: str = Field(description="number/notation of the draft")
    subject: str


def _remote(request: web.Request) -> RemoteSigning:
    return request.app[REMOTE_KEY]


async def read_draft_form(request: web.Request) -> tuple[dict[str, Any], Upload]:
    """The compose form (API: ``metadata`` JSON part; page: plain fields) and the main PDF."""
    fields, main, attachments = await read_upload_form(request)
    fields.pop("csrf_token", None)
    if "metadata" in fields:
        try:
            raw = json.loads(fields.pop("metadata"))
        except json.JSONDecodeError:
            raw = None
        if not isinstance(raw, dict):
            raise BadField(
                "metadata", "metadata must be a JSON object.", "metadata phải là đối tượng JSON."
            )
        fields = raw
    if main is None or not main.data:
        raise BadField("main", "The main PDF is missing.", "Thiếu tệp PDF văn bản chính.")
    fields["_attachments"] = attachments
    return fields, main


@routes.route(
    "POST",
    "/api/v1/documents/drafts",
    summary="Compose a draft with an unsigned PDF, to be signed by a leader (clerk)",
    tags=TAGS,
    body={"type": "object", "description": "the send form, with an unsigned main PDF"},
    content_type="multipart/form-data",
)
async def create(request: web.Request) -> web.Response:
    p = require_principal(request, Role.CLERK)
    fields, main = await read_draft_form(request)
    attachments = fields.pop("_attachments")
    draft_id = await drafts.create_draft(services(request), p, fields, main, attachments)
    return json_ok({"id": draft_id}, status=201)


@routes.route(
    "GET",
    "/api/v1/documents/drafts",
    summary="My agency's drafts not sent yet (clerk, leader)",
    tags=TAGS,
    response={"type": "object", "properties": {"drafts": {"type": "array", "items": _DRAFT}}},
)
async def listing(request: web.Request) -> web.Response:
    p = require_principal(request, Role.CLERK, Role.LEADER)

    async def run(session: AsyncSession) -> list[dict[str, Any]]:
        return await drafts.list_drafts_txn(session, p)

    return json_ok({"drafts": await request.app[DB_KEY].read("drafts_list", run)})


@routes.route(
    "GET", "/api/v1/documents/drafts/{id}", summary="One draft", tags=TAGS, response=_DRAFT
)
async def view(request: web.Request) -> web.Response:
    p = require_principal(request)

    async def run(session: AsyncSession) -> dict[str, Any]:
        return await drafts.draft_view_txn(session, p, request.match_info["id"])

    return json_ok(await request.app[DB_KEY].read("draft_view", run))


@routes.route(
    "GET",
    "/api/v1/documents/drafts/{id}/file",
    summary="The draft's current PDF (unsigned, signed, or sealed)",
    tags=TAGS,
    response={"type": "string", "format": "binary"},
)
async def current_file(request: web.Request) -> web.StreamResponse:
    p = require_principal(request)

    async def run(session: AsyncSession) -> dict[str, Any]:
        return await drafts.draft_view_txn(session, p, request.match_info["id"])

    draft = await request.app[DB_KEY].read("draft_file", run)
    data = await services(request).store.get(draft["main"]["sha256"])
    return web.Response(
        body=data,
        content_type="application/pdf",
        headers={"ETag": f'"{draft["main"]["sha256"]}"', "Cache-Control": "private, no-cache"},
    )


@prepare_route(
    routes, DRAFT, "The leader's signature, 1: certificate → data to sign", TAGS, DraftPrepared
)
async def sign_prepare(request: web.Request) -> web.Response:
    p = require_principal(request, Role.LEADER)
    body = await read_body(request, PrepareBody)
    return json_ok(
        await drafts.prepare_leader_signature(
            services(request), _remote(request), p, request.match_info["id"], body
        )
    )


@finish_route(
    routes, DRAFT, "The leader's signature, 2: signature → the signed draft", TAGS, _DRAFT
)
async def sign_finish(request: web.Request) -> web.Response:
    p = require_principal(request, Role.LEADER)
    body = await read_body(request, FinishBody)
    return json_ok(
        await drafts.finish_leader_signature(
            services(request), _remote(request), p, request.match_info["id"], body
        )
    )


@routes.route(
    "POST",
    "/api/v1/documents/drafts/{id}/seal",
    summary="The agency's signature (seal) by the server's key, after the leader's (clerk)",
    tags=TAGS,
    response=_DRAFT,
)
async def seal(request: web.Request) -> web.Response:
    p = require_principal(request, Role.CLERK)
    return json_ok(
        await drafts.seal_draft(
            services(request), request.app[SEALS_KEY], p, request.match_info["id"]
        )
    )


@routes.route(
    "POST",
    "/api/v1/documents/drafts/{id}/send",
    summary="Send a sealed draft (clerk); answers the sent document's id",
    tags=TAGS,
    response={"type": "object", "properties": {"id": {"type": "string"}}},
)
async def send(request: web.Request) -> web.Response:
    p = require_principal(request, Role.CLERK)
    doc_id = await drafts.send_draft(services(request), p, request.match_info["id"])
    return json_ok({"id": doc_id}, status=201)


def setup_drafts(app: web.Application) -> None:
    """Mount the drafts API (before ``/api/v1/documents/{id}``) and keep the seal keys."""
    app.router.add_routes(routes.table)
    app[OPENAPI_KEY].append(routes)
    app_seals(app)
