"""``/api/v1/signatures/verify`` and ``/api/v1/trust-roots``; ``setup(app)`` mounts them.

- ``POST /api/v1/signatures/verify`` (anyone logged in): the PDF as the body
  (``application/pdf``) or as the ``file`` part of a multipart form → the report per signature,
  validated against the server's trust roots (``Config.trust_dir``) off the event loop
  (:mod:`signing.worker`). Not a PDF, hostile or too large → problem+json with ``detail_vi``.
- ``GET /api/v1/trust-roots`` (admin): the pinned roots.
- ``POST /api/v1/trust-roots`` (admin): add the CA certificates of a PEM/DER body, or of
  ``{"pem": "..."}``; audited ``trust_root.added``.
- ``DELETE /api/v1/trust-roots/{fingerprint}`` (admin): remove one; audited ``trust_root.removed``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from server.auth.principal import Role, require_principal
from server.errors import ValidationFailed
from server.http.jsonio import json_ok, read_json_object
from server.http.keys import CONFIG_KEY, DB_KEY
from server.http.openapi import OPENAPI_KEY, ApiRoutes, Schema
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


def setup(app: web.Application) -> None:
    """Mount the API; keep one validation worker over ``Config.trust_dir`` for the app's life."""
    config = app[CONFIG_KEY]
    app.router.add_routes(routes.table)
    app[OPENAPI_KEY].append(routes)
    store = TrustStore(config.trust_dir)
    worker = VerificationWorker(config.trust_dir)
    app[SIGNING_KEY] = SigningServices(worker=worker, store=store)

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        yield
        await worker.close()

    app.cleanup_ctx.append(ctx)
