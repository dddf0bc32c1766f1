"""The platform's exceptions, each carrying what the HTTP layer needs to answer.

Every package defines its own exceptions as subclasses of :class:`LienThongError` (or of one of the
generic ones below).  One middleware (:mod:`server.http.problems`) turns them into
``application/problem+json`` (RFC 9457); anything else is logged and answered with a generic 500.

``title`` is a short English summary, ``detail_vi`` is the Vietnamese sentence shown to people;
``code`` is a stable machine-readable identifier (``agency.bad_code``) that clients can switch on.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any


class LienThongError(Exception):
    """Base of every expected error.  Subclasses set the class attributes or pass them in."""

    status: int = 400
    code: str = "error"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        detail_vi: str | None = None,
        code: str | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.detail_vi = detail_vi or detail
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
            if type(self) is LienThongError:
                self.title = HTTPStatus(status).phrase
        self.extra: dict[str, Any] = dict(extra or {})

    def to_problem(self) -> dict[str, Any]:
        """The problem+json body for this error."""
        body: dict[str, Any] = {
            "type": f"urn:lienthong:problem:{self.code}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
            "detail_vi": self.detail_vi,
        }
        body.update(self.extra)
        return body


class BadRequest(LienThongError):
    status = 400
    code = "bad_request"
    title = "Bad request"


class ValidationFailed(LienThongError):
    """Input was understood but a field is wrong; ``extra['field']`` names it when known."""

    status = 422
    code = "validation_failed"
    title = "Validation failed"


class Unauthorized(LienThongError):
    status = 401
    code = "unauthorized"
    title = "Authentication required"


class Forbidden(LienThongError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class NotFound(LienThongError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(LienThongError):
    status = 409
    code = "conflict"
    title = "Conflict"


class PayloadTooLarge(LienThongError):
    status = 413
    code = "payload_too_large"
    title = "Payload too large"


class TooManyRequests(LienThongError):
    status = 429
    code = "too_many_requests"
    title = "Too many requests"


class ServiceUnavailable(LienThongError):
    status = 503
    code = "unavailable"
    title = "Service unavailable"


class ConfigError(LienThongError):
    """A configuration value is missing or wrong; ``key`` names it (``server.port``)."""

    status = 500
    code = "config"
    title = "Configuration error"

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}", detail_vi=f"Cấu hình sai ở khoá {key}: {problem}")
        self.key = key
