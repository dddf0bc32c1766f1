"""Login, logout, the home page, the account page, the language switch and the error page."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.tokens import create_token_txn
from server.audit.log import append_txn
from server.auth.devices import COOKIE as DEVICE_COOKIE
from server.auth.devices import MAX_AGE_DAYS as DEVICE_MAX_AGE_DAYS
from server.auth.lifecycle import change_own_password
from server.auth.principal import get_principal, require_principal
from server.auth.service import log_in, log_out
from server.auth.sessions import COOKIE
from server.errors import Forbidden, LienThongError, Unauthorized, ValidationFailed
from server.http.keys import CONFIG_KEY, DB_KEY
from server.http.remote import client_address
from server.realtime import HUB_KEY
from web.i18n import COOKIE as LANG_COOKIE
from web.i18n import LANGS, lang_of, translate
from web.shell.render import render
from web.shell.tiles import tiles_for, waiting_counts

PRELOGIN = "lt_prelogin"
"""Double-submit cookie protecting the login form itself (there is no session yet)."""


def safe_next(value: str | None) -> str:
    """Only same-site paths: ``//evil`` and ``https://evil`` become ``/``."""
    if not value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return "/"
    return value


def _login_page(
    request: web.Request, *, error: str | None = None, status: int = 200
) -> web.Response:
    token = request.cookies.get(PRELOGIN) or secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        {"prelogin": token, "next": safe_next(request.query.get("next")), "error": error},
        status=status,
    )
    response.set_cookie(
        PRELOGIN,
        token,
        httponly=True,
        samesite="Strict",
        secure=request.app[CONFIG_KEY].http.secure_cookies,
        path="/login",
    )
    return response


async def login_get(request: web.Request) -> web.StreamResponse:
    if get_principal(request) is not None:
        raise web.HTTPFound(safe_next(request.query.get("next")))
    return _login_page(request)


async def login_post(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    given = str(form.get("prelogin", ""))
    expected = request.cookies.get(PRELOGIN, "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        return _login_page(
            request,
            error=translate("login.form_expired", lang_of(request)),
            status=403,
        )
    config = request.app[CONFIG_KEY]
    try:
        done = await log_in(
            request.app[DB_KEY],
            config.auth,
            str(form.get("login", "")),
            str(form.get("password", "")),
            remote=client_address(request),
            user_agent=request.headers.get("User-Agent", ""),
            device=request.cookies.get(DEVICE_COOKIE),
        )
    except LienThongError as err:
        message = err.detail_vi if lang_of(request) == "vi" else err.detail
        return _login_page(request, error=message, status=err.status)
    response = web.HTTPFound(safe_next(str(form.get("next", "/"))))
    if done.device_cookie is not None:
        response.set_cookie(
            DEVICE_COOKIE,
            done.device_cookie,
            httponly=True,
            samesite="Strict",
            secure=config.http.secure_cookies,
            max_age=DEVICE_MAX_AGE_DAYS * 86400,
            path="/login",
        )
    response.set_cookie(
        COOKIE,
        done.session.cookie,
        httponly=True,
        samesite="Lax",
        secure=config.http.secure_cookies,
        max_age=config.auth.session_hours * 3600,
        path="/",
    )
    response.del_cookie(PRELOGIN, path="/login")
    raise response


async def logout_post(request: web.Request) -> web.StreamResponse:
    principal = get_principal(request)
    if principal is not None and principal.session_id is not None:
        form = await request.post()
        await log_out(
            request.app[DB_KEY],
            user_id=principal.user_id,
            login=principal.login,
            session_id=principal.session_id,
            everywhere=form.get("everywhere") == "1",
        )
        if form.get("everywhere") == "1":
            request.app[HUB_KEY].drop_user(principal.user_id)
    response = web.HTTPFound("/login")
    response.del_cookie(COOKIE, path="/")
    # A shared tablet must not keep the last reader's papers (Cache Storage of the sessions'
    # offline worker), notes waiting to sync (localStorage) or cached pages.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    raise response


def login_required(request: web.Request) -> None:
    if get_principal(request) is None:
        raise web.HTTPFound(f"/login?next={request.path_qs}")


async def home(request: web.Request) -> web.StreamResponse:
    login_required(request)
    principal = require_principal(request)
    tiles = tiles_for(request.app, principal)
    mounted = any(t.key == "tile.drafts" and ok for t, ok in tiles)
    counts = await waiting_counts(request.app, principal) if mounted else {}
    return render(request, "home.html", {"tiles": tiles, "counts": counts})


async def account_get(request: web.Request) -> web.StreamResponse:
    login_required(request)
    return render(request, "account.html", {"new_token": None, "password_changed": False})


async def account_password_post(request: web.Request) -> web.StreamResponse:
    """Change one's own password: the current one is required, the new one typed twice; every
    other session of the person ends (and their realtime sockets are dropped)."""
    login_required(request)
    p = require_principal(request)
    form = await request.post()
    new = str(form.get("new_password", ""))
    lang = lang_of(request)
    try:
        if new != str(form.get("new_password2", "")):
            raise ValidationFailed(
                "The two new passwords differ.", detail_vi="Hai lần nhập mật khẩu mới không khớp."
            )
        await change_own_password(
            request.app[DB_KEY],
            request.app[CONFIG_KEY].auth,
            user_id=p.user_id,
            current=str(form.get("current_password", "")),
            new=new,
            keep_session_id=p.session_id,
        )
    except LienThongError as err:
        message = err.detail_vi if lang == "vi" else err.detail
        return render(
            request,
            "account.html",
            {"new_token": None, "error": message, "password_changed": False},
            status=err.status,
        )
    request.app[HUB_KEY].drop_user(p.user_id)
    notice = translate("account.password_changed", lang)
    # the page is rendered for a principal read before the change: show it as changed
    context = {"new_token": None, "notice": notice, "password_changed": True}
    return render(request, "account.html", context)


async def account_token_post(request: web.Request) -> web.StreamResponse:
    login_required(request)
    p = require_principal(request)
    form = await request.post()
    name = str(form.get("name", ""))[:100]

    async def make(session: AsyncSession) -> str:
        value, row = await create_token_txn(
            session, p.user_id, name=name, session_id=p.origin_session_id
        )
        await append_txn(
            session, "token.created", actor=p.login, actor_user_id=p.user_id, target=row.prefix
        )
        return value

    value = await request.app[DB_KEY].write("create_token", make)
    return render(request, "account.html", {"new_token": value, "password_changed": False})


async def set_language(request: web.Request) -> web.StreamResponse:
    lang = request.query.get("to", "vi")
    response = web.HTTPFound(safe_next(request.query.get("next")))
    if lang in LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="Lax", path="/")
    raise response


async def error_page(request: web.Request, err: LienThongError) -> web.StreamResponse:
    """Errors shown to people: a Vietnamese sentence; anonymous visitors go to the login page."""
    if isinstance(err, Unauthorized) and request.method == "GET":
        raise web.HTTPFound(f"/login?next={request.path_qs}")
    message = err.detail_vi if lang_of(request) == "vi" else err.detail
    status = err.status if not isinstance(err, Forbidden) else 403
    return render(request, "error.html", {"message": message, "code": err.code}, status=status)
