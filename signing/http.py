"""``/api/v1/signatures/verify`` and ``/api/v1/trust-roots``; ``setup(app)`` mounts them.

- ``POST /api/v1/signatures/verify`` (anyone logged in): the PDF as the body
  (``application/pdf``) or as the ``file`` part of a multipart form → the report per signature,
  validated against the server's trust roots (``Config.trust_dir``) in a worker process
  (:mod:`signing.worker`: a time budget, stopped when the client leaves, at most two checks per
  user at once, else 429). Not a PDF, hostile, too large or too complex (:mod:`signing.pdfinput`
  limits) → problem+json with ``detail_vi``.
- ``GET /api/v1/trust-roots`` (admin): the pinned roots.
- ``POST /api/v1/trust-roots`` (admin): add the CA certificates of a PEM/DER body, or of
  ``{"pem": "..."}``; audited ``trust_root.added``.
- ``DELETE /api/v1/trust-roots/{fingerprint}`` (admin): remove one; audited ``trust_root.removed``.
- ``POST /api/v1/signatures/prepare`` (anyone logged in): a PDF (multipart ``file``) and the
  signer's certificate from the agent (``request`` part, JSON) → the signed attributes the agent
  signs (two-phase signing, :mod:`signing.remote`).
- ``POST /api/v1/signatures/finish`` (the same user): the agent's raw signature → the signed PDF.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.log import append_txn
from server.auth.principal import Principal, Role, require_principal
from server.errors import ValidationFailed
from server.http.jsonio import json_ok, read_json_object
from server.http.keys import CONFIG_KEY, DB_KEY
from server.http.openapi import OPENAPI_KEY, ApiRoutes, Schema
from signing.errors import InvalidPdf, SigningErrorCode
from signing.pades import Level, Placement, SignOptions
from signing.remote import (
    REMOTE_KEY,
    RemoteSigning,
    parse_signature,
    parse_signer,
    prepared_dict,
    tsa_url_from_env,
)
from signing.service import (
    PEM_TYPES,
    SIGNING_KEY,
    SigningServices,
    add_roots,
    list_roots,
    read_upload,
    remove_root,
    root_dict,
    sha256_hex,
    verify_upload,
)
from signing.stamps import Role as StampRole
from signing.trust import TrustStore
from signing.worker import VerificationWorker

routes = ApiRoutes()
TAGS = ("signing",)

_SIGNATURE: Schema = {
    "type": "object",
    "properties": {
        "field_name": {"type": "string"},
        "kind": {"type": "string", "enum": ["signature", "document_timestamp"]},
        "signer": {"type": "string"},
        "signer_subject": {"type": "string"},
        "ok": {"type": "boolean"},
        "intact": {"type": "boolean"},
        "valid": {"type": "boolean"},
        "trusted": {"type": "boolean"},
        "revocation": {"type": "string", "enum": ["good", "revoked", "unknown"]},
        "modification": {"type": "string"},
        "covers_whole_file": {"type": "boolean"},
        "level": {"type": "string"},
        "signing_time": {"type": ["string", "null"]},
        "timestamp_time": {"type": ["string", "null"]},
        "timestamp_ok": {"type": ["boolean", "null"]},
        "validation_time": {"type": "string"},
        "as_of_timestamp": {"type": "boolean"},
        "problems": {"type": "array", "items": {"type": "string"}},
        "summary_vi": {"type": "string"},
    },
}
REPORT_SCHEMA: Schema = {
    "type": "object",
    "properties": {
        "ok": {"type": "boolean"},
        "summary_vi": {"type": "string"},
        "sha256": {"type": "string"},
        "signatures": {"type": "array", "items": _SIGNATURE},
    },
    "required": ["ok", "summary_vi", "signatures"],
}
_ROOT: Schema = {
    "type": "object",
    "properties": {
        "fingerprint": {"type": "string", "description": "SHA-256 of the DER certificate, hex"},
        "subject": {"type": "string"},
        "not_after": {"type": "string", "format": "date-time"},
    },
}


@routes.route(
    "POST",
    "/api/v1/signatures/verify",
    summary="Validate every signature of a PDF (body application/pdf, or multipart 'file')",
    tags=TAGS,
    body={"type": "string", "format": "binary"},
    response=REPORT_SCHEMA,
    content_type="application/pdf",
)
async def verify(request: web.Request) -> web.Response:
    require_principal(request)
    report, _name, data = await verify_upload(request)
    return json_ok({**report.to_dict(), "sha256": sha256_hex(data)})


@routes.route(
    "GET",
    "/api/v1/trust-roots",
    summary="The server's trust roots (admin)",
    tags=TAGS,
    response={"type": "object", "properties": {"roots": {"type": "array", "items": _ROOT}}},
)
async def roots_list(request: web.Request) -> web.Response:
    require_principal(request, Role.ADMIN)
    roots = await list_roots(request.app[SIGNING_KEY])
    return json_ok({"roots": [root_dict(r) for r in roots]})


@routes.route(
    "POST",
    "/api/v1/trust-roots",
    summary='Add root CA certificates: a PEM/DER body or {"pem": ...} (admin)',
    tags=TAGS,
    body={"type": "string", "description": "PEM (one or more CERTIFICATE blocks) or DER"},
    response={
        "type": "object",
        "properties": {
            "added": {"type": "array", "items": _ROOT},
            "already_present": {"type": "array", "items": _ROOT},
        },
    },
    content_type="application/x-pem-file",
)
async def roots_add(request: web.Request) -> web.Response:
    p = require_principal(request, Role.ADMIN)
    services = request.app[SIGNING_KEY]
    if request.content_type == "application/json":
        body = await read_json_object(request)
        pem = body.get("pem")
        if not isinstance(pem, str) or not pem.strip():
            raise ValidationFailed(
                "Field 'pem' must hold the certificate in PEM.",
                detail_vi="Trường 'pem' phải chứa chứng thư dạng PEM.",
                extra={"field": "pem"},
            )
        data, name = pem.encode("utf-8"), "pem"
    else:
        data, name = await read_upload(request, services.max_cert_bytes, raw_types=PEM_TYPES)
    result = await add_roots(request.app[DB_KEY], services, p, data, name or "api")
    answer: dict[str, Any] = {
        "added": [root_dict(r) for r in result.added],
        "already_present": [root_dict(r) for r in result.already_present],
    }
    return json_ok(answer, status=201 if result.added else 200)


@routes.route(
    "DELETE",
    "/api/v1/trust-roots/{fingerprint}",
    summary="Remove a trust root by SHA-256 fingerprint (admin)",
    tags=TAGS,
    response={"type": "object", "properties": {"removed": _ROOT}},
)
async def roots_remove(request: web.Request) -> web.Response:
    p = require_principal(request, Role.ADMIN)
    root = await remove_root(
        request.app[DB_KEY], request.app[SIGNING_KEY], p, request.match_info["fingerprint"]
    )
    return json_ok({"removed": root_dict(root)})


_PREPARED: Schema = {
    "type": "object",
    "properties": {
        "request_id": {"type": "string"},
        "to_sign_b64": {"type": "string", "description": "DER signed attributes, for the agent"},
        "message_digest": {"type": "string", "description": "SHA-256 of the signed byte range"},
        "document_sha256": {"type": "string"},
        "field_name": {"type": "string"},
        "expires_in": {"type": "integer", "description": "seconds"},
    },
}
_PREPARE_REQUEST: Schema = {
    "type": "object",
    "properties": {
        "certificate_b64": {"type": "string", "description": "the signer's certificate, DER"},
        "chain_b64": {"type": "array", "items": {"type": "string"}},
        "role": {"type": "string", "enum": [r.value for r in StampRole]},
        "level": {"type": "string", "enum": ["b-b", "b-t"]},
        "number": {"type": "string", "description": "number/notation (attachment stamp)"},
        "anchor_text": {"type": "string", "description": "position title to place the stamp"},
        "page": {"type": "integer"},
        "box": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4},
    },
    "required": ["certificate_b64"],
}


def remote_owner(p: Principal) -> str:
    """Who owns a pending two-phase signature: the user, whatever session or token they use."""
    return f"user:{p.user_id}"


def sign_options(body: dict[str, Any], tsa_url: str | None) -> SignOptions:
    """Stamp role, number, anchor and level of a prepare request, checked."""
    try:
        role = StampRole(str(body.get("role") or StampRole.INVISIBLE.value))
        level = Level(str(body.get("level") or (Level.B_T if tsa_url else Level.B_B).value))
    except ValueError:
        raise ValidationFailed(
            "unknown role or level",
            detail_vi="Kiểu chữ ký (role) hoặc mức ký (level) không hợp lệ.",
        ) from None
    if level is Level.B_T and not tsa_url:
        raise ValidationFailed(
            "this server has no timestamp authority (LIENTHONG_TSA_URL): sign at b-b",
            detail_vi="Máy chủ chưa cấu hình dịch vụ cấp dấu thời gian; chỉ ký được mức B-B.",
        )
    number = str(body.get("number") or "")[:100] or None
    anchor = str(body.get("anchor_text") or "").strip()[:200] or "CHỦ TỊCH"
    placement = None
    if body.get("box") is not None:
        box, page = body.get("box"), body.get("page", 0)
        if (
            not isinstance(box, list)
            or len(box) != 4
            or not all(isinstance(v, int | float) for v in box)
            or not isinstance(page, int)
            or page < 0
        ):
            raise ValidationFailed(
                "box must be [x1, y1, x2, y2] and page a page index",
                detail_vi="Vị trí chữ ký (box, page) không hợp lệ.",
            )
        placement = Placement(page, (box[0], box[1], box[2], box[3]))
    return SignOptions(
        level=level,
        tsa_url=tsa_url,
        role=role,
        number=number,
        anchor_text=anchor,
        placement=placement,
    )


@routes.route(
    "POST",
    "/api/v1/signatures/prepare",
    summary="Two-phase signing, step 1: the PDF ('file') and the signer's certificate ('request', "
    "JSON) → the signed attributes for the signing agent",
    tags=TAGS,
    body={
        "type": "object",
        "properties": {
            "file": {"type": "string", "format": "binary"},
            "request": {"type": "string", "description": "JSON: " + json.dumps(_PREPARE_REQUEST)},
        },
        "required": ["file", "request"],
    },
    response=_PREPARED,
    content_type="multipart/form-data",
)
async def remote_prepare(request: web.Request) -> web.Response:
    p = require_principal(request)
    services = request.app[SIGNING_KEY]
    remote = request.app[REMOTE_KEY]
    if request.content_type != "multipart/form-data":
        raise ValidationFailed(
            "send multipart/form-data with 'file' and 'request'",
            detail_vi="Cần gửi biểu mẫu multipart gồm tệp PDF (file) và yêu cầu ký (request).",
        )
    form = await request.post()
    raw = form.get("request")
    try:
        body = json.loads(raw) if isinstance(raw, str) else None
    except json.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        raise ValidationFailed(
            "the 'request' part must be a JSON object",
            detail_vi="Phần 'request' phải là đối tượng JSON.",
            extra={"field": "request"},
        )
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        raise InvalidPdf("no file", "chưa chọn tệp PDF.")
    data = await asyncio.to_thread(upload.file.read, services.max_pdf_bytes + 1)
    if len(data) > services.max_pdf_bytes:
        raise ValidationFailed(
            "the file is too large",
            detail_vi=f"Tệp quá lớn: tối đa {services.max_pdf_bytes // (1024 * 1024)} MB.",
            code=SigningErrorCode.TOO_LARGE,
            status=413,
        )
    cert, chain = parse_signer(body)
    options = sign_options(body, remote.tsa_url)
    prepared = await remote.prepare(
        data, cert, chain, options, owner=remote_owner(p), context="upload"
    )
    return json_ok(prepared_dict(prepared, remote.ttl))


@routes.route(
    "POST",
    "/api/v1/signatures/finish",
    summary="Two-phase signing, step 2: the agent's signature → the signed PDF (who prepared only)",
    tags=TAGS,
    body={
        "type": "object",
        "properties": {"request_id": {"type": "string"}, "signature_b64": {"type": "string"}},
        "required": ["request_id", "signature_b64"],
    },
    response={"type": "string", "format": "binary"},
)
async def remote_finish(request: web.Request) -> web.StreamResponse:
    p = require_principal(request)
    request_id, signature = parse_signature(await read_json_object(request))
    remote = request.app[REMOTE_KEY]
    signer = remote.signer_name(request_id, owner=remote_owner(p))
    signed = await remote.finish(request_id, signature, owner=remote_owner(p), context="upload")
    digest = sha256_hex(signed)

    async def audit(session: AsyncSession) -> None:
        await append_txn(
            session,
            "signature.made",
            actor=p.login,
            actor_user_id=p.user_id,
            target=f"sha256:{digest}",
            details={"signer": signer, "via": "agent", "bytes": len(signed)},
        )

    await request.app[DB_KEY].write("audit_remote_signature", audit)
    return web.Response(
        body=signed,
        content_type="application/pdf",
        headers={
            "Content-Disposition": 'attachment; filename="signed.pdf"',
            "X-Content-SHA256": digest,
        },
    )


def setup(app: web.Application) -> None:
    """Mount the API; keep one validation worker over ``Config.trust_dir`` for the app's life."""
    config = app[CONFIG_KEY]
    app.router.add_routes(routes.table)
    app[OPENAPI_KEY].append(routes)
    store = TrustStore(config.trust_dir)
    worker = VerificationWorker(config.trust_dir)
    app[SIGNING_KEY] = SigningServices(worker=worker, store=store)
    remote = RemoteSigning()
    remote.tsa_url = tsa_url_from_env(os.environ)
    app[REMOTE_KEY] = remote

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        yield
        await worker.close()

    app.cleanup_ctx.append(ctx)
