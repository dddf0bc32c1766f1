"""One middleware turns every error into an answer: problem+json for the API, a page for people.

Project errors (:class:`~server.errors.LienThongError`) carry their status and Vietnamese text.
aiohttp's own HTTP errors (unknown route, wrong method, body too large) are translated.  Anything
else is a bug: logged with its traceback under an id that the generic 500 body repeats.
"""

from __future__ import annotations

import json
import logging
import uuid

from aiohttp import web
from aiohttp.typedefs import Handler

from server.errors import (
    BadRequest,
    LienThongError,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
)
from server.http.keys import ERROR_PAGE_KEY

log = logging.getLogger("lienthong.http")

PROBLEM = "application/problem+json"


def wants_html(request: web.Request) -> bool:
    if request.path.startswith("/api/") or request.path in ("/healthz", "/readyz", "/metrics"):
        return False
    return "text/html" in request.headers.get("Accept", "")


def problem_response(err: LienThongError) -> web.Response:
    headers = {}
    if isinstance(err, Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="lienthong"'
    retry = err.extra.get("retry_after")
    if retry is not None:
        headers["Retry-After"] = str(retry)
    return web.Response(
        status=err.status,
        body=json.dumps(err.to_problem(), ensure_ascii=False).encode("utf-8"),
        content_type=PROBLEM,
        charset="utf-8",
        headers=headers,
    )


def _from_http_exception(exc: web.HTTPException) -> LienThongError:
    if exc.status == 404:
        return NotFound("No such resource.", detail_vi="Không tìm thấy trang hoặc tài nguyên này.")
    if exc.status == 405:
        return LienThongError(
            "Method not allowed.",
            detail_vi="Phương thức không được hỗ trợ.",
            status=405,
            code="method_not_allowed",
        )
    if exc.status == 413:
        return PayloadTooLarge(
            "The request body is too large.", detail_vi="Dữ liệu gửi lên quá lớn."
        )
    if exc.status == 400:
        return BadRequest(exc.text or "Bad request.", detail_vi="Yêu cầu không hợp lệ.")
    return LienThongError(
        exc.reason or "Error", detail_vi=exc.reason or "Lỗi", status=exc.status, code="http"
    )


async def _answer(request: web.Request, err: LienThongError) -> web.StreamResponse:
    renderer = request.app.get(ERROR_PAGE_KEY)
    if renderer is not None and wants_html(request):
        response: web.StreamResponse = await renderer(request, err)
        return response
    return problem_response(err)


@web.middleware
async def problems_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except LienThongError as err:
        if err.status >= 500:
            log.error(
                "server error %s on %s %s: %s", err.code, request.method, request.path, err.detail
            )
        return await _answer(request, err)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects and the like
        return await _answer(request, _from_http_exception(exc))
    except Exception:
        incident = uuid.uuid4().hex[:12]
        log.exception("unhandled error %s on %s %s", incident, request.method, request.path)
        internal = LienThongError(
            f"Internal error (incident {incident}).",
            detail_vi=f"Lỗi hệ thống (mã sự cố {incident}). Vui lòng thử lại hoặc báo quản trị.",
            status=500,
            code="internal",
        )
        return await _answer(request, internal)
