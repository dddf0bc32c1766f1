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
from typing import Annotated, Any

from aiohttp import web
from pydantic import Field, StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from server import jsonstrict
from server.audit.log import append_txn
from server.auth.principal import Role, require_principal
from server.errors import ValidationFailed
from server.http.body import Body, parse_body, read_body
from server.http.jsonio import json_ok
from server.http.keys import CONFIG_KEY, DB_KEY
from server.http.openapi import OPENAPI_KEY, ApiRoutes, Schema
from signing.binding import SignerBinding
from signing.errors import InvalidPdf, SigningErrorCode
from signing.pades import Level, Placement, SignOptions
from signing.remote import REMOTE_KEY, RemoteSigning, tsa_url_from_env
from signing.service import (
    MAX_CERT_BYTES,
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
from signing.twophase import (
    FinishBody,
    PrepareBody,
    Prepared,
    finish_for,
    prepare_for,
    remote_owner,
)
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


class PemBody(Body):
    """``POST /api/v1/trust-roots`` as JSON: the CA certificates in PEM."""

    pem: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_CERT_BYTES)
    ] = Field(description="one or more PEM CERTIFICATE blocks")


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
        body = await read_body(request, PemBody)
        data, name = body.pem.encode("utf-8"), "pem"
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


class UploadPrepareBody(PrepareBody):
    """The ``request`` part of ``POST /api/v1/signatures/prepare``: the signer's certificate and
    how the signature looks on the uploaded PDF."""

    role: StampRole | None = Field(default=None, description="stamp; invisible when not given")
    level: Level | None = Field(default=None, description="b-b or b-t (b-t with the server's TSA)")
    number: str | None = Field(default=None, description="number/notation (attachment stamp)")
    anchor_text: str | None = Field(default=None, description="position title to place the stamp")
    page: int = Field(default=0, ge=0, le=2**31 - 1, description="0-based, with box")
    box: tuple[float, float, float, float] | None = Field(
        default=None, description="[x1, y1, x2, y2] in PDF points"
    )


def sign_options(body: UploadPrepareBody, tsa_url: str | None) -> SignOptions:
    """Stamp role, number, anchor and level of a prepare request, checked."""
    level = body.level or (Level.B_T if tsa_url else Level.B_B)
    if level is Level.B_T and not tsa_url:
        raise ValidationFailed(
            "this server has no timestamp authority (LIENTHONG_TSA_URL): sign at b-b",
            detail_vi="Máy chủ chưa cấu hình dịch vụ cấp dấu thời gian; chỉ ký được mức B-B.",
        )
    return SignOptions(
        level=level,
        tsa_url=tsa_url,
        role=body.role or StampRole.INVISIBLE,
        number=(body.number or "")[:100] or None,
        anchor_text=(body.anchor_text or "").strip()[:200] or "CHỦ TỊCH",
        placement=Placement(body.page, body.box) if body.box is not None else None,
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
            "request": {
                "type": "string",
                "description": "JSON: " + json.dumps(UploadPrepareBody.model_json_schema()),
            },
        },
        "required": ["file", "request"],
    },
    response=Prepared,
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
    body = parse_body(UploadPrepareBody, _json_part(form.get("request")))
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
    options = sign_options(body, remote.tsa_url)

    async def pdf() -> bytes:
        return data

    return json_ok(
        await prepare_for(remote, body, pdf, principal=p, context="upload", options=options)
    )


def _json_part(raw: object) -> object:
    """The ``request`` part of the form, parsed (strictly, as every JSON body)."""
    try:
        parsed = jsonstrict.loads(raw) if isinstance(raw, str) else None
    except jsonstrict.StrictJsonError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ValidationFailed(
            "the 'request' part must be a JSON object",
            detail_vi="Phần 'request' phải là đối tượng JSON.",
            extra={"field": "request"},
        )
    return parsed


@routes.route(
    "POST",
    "/api/v1/signatures/finish",
    summary="Two-phase signing, step 2: the agent's signature → the signed PDF (who prepared only)",
    tags=TAGS,
    body=FinishBody,
    response={"type": "string", "format": "binary"},
)
async def remote_finish(request: web.Request) -> web.StreamResponse:
    p = require_principal(request)
    body = await read_body(request, FinishBody)
    remote = request.app[REMOTE_KEY]
    signer = remote.signer_name(body.request_id, owner=remote_owner(p))
    signed = await finish_for(remote, body, principal=p, context="upload")
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
    remote.binding = SignerBinding(lambda: app[DB_KEY])
    app[REMOTE_KEY] = remote

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        yield
        await worker.close()

    app.cleanup_ctx.append(ctx)
