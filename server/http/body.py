"""Request bodies declared once: a frozen pydantic model per body, read and checked in one call.

A handler declares the shape of its body as a subclass of :class:`Body` and reads it with
:func:`read_body`; the same class goes to ``ApiRoutes.route(body=...)``, which derives the OpenAPI
schema from it, so the document and the check can never disagree.  A bad field is answered as
``application/problem+json`` 422 naming the field, in English and Vietnamese.

The JSON itself is read by :func:`server.http.jsonio.read_json_object` (size limit, strict
parsing); this module only adds the declared shape.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from server.errors import ValidationFailed
from server.http.jsonio import read_json_object

MAX_ID = 2**63 - 1
"""The largest row id the databases hold (a signed 64-bit integer)."""

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
"""A row id: a positive integer that fits a BIGINT."""

SmallInt = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
"""An ordinary bounded integer (counts, page numbers, seconds)."""

Text = Annotated[str, StringConstraints(max_length=500)]
"""A one-line text field (names, numbers, titles)."""

LongText = Annotated[str, StringConstraints(max_length=20_000)]
"""A free text field (content, notes, conclusions)."""

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
"""A one-line text field that must not be blank."""


class Body(BaseModel):
    """Base of every declared request body: immutable, no unknown fields, no NaN or infinity."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


B = TypeVar("B", bound=BaseModel)

_VI_MESSAGES = {
    "missing": "thiếu trường bắt buộc",
    "extra_forbidden": "trường không được chấp nhận",
    "string_type": "phải là chuỗi ký tự",
    "int_type": "phải là số nguyên",
    "int_parsing": "phải là số nguyên",
    "bool_type": "phải là true hoặc false",
    "list_type": "phải là danh sách",
    "dict_type": "phải là đối tượng",
    "model_type": "phải là đối tượng",
    "enum": "giá trị không thuộc danh sách cho phép",
    "literal_error": "giá trị không thuộc danh sách cho phép",
    "string_too_short": "không được để trống",
    "string_too_long": "quá dài",
    "too_long": "có quá nhiều phần tử",
    "too_short": "có quá ít phần tử",
    "greater_than_equal": "nhỏ hơn giá trị cho phép",
    "less_than_equal": "lớn hơn giá trị cho phép",
    "finite_number": "phải là số hữu hạn",
    "date_from_datetime_parsing": "phải là ngày dạng YYYY-MM-DD",
    "date_parsing": "phải là ngày dạng YYYY-MM-DD",
    "datetime_parsing": "phải là thời điểm ISO 8601",
}


def body_error(exc: ValidationError) -> ValidationFailed:
    """The problem for the first wrong field of a body, naming it."""
    first = exc.errors(include_url=False, include_input=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or "(body)"
    reason_vi = _VI_MESSAGES.get(first["type"], "không hợp lệ")
    return ValidationFailed(
        f"Field {field!r}: {first['msg']}.",
        detail_vi=f"Trường {field!r} {reason_vi}.",
        extra={"field": field},
    )


def parse_body(model: type[B], data: Any) -> B:
    """``data`` (already parsed JSON) checked against ``model``; 422 problem naming the field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise body_error(exc) from None


async def read_body(request: web.Request, model: type[B]) -> B:
    """The request's JSON body as ``model``: 413/400 from the JSON reader, 422 on a bad field."""
    return parse_body(model, await read_json_object(request))


def schema_of(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI schema of ``model``; nested models go to ``components`` and are referenced."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    return schema
