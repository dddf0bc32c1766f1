"""Finds who is asking (session cookie or bearer token) and enforces CSRF on session requests.

A request carrying a bearer token that is unknown, expired or revoked is refused at once (401),
rather than treated as anonymous, so that a script learns its token is bad.  Unsafe methods
(POST, PUT, PATCH, DELETE) from a browser session need the session's CSRF token, as the header
``X-CSRF-Token`` or the form field ``csrf_token``; token-authenticated calls need none.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import ApiToken
from server.accounts.users import TokenUse, session_principal_txn, token_principal_txn
from server.auth.cache import LOGINS_KEY, CachedLogin
from server.auth.principal import PRINCIPAL_KEY, Principal
from server.auth.sessions import (
    COOKIE,
    cookie_digest,
    needs_slide,
    slide_session_txn,
)
from server.db.base import utcnow
from server.errors import Forbidden, Unauthorized
from server.http.keys import CONFIG_KEY, DB_KEY

CSRF_KEY = web.RequestKey("csrf", str)
"""The session's CSRF token, for pages to put in their forms."""
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BadToken(Unauthorized):
    code = "auth.bad_token"


class CsrfFailed(Forbidden):
    code = "auth.csrf"


class PasswordChangeRequired(Forbidden):
    code = "auth.password_change_required"


ACCOUNT_PAGE = "/account"
WHILE_MUST_CHANGE = frozenset(
    {ACCOUNT_PAGE, "/account/password", "/logout", "/lang", "/api/v1/me", "/api/v1/me/password"}
)
"""What a session whose password an administrator reset may reach until it chooses its own."""


def _check_must_change(request: web.Request) -> None:
    """After a reset, the session reaches only the account page: a page view is sent there, any
    other request is refused (403) until the person chooses their own password."""
    path = request.path
    if path in WHILE_MUST_CHANGE or path.startswith("/static/"):
        return
    if request.method == "GET" and "text/html" in request.headers.get("Accept", ""):
        raise web.HTTPFound(ACCOUNT_PAGE)
    raise PasswordChangeRequired(
        "Choose a new password on /account first.",
        detail_vi="Vui lòng đổi mật khẩu tại trang Tài khoản của tôi trước.",
    )


async def _from_token(request: web.Request, value: str) -> Principal:
    db = request.app[DB_KEY]

    async def find(session: AsyncSession) -> tuple[TokenUse, Principal] | None:
        return await token_principal_txn(session, value)

    found = await db.read_one("auth_token", find)
    if found is None:
        raise BadToken(
            "The API token is unknown, expired or revoked.",
            detail_vi="Mã truy cập API không hợp lệ, đã hết hạn hoặc đã bị thu hồi.",
        )
    use, principal = found
    if use.last_used_at is None or (utcnow() - use.last_used_at).total_seconds() > 300:
        token_id = use.token_id

        async def touch(session: AsyncSession) -> None:
            token = await session.get(ApiToken, token_id)
            if token is not None:
                token.last_used_at = utcnow()

        await db.write("auth_token_touch", touch)
    return principal


async def _from_cookie(request: web.Request, value: str) -> Principal | None:
    db = request.app[DB_KEY]
    hours = request.app[CONFIG_KEY].auth.session_hours
    cache = request.app.get(LOGINS_KEY)
    digest = cookie_digest(value)
    login = cache.get(digest) if cache is not None else None
    if login is None:
        generation = cache.generation if cache is not None else 0

        async def find(session: AsyncSession) -> CachedLogin | None:
            found = await session_principal_txn(session, digest)
            if found is None:
                return None
            use, principal = found
            return CachedLogin(
                use.session_id, principal.user_id, use.csrf_token, use.expires_at, principal
            )

        login = await db.read_one("auth_session", find)
        if login is None:
            return None
        if cache is not None:
            cache.put(digest, login, generation)
    if needs_slide(login.expires_at, hours):
        sid = login.session_id

        async def slide(session: AsyncSession) -> datetime:
            return await slide_session_txn(session, sid, hours)

        expires_at = await db.write("auth_session_slide", slide)
        if cache is not None:
            cache.slid(digest, expires_at)
    request[CSRF_KEY] = login.csrf_token
    return login.principal


async def _check_csrf(request: web.Request) -> None:
    expected = request.get(CSRF_KEY, "")
    given = request.headers.get("X-CSRF-Token", "")
    if not given and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        form = await request.post()
        field = form.get("csrf_token")
        given = field if isinstance(field, str) else ""
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise CsrfFailed(
            "Missing or wrong CSRF token.",
            detail_vi="Phiên làm việc không hợp lệ (thiếu mã CSRF). Vui lòng tải lại trang và thử lại.",
        )


def _check_websocket_origin(request: web.Request) -> None:
    """A WebSocket opened with the session cookie must come from one of our own pages.

    Browsers send ``Origin`` on every WebSocket handshake; a page of another site could otherwise
    ride on the cookie (cross-site WebSocket hijacking), since CSRF tokens do not apply to GET.
    """
    origin = request.headers.get("Origin")
    if origin is None:
        return  # not a browser: no ambient cookie to abuse
    if urlsplit(origin).netloc != request.host:
        raise CsrfFailed(
            "WebSocket from another site refused.",
            detail_vi="Kết nối từ trang web khác bị từ chối.",
        )


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    principal: Principal | None = None
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise BadToken(
                "Use 'Authorization: Bearer <token>'.",
                detail_vi="Tiêu đề Authorization phải có dạng 'Bearer <mã truy cập>'.",
            )
        principal = await _from_token(request, value.strip())
    else:
        cookie = request.cookies.get(COOKIE)
        if cookie:
            principal = await _from_cookie(request, cookie)
            if principal is not None and request.method in UNSAFE:
                await _check_csrf(request)
            if principal is not None and request.headers.get("Upgrade", "").lower() == "websocket":
                _check_websocket_origin(request)
            if principal is not None and principal.must_change_password:
                _check_must_change(request)
    if principal is not None:
        request[PRINCIPAL_KEY] = principal
    return await handler(request)
