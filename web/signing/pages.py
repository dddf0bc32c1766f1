"""The signature pages: ``/verify`` (anyone logged in uploads a signed PDF and reads the report
per signature) and ``/admin/trust`` (administrators list, add and remove the trust roots).

Plain HTML forms (no script: the CSP allows ``script-src 'self'`` only); the work is done by the
same services as the API (:mod:`signing.service`): validation off the event loop, audited changes
to the roots.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.auth.principal import Principal, Role, require_principal
from server.errors import LienThongError
from server.http.keys import DB_KEY
from signing.service import (
    PEM_TYPES,
    SIGNING_KEY,
    add_roots,
    list_roots,
    read_upload,
    remove_root,
    sha256_hex,
    verify_upload,
)
from signing.validate import DocumentReport
from web.i18n import lang_of
from web.shell.pages import login_required
from web.shell.render import render
from web.signing.texts import texts


def _message(request: web.Request, err: LienThongError) -> str:
    return err.detail_vi if lang_of(request) == "vi" else err.detail


def _headline(t: dict[str, str], report: DocumentReport) -> str:
    n = len(report.signatures)
    if n == 0:
        return t["verify.none"]
    bad = sum(1 for s in report.signatures if not s.ok)
    return t["verify.all_ok"].format(n=n) if bad == 0 else t["verify.some_bad"].format(n=n, bad=bad)


async def verify_get(request: web.Request) -> web.StreamResponse:
    login_required(request)
    t = texts(lang_of(request))
    return render(request, "signing/verify.html", {"t": t, "report": None})


async def verify_post(request: web.Request) -> web.StreamResponse:
    login_required(request)
    require_principal(request)
    t = texts(lang_of(request))
    context: dict[str, Any] = {"t": t, "report": None}
    try:
        report, name, data = await verify_upload(request)
    except LienThongError as err:
        context["error"] = _message(request, err)
        return render(request, "signing/verify.html", context, status=err.status)
    context.update(
        report=report,
        headline=_headline(t, report),
        file_name=name,
        sha256=sha256_hex(data),
    )
    return render(request, "signing/verify.html", context)


def _admin(request: web.Request) -> Principal:
    login_required(request)
    return require_principal(request, Role.ADMIN)


async def _trust_page(
    request: web.Request, *, error: str | None = None, notice: str | None = None, status: int = 200
) -> web.Response:
    roots = await list_roots(request.app[SIGNING_KEY])
    context = {"t": texts(lang_of(request)), "roots": roots, "error": error, "notice": notice}
    return render(request, "signing/admin_trust.html", context, status=status)


async def trust_get(request: web.Request) -> web.StreamResponse:
    _admin(request)
    return await _trust_page(request)


async def trust_post(request: web.Request) -> web.StreamResponse:
    p = _admin(request)
    services = request.app[SIGNING_KEY]
    t = texts(lang_of(request))
    try:
        form = await request.post()
        pasted = str(form.get("pem", "") or "").strip()
        upload = form.get("file")
        if isinstance(upload, web.FileField) and upload.filename:
            data, name = await read_upload(request, services.max_cert_bytes, raw_types=PEM_TYPES)
        else:
            data, name = pasted.encode("utf-8"), "pem"
        result = await add_roots(request.app[DB_KEY], services, p, data, name)
    except LienThongError as err:
        return await _trust_page(request, error=_message(request, err), status=err.status)
    notice = t["trust.added"].format(n=len(result.added)) if result.added else t["trust.present"]
    return await _trust_page(request, notice=notice)


async def trust_remove(request: web.Request) -> web.StreamResponse:
    p = _admin(request)
    t = texts(lang_of(request))
    try:
        root = await remove_root(
            request.app[DB_KEY], request.app[SIGNING_KEY], p, request.match_info["fingerprint"]
        )
    except LienThongError as err:
        return await _trust_page(request, error=_message(request, err), status=err.status)
    return await _trust_page(request, notice=t["trust.removed"].format(subject=root.subject))


def add_pages(app: web.Application) -> None:
    r = app.router
    r.add_get("/verify", verify_get)
    r.add_post("/verify", verify_post)
    r.add_get("/admin/trust", trust_get)
    r.add_post("/admin/trust", trust_post)
    r.add_post("/admin/trust/{fingerprint}/remove", trust_remove)
