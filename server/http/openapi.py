"""Routes that describe themselves, and the OpenAPI 3.1 document built from them.

Each package declares its API with an :class:`ApiRoutes`; the assembly adds them to the app and
to :data:`OPENAPI_KEY`; ``GET /api/v1/openapi.json`` serves the document built from every one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import BaseModel

from server.http.body import schema_of
from server.http.jsonio import json_ok

Schema = dict[str, Any]
SchemaLike = Schema | type[BaseModel]
"""A JSON schema written out, or a declared model (:mod:`server.http.body`) it is derived from."""
_PATH_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")

PROBLEM_SCHEMA: Schema = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string"},
        "detail": {"type": "string"},
        "detail_vi": {"type": "string"},
    },
    "required": ["type", "title", "status", "code", "detail"],
}


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    summary: str
    tags: tuple[str, ...]
    body: SchemaLike | None
    response: SchemaLike | None
    public: bool
    content_type: str
    response_types: tuple[str, ...] = ()
    """Media types of a response that is not JSON (a file download); empty: JSON."""


@dataclass
class ApiRoutes:
    """A route table that records what each API route takes and returns."""

    table: web.RouteTableDef = field(default_factory=web.RouteTableDef)
    operations: list[Operation] = field(default_factory=list)

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        tags: tuple[str, ...] = (),
        body: SchemaLike | None = None,
        response: SchemaLike | None = None,
        public: bool = False,
        content_type: str = "application/json",
        response_types: tuple[str, ...] = (),
    ) -> Callable[[Handler], Handler]:
        """``content_type`` is the request body's; ``response_types`` those of a response that is
        a file rather than JSON (each listed in the document)."""

        def register(fn: Handler) -> Handler:
            self.table.route(method, path)(fn)
            self.operations.append(
                Operation(
                    method.upper(),
                    path,
                    summary,
                    tags,
                    body,
                    response,
                    public,
                    content_type,
                    response_types,
                )
            )
            return fn

        return register


OPENAPI_KEY = web.AppKey("openapi_routes", list[ApiRoutes])


def _resolve(schema: SchemaLike | None, components: dict[str, Any]) -> Schema | None:
    if schema is None or isinstance(schema, dict):
        return schema
    return schema_of(schema, components)


def _ok_content(op: Operation, components: dict[str, Any]) -> dict[str, Any]:
    """The 200 response's content: JSON, or each of the file's media types."""
    if op.response_types:
        return {t: {"schema": {"type": "string", "contentMediaType": t}} for t in op.response_types}
    return {"application/json": {"schema": _resolve(op.response, components) or {}}}


def build_openapi(routes: list[ApiRoutes], version: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    components: dict[str, Any] = {}
    for table in routes:
        for op in table.operations:
            item: dict[str, Any] = {
                "summary": op.summary,
                "tags": list(op.tags),
                "responses": {
                    "200": {"description": "OK", "content": _ok_content(op, components)},
                    "default": {
                        "description": "Error",
                        "content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}},
                    },
                },
            }
            if op.body is not None:
                item["requestBody"] = {
                    "required": True,
                    "content": {op.content_type: {"schema": _resolve(op.body, components)}},
                }
            params = _PATH_PARAM.findall(op.path)
            if params:
                item["parameters"] = [
                    {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                    for name in params
                ]
            if op.public:
                item["security"] = []
            paths.setdefault(op.path, {})[op.method.lower()] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": "Liên Thông API", "version": version},
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "lt_session"},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
        "paths": dict(sorted(paths.items())),
    }


async def openapi_handler(request: web.Request) -> web.Response:
    return json_ok(build_openapi(request.app[OPENAPI_KEY], "1"))
