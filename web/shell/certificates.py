"""The admin users page's section on signing certificates (chứng thư số): register one to a
person, approve one proposed on first use, withdraw a registration (:mod:`signing.binding`)."""

from __future__ import annotations

from aiohttp import web

from server.api.certificates import decide_certificate, register_certificate
from server.errors import LienThongError
from server.http.keys import DB_KEY
from server.http.params import path_int
from web.i18n import lang_of, translate
from web.shell.admin import _users_page, admin_only, message_of


async def certificate_post(request: web.Request) -> web.StreamResponse:
    """Register a certificate (``certificate``: PEM or base64 DER) to ``login``, approved."""
    p = admin_only(request)
    form = await request.post()
    login, text = str(form.get("login", "")), str(form.get("certificate", ""))
    try:
        await register_certificate(request.app[DB_KEY], p, login, text)
    except LienThongError as err:
        return await _users_page(request, error=message_of(request, err), status=err.status)
    return await _users_page(request, notice=translate("saved", lang_of(request)))


async def certificate_decide_post(request: web.Request) -> web.StreamResponse:
    """Approve (``action`` = approve) or withdraw (``action`` = revoke) a registration."""
    p = admin_only(request)
    form = await request.post()
    status = {"approve": "approved", "revoke": "revoked"}.get(str(form.get("action", "")))
    login, cert_id = request.match_info["login"], path_int(request, "id")
    try:
        if status is None:
            raise LienThongError("unknown action", detail_vi="Thao tác không hợp lệ.")
        await decide_certificate(request.app[DB_KEY], p, login, cert_id, status)
    except LienThongError as err:
        return await _users_page(request, error=message_of(request, err), status=err.status)
    return await _users_page(request, notice=translate("saved", lang_of(request)))
