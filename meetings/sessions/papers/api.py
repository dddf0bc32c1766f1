"""``/api/v1/sessions/{sid}/papers``: upload, replace, withdraw, read with ranges, annotate."""

from __future__ import annotations

from typing import Any

from aiohttp import BodyPartReader, web

from meetings.sessions.errors import BadInput
from meetings.sessions.papers.notes import AnnotationBody
from meetings.sessions.papers.service import NewPaper, PapersService
from server.auth.principal import require_principal
from server.errors import PayloadTooLarge
from server.http.body import read_body
from server.http.jsonio import field_str, json_ok
from server.http.openapi import OPENAPI_KEY, ApiRoutes
from server.http.params import path_int
from server.realtime import HUB_KEY

routes = ApiRoutes()
TAGS = ("papers",)
PAPERS_KEY = web.AppKey("papers_service", PapersService)
MAX_PDF_BYTES = 60 * 1024 * 1024
BASE = "/api/v1/sessions/{sid}/papers"
UPLOAD: dict[str, Any] = {
    "type": "object",
    "properties": {
        "file": {"type": "string", "format": "binary"},
        "title": {"type": "string"},
        "item_id": {"type": "integer"},
        "confidential": {"type": "boolean"},
        "readers": {"type": "string", "description": "logins, comma-separated"},
        "allow_download": {"type": "boolean"},
        "allow_print": {"type": "boolean"},
        "note": {"type": "string"},
    },
}


def _svc(request: web.Request) -> PapersService:
    return request.app[PAPERS_KEY]


async def _form(request: web.Request) -> tuple[dict[str, str], bytes, str]:
    """The multipart fields, the file's bytes and its name."""
    fields: dict[str, str] = {}
    data, filename = b"", ""
    reader = await request.multipart()
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "file":
            filename = (part.filename or "paper.pdf")[:300]
            chunks = []
            size = 0
            while chunk := await part.read_chunk(1 << 20):
                size += len(chunk)
                if size > MAX_PDF_BYTES:
                    raise PayloadTooLarge(
                        "A paper is at most 60 MB.", detail_vi="Tài liệu tối đa 60 MB."
                    )
                chunks.append(chunk)
            data = b"".join(chunks)
        elif part.name:
            fields[part.name] = (await part.text())[:5000]
    if not data:
        raise BadInput(
            "Attach the PDF as 'file'.", detail_vi="Chưa chọn tệp PDF.", extra={"field": "file"}
        )
    return fields, data, filename


def _flag(fields: dict[str, str], key: str, default: bool) -> bool:
    value = fields.get(key)
    return default if value is None else value.lower() in ("1", "true", "on", "yes")


@routes.route(
    "POST",
    BASE,
    summary="Upload a paper (secretariat)",
    tags=TAGS,
    body=UPLOAD,
    content_type="multipart/form-data",
)
async def upload(request: web.Request) -> web.Response:
    p = require_principal(request)
    fields, data, filename = await _form(request)
    new = _new_paper(fields, filename)
    paper = await _svc(request).upload(p, path_int(request, "sid"), new, data)
    return json_ok(paper, status=201)


def _new_paper(fields: dict[str, str], filename: str) -> NewPaper:
    """The upload form's fields (``UPLOAD``) as a :class:`NewPaper`."""
    try:
        item_id = int(fields.get("item_id", ""))
    except ValueError:
        raise BadInput(
            "item_id is required.",
            detail_vi="Chọn nội dung của chương trình.",
            extra={"field": "item_id"},
        ) from None
    title = fields.get("title", "").strip() or filename
    return NewPaper(
        item_id=item_id,
        title=title[:500],
        filename=filename,
        confidential=_flag(fields, "confidential", False),
        readers=[x.strip() for x in fields.get("readers", "").split(",") if x.strip()],
        allow_download=_flag(fields, "allow_download", True),
        allow_print=_flag(fields, "allow_print", True),
    )


@routes.route("GET", BASE, summary="Papers I may read, with what is new", tags=TAGS)
async def list_papers(request: web.Request) -> web.Response:
    p = require_principal(request)
    return json_ok(await _svc(request).papers(p, path_int(request, "sid")))


@routes.route("GET", BASE + "/{pid}", summary="A paper and its versions", tags=TAGS)
async def detail(request: web.Request) -> web.Response:
    p = require_principal(request)
    return json_ok(
        await _svc(request).detail(p, path_int(request, "sid"), path_int(request, "pid"))
    )


@routes.route(
    "POST",
    BASE + "/{pid}/versions",
    summary="Replace a paper (keeps history)",
    tags=TAGS,
    body=UPLOAD,
    content_type="multipart/form-data",
)
async def replace(request: web.Request) -> web.Response:
    p = require_principal(request)
    fields, data, filename = await _form(request)
    paper = await _svc(request).replace(
        p,
        path_int(request, "sid"),
        path_int(request, "pid"),
        data,
        filename,
        fields.get("note", "")[:500],
    )
    return json_ok(paper, status=201)


@routes.route("POST", BASE + "/{pid}/withdraw", summary="Withdraw a paper", tags=TAGS)
async def withdraw(request: web.Request) -> web.Response:
    p = require_principal(request)
    await _svc(request).withdraw(p, path_int(request, "sid"), path_int(request, "pid"))
    return json_ok({"ok": True})


@routes.route("GET", BASE + "/{pid}/search", summary="Search inside a paper", tags=TAGS)
async def search(request: web.Request) -> web.Response:
    p = require_principal(request)
    query = request.query.get("q", "").strip()
    if not 2 <= len(query) <= 200:
        raise BadInput("q is 2 to 200 characters.", detail_vi="Từ khoá từ 2 đến 200 ký tự.")
    hits = await _svc(request).search(p, path_int(request, "sid"), path_int(request, "pid"), query)
    return json_ok(hits)


@routes.route(
    "GET", "/api/v1/sessions/{sid}/search", summary="Search the session's papers", tags=TAGS
)
async def search_session(request: web.Request) -> web.Response:
    p = require_principal(request)
    query = request.query.get("q", "").strip()
    if not 2 <= len(query) <= 200:
        raise BadInput("q is 2 to 200 characters.", detail_vi="Từ khoá từ 2 đến 200 ký tự.")
    return json_ok(await _svc(request).search_session(p, path_int(request, "sid"), query))


async def _serve(request: web.Request, *, download: bool) -> web.StreamResponse:
    p = require_principal(request)
    version = request.query.get("v")
    number = int(version) if version and version.isdigit() else None
    found, marked = await _svc(request).file(
        p, path_int(request, "sid"), path_int(request, "pid"), number, download=download
    )
    headers = {
        # never transformed or compressed on the way: gzip would turn range requests off
        "Cache-Control": "private, no-transform, max-age=3600",
        "Content-Type": "application/pdf",
    }
    if marked is not None:
        headers["Content-Disposition"] = 'attachment; filename="tai-lieu-mat.pdf"'
        headers["Cache-Control"] = "private, no-store"
        return web.Response(body=marked, headers=headers)
    assert found is not None
    if found.confidential:
        # a reader's marked copy of a confidential paper: no cache keeps it (shared tablets)
        headers["Cache-Control"] = "private, no-store, no-transform"
    if download:
        safe = "".join(c for c in found.filename if c.isalnum() or c in "._-") or "paper.pdf"
        headers["Content-Disposition"] = f'attachment; filename="{safe}"'
    response = web.FileResponse(found.path, headers=headers)
    return response


@routes.route("GET", BASE + "/{pid}/file", summary="The PDF for reading (HTTP ranges)", tags=TAGS)
async def read_file(request: web.Request) -> web.StreamResponse:
    return await _serve(request, download=False)


@routes.route("GET", BASE + "/{pid}/download", summary="Download (marked if secret)", tags=TAGS)
async def download_file(request: web.Request) -> web.StreamResponse:
    return await _serve(request, download=True)


@routes.route("GET", BASE + "/{pid}/annotations", summary="My and shared annotations", tags=TAGS)
async def list_annotations(request: web.Request) -> web.Response:
    p = require_principal(request)
    return json_ok(
        await _svc(request).annotations(p, path_int(request, "sid"), path_int(request, "pid"))
    )


@routes.route(
    "POST", BASE + "/{pid}/annotations", summary="Add an annotation", tags=TAGS, body=AnnotationBody
)
async def add_annotation(request: web.Request) -> web.Response:
    p = require_principal(request)
    note = await read_body(request, AnnotationBody)
    sid, pid = path_int(request, "sid"), path_int(request, "pid")
    saved = await _svc(request).save_annotation(p, sid, pid, note.document())
    return json_ok(saved, status=201)


@routes.route(
    "PUT",
    BASE + "/{pid}/annotations/{aid}",
    summary="Change my annotation",
    tags=TAGS,
    body=AnnotationBody,
)
async def put_annotation(request: web.Request) -> web.Response:
    p = require_principal(request)
    note = await read_body(request, AnnotationBody)
    aid = field_str({"aid": request.match_info["aid"]}, "aid", max_len=36)
    sid, pid = path_int(request, "sid"), path_int(request, "pid")
    saved = await _svc(request).save_annotation(p, sid, pid, note.document(), aid)
    return json_ok(saved)


@routes.route(
    "DELETE", BASE + "/{pid}/annotations/{aid}", summary="Delete my annotation", tags=TAGS
)
async def delete_annotation(request: web.Request) -> web.Response:
    p = require_principal(request)
    aid = field_str({"aid": request.match_info["aid"]}, "aid", max_len=36)
    await _svc(request).delete_annotation(p, path_int(request, "sid"), aid)
    return json_ok({"ok": True})


def setup(app: web.Application) -> None:
    """Add the papers routes; the service binds to the database and files when the app starts."""
    svc = PapersService(app[HUB_KEY])
    app[PAPERS_KEY] = svc
    app.cleanup_ctx.append(svc.cleanup_ctx)
    app.router.add_routes(routes.table)
    app[OPENAPI_KEY].append(routes)
