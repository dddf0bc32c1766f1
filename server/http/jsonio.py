"""Reading JSON bodies safely and answering with JSON.

Bodies are parsed by :func:`server.jsonstrict.loads` (no NaN/Infinity, integers within 64 bits,
nesting at most 32 deep) and must be declared ``application/json`` (or ``application/*+json``):
a ``text/plain`` or form body is refused with 415, so that a cross-site ``<form>`` or a "simple"
``fetch`` that skips the CORS preflight can never reach a JSON endpoint.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server import jsonstrict
from server.errors import BadRequest, LienThongError, PayloadTooLarge, ValidationFailed
from server.http.keys import CONFIG_KEY


class UnsupportedMediaType(LienThongError):
    status = 415
    code = "unsupported_media_type"
    title = "Unsupported media type"


def is_json_type(content_type: str) -> bool:
    """``application/json`` or a structured ``application/<something>+json`` type."""
    kind = content_type.strip().lower()
    return kind == "application/json" or (
        kind.startswith("application/") and kind.endswith("+json")
    )


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object; 415 unless declared JSON, 413 when larger than
    ``http.max_json_bytes``, 400 when malformed or outside strict JSON (see :mod:`server.jsonstrict`).
    """
    if not is_json_type(request.content_type):
        raise UnsupportedMediaType(
            "Send the body as application/json.",
            detail_vi="Dữ liệu phải gửi dạng application/json.",
        )
    limit = request.app[CONFIG_KEY].http.max_json_bytes
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(
            f"JSON bodies are limited to {limit} bytes.", detail_vi="Dữ liệu JSON gửi lên quá lớn."
        )
    raw = await request.content.read(limit + 1)
    if len(raw) > limit:
        raise PayloadTooLarge(
            f"JSON bodies are limited to {limit} bytes.", detail_vi="Dữ liệu JSON gửi lên quá lớn."
        )
    try:
        data = jsonstrict.loads(raw)
    except jsonstrict.StrictJsonError as exc:
        raise BadRequest(
            f"The body is not accepted: {exc.detail}", detail_vi=exc.detail_vi, code="bad_json"
        ) from None
    if not isinstance(data, dict):
        raise BadRequest(
            "Expected a JSON object.", detail_vi="Cần một đối tượng JSON.", code="bad_json"
        )
    return data


def field_str(data: dict[str, Any], key: str, *, required: bool = True, max_len: int = 500) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValidationFailed(
            f"Field {key!r} must be a non-empty string.",
            detail_vi=f"Trường {key!r} phải là chuỗi ký tự và không được để trống.",
            extra={"field": key},
        )
    if len(value) > max_len:
        raise ValidationFailed(
            f"Field {key!r} is longer than {max_len} characters.",
            detail_vi=f"Trường {key!r} dài quá {max_len} ký tự.",
            extra={"field": key},
        )
    return value


def json_ok(data: Any, status: int = 200) -> web.Response:
    """A JSON answer; never ``NaN``/``Infinity`` (written as null, see :func:`jsonstrict.dumps`)."""
    return web.Response(
        status=status,
        body=jsonstrict.dumps(data, ensure_ascii=False, default=str).encode("utf-8"),
        content_type="application/json",
        charset="utf-8",
    )
