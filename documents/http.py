"""``/api/v1/documents``: send, inbox, outbox, view, files, statuses, trace; and ``setup(app)``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from aiohttp import web

from documents import amend, evidence, interop, repo, views
from documents.access import INBOX_ROLES
from documents.checker import TrustDirChecker
from documents.dates import parse_date
from documents.envelope import EnvelopeKeys
from documents.errors import BadField
from documents.federation import http as federation_http
from documents.files import LocalFileStore
from documents.inputs import NewDocument, RevokeRequest, StatusChange, UpdateRequest, Upload
from documents.keys import SERVICES_KEY, app_seals
from documents.peers import load_federation
from documents.sending import send_document
from documents.services import Services
from documents.status_flow import change_status
from server import jsonstrict
from server.auth.principal import Role, require_principal
from server.errors import BadRequest
from server.http.body import parse_body, read_body
from server.http.jsonio import json_ok
from server.http.keys import CONFIG_KEY, DB_KEY
from server.http.openapi import OPENAPI_KEY, ApiRoutes
from server.http.params import query_int
from server.realtime import HUB_KEY

routes = ApiRoutes()
TAGS = ("documents",)

_SEND_BODY = {
    "type": "object",
    "properties": {
        "metadata": {
            "type": "string",
            "description": "JSON object: " + json.dumps(NewDocument.model_json_schema()),
        },
        "main": {"type": "string", "format": "binary"},
        "attachment": {"type": "array", "items": {"type": "string", "format": "binary"}},
    },
    "required": ["metadata", "main"],
}
"""The multipart send form; its ``metadata`` part is the declared :class:`NewDocument`."""


def services(request: web.Request) -> Services:
    return request.app[SERVICES_KEY]


async def read_upload_form(
    request: web.Request,
) -> tuple[dict[str, Any], Upload | None, list[Upload]]:
    """The fields, the main file and the attachments of a multipart form (API or page)."""
    if request.content_type != "multipart/form-data":
        raise BadRequest(
            "Send multipart/form-data.",
            detail_vi="Cần gửi dữ liệu dạng multipart/form-data.",
            code="documents.bad_form",
        )
    form = await request.post()
    fields: dict[str, Any] = {}
    main: Upload | None = None
    attachments: list[Upload] = []
    for key, value in form.items():
        if isinstance(value, web.FileField):
            data = value.file.read()
            if key == "main":
                main = Upload(value.filename or "van-ban.pdf", data, "application/pdf")
            elif key == "attachment" and data:
                attachments.append(
                    Upload(
                        value.filename or "", data, value.content_type or "application/octet-stream"
                    )
                )
        elif key == "to":
            fields.setdefault("to", []).extend(c for c in str(value).replace(";", ",").split(","))
        else:
            fields[key] = str(value)
    return fields, main, attachments


@routes.route(
    "POST",
    "/api/v1/documents",
    summary="Send a signed document to agencies (clerk)",
    tags=TAGS,
    body=_SEND_BODY,
    content_type="multipart/form-data",
)
async def send(request: web.Request) -> web.Response:
    p = require_principal(request, Role.CLERK)
    meta, main, attachments = await _send_parts(request)
    public_id = await send_document(services(request), p, meta, main, attachments)
    return json_ok({"id": public_id}, status=201)


async def _send_parts(request: web.Request) -> tuple[NewDocument, Upload, list[Upload]]:
    """The send form: the declared metadata (a JSON part, or plain fields) and the files."""
    fields, main, attachments = await read_upload_form(request)
    if "metadata" in fields:
        try:
            meta_raw = jsonstrict.loads(fields["metadata"])
        except jsonstrict.StrictJsonError:
            meta_raw = None
        if not isinstance(meta_raw, dict):
            raise BadField(
                "metadata", "metadata must be a JSON object.", "metadata phải là đối tượng JSON."
            )
        meta = parse_body(NewDocument, meta_raw)
    else:
        meta = NewDocument.parse(fields)
    if main is None or not main.data:
        raise BadField("main", "The main PDF is missing.", "Thiếu tệp PDF văn bản chính.")
    return meta, main, attachments


def filters_of(request: web.Request) -> repo.Filters:
    """The search of an inbox or outbox from the query string (tìm kiếm, trang)."""
    q = request.query
    try:
        limit = max(1, min(int(q.get("limit", "50")), 500))
    except ValueError:
        raise BadField("limit", "limit must be an integer.", "limit phải là số.") from None
    offset = query_int(request, "offset", 0)
    return repo.Filters(
        q=q.get("q", "")[:200],
        status=q.get("status", "")[:2],
        agency=q.get("agency", "")[:32],
        date_from=parse_date("from", q.get("from")),
        date_to=parse_date("to", q.get("to")),
        limit=limit,
        offset=offset,
    )


@routes.route(
    "GET", "/api/v1/documents/inbox", summary="Documents received by my agency", tags=TAGS
)
async def inbox(request: web.Request) -> web.Response:
    p = require_principal(request, *INBOX_ROLES)
    f = filters_of(request)
    return json_ok({"items": await views.inbox_view(services(request), p, f)})


@routes.route("GET", "/api/v1/documents/outbox", summary="Documents sent by my agency", tags=TAGS)
async def outbox(request: web.Request) -> web.Response:
    p = require_principal(request, *INBOX_ROLES)
    f = filters_of(request)
    return json_ok({"items": await views.outbox_view(services(request), p, f)})


@routes.route("GET", "/api/v1/documents/{id}", summary="A document and its timelines", tags=TAGS)
async def show(request: web.Request) -> web.Response:
    p = require_principal(request)
    return json_ok(await views.document_view(services(request), p, request.match_info["id"]))


@routes.route(
    "GET",
    "/api/v1/documents/{id}/trace",
    summary="Every status of every recipient visible to me",
    tags=TAGS,
)
async def trace(request: web.Request) -> web.Response:
    p = require_principal(request)
    return json_ok(await views.trace_view(services(request), p, request.match_info["id"]))


@routes.route(
    "GET",
    "/api/v1/documents/{id}/files/{sha256}",
    summary="Download the main file or an attachment (exact bytes, ranges allowed)",
    tags=TAGS,
)
async def download(request: web.Request) -> web.StreamResponse:
    p = require_principal(request)
    public_id, sha = request.match_info["id"], request.match_info["sha256"]
    svc = services(request)
    name, media_type = await views.file_of(svc, p, public_id, sha)
    disposition = f"inline; filename*=UTF-8''{quote(name)}"
    path = svc.store.local_path(sha)
    headers = {"Content-Disposition": disposition, "ETag": f'"{sha}"', "Cache-Control": "private"}
    if path is not None:
        # FileResponse answers range requests (PDF.js) and never compresses
        return web.FileResponse(path, headers={**headers, "Content-Type": media_type})
    data = await svc.store.get(sha)
    return web.Response(body=data, content_type=media_type, headers=headers)


@routes.route(
    "POST",
    "/api/v1/documents/{id}/status",
    summary="Register (03), refuse (02), assign (04), in progress (05), completed (06), "
    "answer a request (15 accept, 16 refuse)",
    tags=TAGS,
    body=StatusChange,
)
async def set_status(request: web.Request) -> web.Response:
    p = require_principal(request)
    change = await read_body(request, StatusChange)
    result = await change_status(services(request), p, request.match_info["id"], change)
    return json_ok(result)


@routes.route(
    "GET",
    "/api/v1/documents/{id}/edxml",
    summary="The document as an edXML envelope (QCVN 102:2016), files included",
    tags=TAGS,
)
async def export_edxml(request: web.Request) -> web.Response:
    p = require_principal(request)
    body = await interop.export_edxml(services(request), p, request.match_info["id"])
    return web.Response(
        body=body,
        content_type="application/xml",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="van-ban.edxml"'},
    )


@routes.route(
    "POST",
    "/api/v1/documents/import",
    summary="Receive an edXML document into my agency's inbox (clerk)",
    tags=TAGS,
    body={"type": "string", "description": "edXML envelope"},
    content_type="application/xml",
)
async def import_edxml(request: web.Request) -> web.Response:
    p = require_principal(request, Role.CLERK)
    data = await request.read()
    public_id, created = await interop.import_edxml(services(request), p, data)
    return json_ok({"id": public_id, "created": created}, status=201 if created else 200)


@routes.route(
    "GET",
    "/api/v1/documents/{id}/evidence",
    summary="Evidence bundle: files, messages, signed receipts, timeline (ZIP)",
    tags=TAGS,
)
async def evidence_bundle(request: web.Request) -> web.Response:
    p = require_principal(request)
    body = await evidence.build_bundle(services(request), p, request.match_info["id"])
    return web.Response(
        body=body,
        content_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="ho-so-chung-cu.zip"'},
    )


@routes.route(
    "POST",
    "/api/v1/documents/{id}/revoke",
    summary="Ask the recipients to accept taking the document back (thu hồi, clerk of the sender)",
    tags=TAGS,
    body=RevokeRequest,
)
async def revoke(request: web.Request) -> web.Response:
    return await _amend(request, RevokeRequest)


@routes.route(
    "POST",
    "/api/v1/documents/{id}/update",
    summary="Update subject, due date or urgency and ask the recipients to acknowledge (cập nhật)",
    tags=TAGS,
    body=UpdateRequest,
)
async def update(request: web.Request) -> web.Response:
    return await _amend(request, UpdateRequest)


async def _amend(request: web.Request, model: type[RevokeRequest | UpdateRequest]) -> web.Response:
    p = require_principal(request, Role.CLERK)
    change = (await read_body(request, model)).amendment()
    result = await amend.request_amendment(services(request), p, request.match_info["id"], change)
    return json_ok(result)


@routes.route(
    "POST",
    "/api/v1/documents/{id}/replace",
    summary="Send a signed document replacing this one (thay thế); same form as sending",
    tags=TAGS,
    body=_SEND_BODY,
    content_type="multipart/form-data",
)
async def replace(request: web.Request) -> web.Response:
    p = require_principal(request, Role.CLERK)
    meta, main, attachments = await _send_parts(request)
    public_id = await send_document(
        services(request), p, meta, main, attachments, replaces=request.match_info["id"]
    )
    return json_ok({"id": public_id, "replaces": request.match_info["id"]}, status=201)


def setup(app: web.Application) -> None:
    """Mount the API, keep the file store and signature checker for the app's life."""
    config = app[CONFIG_KEY]
    federation = load_federation(config.data_dir)
    for table in (routes, federation_http.routes):
        app.router.add_routes(table.table)
        app[OPENAPI_KEY].append(table)

    # the agencies' seal keys sign the edXML envelopes they send (the drafts' seals, shared)
    seals = app_seals(app)

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        checker = TrustDirChecker(config.trust_dir)
        svc = Services(
            db=app[DB_KEY],
            store=LocalFileStore(config.files_dir),
            checker=checker,
            hub=app.get(HUB_KEY),
            envelope=EnvelopeKeys(seals, config.trust_dir),
        )
        app[SERVICES_KEY] = svc
        fed = federation_http.start_federation(app, svc, federation) if federation else None
        yield
        if fed is not None:
            await federation_http.stop_federation(fed)
        await checker.close()

    app.cleanup_ctx.append(ctx)
