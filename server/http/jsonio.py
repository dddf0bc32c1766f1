"""Reading JSON bodies safely and answering with JSON."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from server.errors import BadRequest, PayloadTooLarge, ValidationFailed
from server.http.keys import CONFIG_KEY


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object; 413 when larger than ``http.max_json_bytes``, 400 when malformed."""
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
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(
            f"The body is not valid JSON: {exc}",
            detail_vi="Dữ liệu gửi lên không phải JSON hợp lệ.",
            code="bad_json",
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
    return web.Response(
        status=status,
        body=json.dumps(data, ensure_ascii=False, default=str).encode("utf-8"),
        content_type="application/json",
        charset="utf-8",
    )
