"""``/api/v1/sessions``: handlers parse and authenticate; :class:`SessionsService` decides."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any

from aiohttp import web

from meetings.sessions.errors import BadInput
from meetings.sessions.minutes import render_minutes
from meetings.sessions.rules import (
    Choice,
    InviteRole,
    Presence,
    SpeakerKind,
    Threshold,
    parse_enum,
)
from meetings.sessions.service import SessionsService
from server.auth.principal import require_principal
from server.http.jsonio import field_str, json_ok, read_json_object
from server.http.openapi import ApiRoutes
from server.http.params import path_int as _int

routes = ApiRoutes()
TAGS = ("sessions",)
SERVICE_KEY = web.AppKey("sessions_service", SessionsService)

OBJ: dict[str, Any] = {"type": "object"}


def _svc(request: web.Request) -> SessionsService:
    return request.app[SERVICE_KEY]


def opt_int(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadInput(
            f"{key} must be an integer.",
            detail_vi=f"Trường {key} phải là số nguyên.",
            extra={"field": key},
        )
    return value


def _date(data: dict[str, Any], key: str) -> date | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise BadInput(
            f"{key} must be a date (YYYY-MM-DD).",
            detail_vi=f"Trường {key} phải là ngày (YYYY-MM-DD).",
            extra={"field": key},
        ) from None


@routes.route("GET", "/api/v1/sessions", summary="Sessions I am invited to", tags=TAGS)
async def list_sessions(request: web.Request) -> web.Response:
    return json_ok(await _svc(request).list_sessions(require_principal(request)))


@routes.route(
    "POST",
    "/api/v1/sessions",
    summary="Create a session (secretariat)",
    tags=TAGS,
    body={
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "place": {"type": "string"},
            "starts_on": {"type": "string", "format": "date"},
            "from_session": {"type": "integer"},
        },
        "required": ["title"],
    },
)
async def create_session(request: web.Request) -> web.Response:
    p = require_principal(request)
    data = await read_json_object(request)
    title = field_str(data, "title", max_len=300)
    template = opt_int(data, "from_session")
    svc = _svc(request)
    if template is not None:
        return json_ok(await svc.clone_session(p, template, title), status=201)
    return json_ok(
        await svc.create_session(
            p,
            title=title,
            place=field_str(data, "place", required=False, max_len=300),
            starts_on=_date(data, "starts_on"),
        ),
        status=201,
    )


@routes.route("GET", "/api/v1/sessions/{sid}", summary="A session's live state", tags=TAGS)
async def session_state(request: web.Request) -> web.Response:
    p = require_principal(request)
    return json_ok(await _svc(request).state(p, _int(request, "sid")))


@routes.route(
    "POST", "/api/v1/sessions/{sid}/status", summary="Open or close a session", tags=TAGS, body=OBJ
)
async def session_status(request: web.Request) -> web.Response:
    p = require_principal(request)
    data = await read_json_object(request)
    await _svc(request).set_status(p, _int(request, "sid"), field_str(data, "status", max_len=16))
    return json_ok({"ok": True})


@routes.route(
    "POST",
    "/api/v1/sessions/{sid}/invitations",
    summary="Invite a member, guest or secretary",
    tags=TAGS,
    body={
        "type": "object",
        "properties": {
            "login": {"type": "string"},
            "logins": {"type": "array", "items": {"type": "string"}, "maxItems": 500},
            "role": {"type": "string", "enum": [r.value for r in InviteRole]},
        },
        "required": ["role"],
    },
)
async def invite(request: web.Request) -> web.Response:
    """One person (``login``) or several (``logins``, all or none) with the same role."""
    p = require_principal(request)
    data = await read_json_object(request)
    role = parse_enum(InviteRole, data.get("role"), "role")
    logins = data.get("logins")
    if logins is None:
        logins = [field_str(data, "login", max_len=64)]
    elif (
        not isinstance(logins, list)
        or not 0 < len(logins) <= 500
        or not all(isinstance(x, str) and 0 < len(x) <= 64 for x in logins)
    ):
        raise BadInput(
            "logins must be a list of 1-500 logins.",
            detail_vi="Danh sách người được mời không hợp lệ.",
            extra={"field": "logins"},
        )
    count = await _svc(request).invite_many(p, _int(request, "sid"), logins, role)
    return json_ok({"ok": True, "invited": count}, status=201)


@routes.route(
    "GET",
    "/api/v1/sessions/{sid}/candidates",
    summary="People who may be invited (secretariat), matching ?q=",
    tags=TAGS,
)
async def candidates(request: web.Request) -> web.Response:
    p = require_principal(request)
    q = request.query.get("q", "").strip()[:100]
    return json_ok(await _svc(request).candidates(p, _int(request, "sid"), q))


@routes.route(
    "POST", "/api/v1/sessions/{sid}/sittings", summary="Add a sitting", tags=TAGS, body=OBJ
)
async def add_sitting(request: web.Request) -> web.Response:
    p = require_principal(request)
    data = await read_json_object(request)
    title = field_str(data, "title", max_len=300)
    return json_ok(await _svc(request).add_sitting(p, _int(request, "sid"), title), status=201)


@routes.route(
    "POST", "/api/v1/sessions/{sid}/sittings/{sitting}/start", summary="Start a sitting", tags=TAGS
)
async def start_sitting(request: web.Request) -> web.Response:
    p = require_principal(request)
    await _svc(request).start_sitting(p, _int(request, "sid"), _int(request, "sitting"))
    return json_ok({"ok": True})


@routes.route(
    "POST",
    "/api/v1/sessions/{sid}/agenda",
    summary="Add an agenda item",
    tags=TAGS,
    body={
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "description": {"type": "string"},
            "parent_id": {"type": "integer"},
        },
        "required": ["title"],
    },
)
async def add_item(request: web.Request) -> web.Response:
    p = require_principal(request)
    data = await read_json_object(request)
    item = await _svc(request).add_item(
        p,
        _int(request, "sid"),
        title=field_str(data, "title", max_len=500),
        description=field_str(data, "description", required=False, max_len=5000),
        parent_id=opt_int(data, "parent_id"),
    )
    return json_ok(item, status=201)


@routes.route(
    "PUT",
    "/api/v1/sessions/{sid}/current",
    summary="Set the item under discussion",
    tags=TAGS,
    body={"type": "object", "properties": {"item_id": {"type": ["integer", "null"]}}},
)
async def set_current(request: web.Request) -> web.Response:
    p = require_principal(request)
    data = await read_json_object(request)
    await _svc(request).set_current_item(p, _int(request, "sid"), opt_int(data, "item_id"))
    return json_ok({"ok": True})


@routes.route(
    "POST",
    "/api/v1/sessions/{sid}/attendance",
    summary="Check in (self) or mark someone (secretariat)",
    tags=TAGS,
    body={
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": [x.value for x in Presence]},
            "reason": {"type": "string"},
            "login": {"type": "string"},
        },
        "required": ["status"],
    },
)
async def attendance(request: web.Request) -> web.Response:
    p = require_principal(request)
    data = await read_json_object(request)
    status = parse_enum(Presence, data.get("status"), "status")
    reason = field_str(data, "reason", required=False, max_len=300)
    if status is Presence.ABSENT and not reason.strip():
        raise BadInput(
            "An absence needs a reason.",
            detail_vi="Vắng mặt cần ghi rõ lý do.",
            extra={"field": "reason"},
        )
    login = field_str(data, "login", max_len=64) if data.get("login") is not None else None
    result = await _svc(request).check_in(p, _int(request, "sid"), status, reason, login=login)
    return json_ok(result)


@routes.route(
    "POST",
    "/api/v1/sessions/{sid}/items/{item}/speakers",
    summary="Register to speak",
    tags=TAGS,
    body={
        "type": "object",
        "properties": {"kind": {"type": "string", "enum": [k.value for k in SpeakerKind]}},
    },
)
async def register_speaker(request: web.Request) -> web.Response:
    p = require_principal(request)
    data = await read_json_object(request)
    kind = parse_enum(SpeakerKind, data.get("kind", "for"), "kind")
    queue = await _svc(request).register_speaker(
        p, _int(request, "sid"), _int(request, "item"), kind
    )
    return json_ok(queue, status=201)


@routes.route(
    "PUT",
    "/api/v1/sessions/{sid}/items/{item}/speakers",
    summary="Order the speakers queue (secretariat)",
    tags=TAGS,
    body={
        "type": "object",
        "properties": {"order": {"type": "array", "items": {"type": "integer"}}},
    },
)
async def order_speakers(request: web.Request) -> web.Response:
    p = require_principal(request)
    data = await read_json_object(request)
    order = data.get("order")
    if not isinstance(order, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in order
    ):
        raise BadInput("order must be a list of speaker ids.", detail_vi="Thứ tự không hợp lệ.")
    queue = await _svc(request).order_queue(p, _int(request, "sid"), _int(request, "item"), order)
    return json_ok(queue)


@routes.route(
    "POST",
    "/api/v1/sessions/{sid}/speakers/{speaker}",
    summary="Start the timer, stop, or withdraw a speaker",
    tags=TAGS,
    body={
        "type": "object",
        "properties": {
            "action": {"type": "string", "enum": ["start", "stop", "withdraw"]},
            "limit_s": {"type": "integer"},
        },
        "required": ["action"],
    },
)
async def speaker_action(request: web.Request) -> web.Response:
    p = require_principal(request)
    data = await read_json_object(request)
    limit = opt_int(data, "limit_s") or 300
    if not 10 <= limit <= 3600:
        raise BadInput("limit_s is 10 to 3600.", detail_vi="Thời gian phát biểu 10–3600 giây.")
    result = await _svc(request).speaker_action(
        p,
        _int(request, "sid"),
        _int(request, "speaker"),
        field_str(data, "action", max_len=16),
        limit,
    )
    return json_ok(result)


@routes.route(
    "POST",
    "/api/v1/sessions/{sid}/polls",
    summary="Prepare a vote (secretariat)",
    tags=TAGS,
    body={
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "item_id": {"type": "integer"},
            "secret": {"type": "boolean"},
            "threshold": {"type": "string", "enum": [t.value for t in Threshold]},
            "deadline": {
                "type": "string",
                "format": "date-time",
                "description": "set for an opinion collection (lấy ý kiến) between sittings",
            },
        },
        "required": ["title"],
    },
)
async def create_poll(request: web.Request) -> web.Response:
    p = require_principal(request)
    data = await read_json_object(request)
    secret = data.get("secret", False)
    if not isinstance(secret, bool):
        raise BadInput(
            "secret must be true or false.", detail_vi="Trường secret phải là true/false."
        )
    poll = await _svc(request).create_poll(
        p,
        _int(request, "sid"),
        title=field_str(data, "title", max_len=500),
        item_id=opt_int(data, "item_id"),
        secret=secret,
        threshold=parse_enum(Threshold, data.get("threshold", "majority_all"), "threshold"),
        deadline=_deadline(data),
    )
    return json_ok(poll, status=201)


def _deadline(data: dict[str, Any]) -> datetime | None:
    value = data.get("deadline")
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise BadInput(
            "deadline must be an ISO 8601 time with its offset.",
            detail_vi="Hạn lấy ý kiến phải là thời điểm ISO 8601 có múi giờ.",
            extra={"field": "deadline"},
        )
    return moment


@routes.route(
    "POST",
    "/api/v1/sessions/{sid}/polls/{poll}/remind",
    summary="Remind members who have not answered",
    tags=TAGS,
)
async def remind(request: web.Request) -> web.Response:
    p = require_principal(request)
    count = await _svc(request).remind(p, _int(request, "sid"), _int(request, "poll"))
    return json_ok({"reminded": count})


@routes.route(
    "PUT",
    "/api/v1/sessions/{sid}/conclusions",
    summary="Write the session's conclusions (kết luận)",
    tags=TAGS,
    body={"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
)
async def conclusions(request: web.Request) -> web.Response:
    p = require_principal(request)
    data = await read_json_object(request)
    text = field_str(data, "text", required=False, max_len=50_000)
    await _svc(request).set_conclusions(p, _int(request, "sid"), text)
    return json_ok({"ok": True})


@routes.route(
    "POST",
    "/api/v1/sessions/{sid}/minutes/signed",
    summary="Upload the minutes signed by the secretariat (checked with signing)",
    tags=TAGS,
    body={"type": "string", "format": "binary"},
    content_type="application/pdf",
)
async def upload_signed_minutes(request: web.Request) -> web.Response:
    p = require_principal(request)
    data = await request.read()
    if not data.startswith(b"%PDF-"):
        raise BadInput("Send the signed PDF as the body.", detail_vi="Hãy gửi tệp PDF đã ký số.")
    result = await _svc(request).accept_signed_minutes(p, _int(request, "sid"), data)
    return json_ok(result, status=201)


@routes.route(
    "GET", "/api/v1/sessions/{sid}/minutes/signed", summary="The signed minutes", tags=TAGS
)
async def signed_minutes_file(request: web.Request) -> web.StreamResponse:
    p = require_principal(request)
    path = await _svc(request).signed_minutes_path(p, _int(request, "sid"))
    return web.FileResponse(
        path,
        headers={
            "Content-Type": "application/pdf",
            "Content-Disposition": 'attachment; filename="bien-ban-da-ky.pdf"',
        },
    )


@routes.route(
    "GET",
    "/api/v1/sessions/{sid}/minutes.pdf",
    summary="The minutes as PDF: attendance, vote results, conclusions",
    tags=TAGS,
)
async def minutes_pdf(request: web.Request) -> web.Response:
    p = require_principal(request)
    data = await _svc(request).minutes_data(p, _int(request, "sid"))
    pdf = await asyncio.get_running_loop().run_in_executor(None, render_minutes, data)
    return web.Response(
        body=pdf,
        content_type="application/pdf",
        headers={"Content-Disposition": 'inline; filename="bien-ban-ky-hop.pdf"'},
    )


@routes.route("GET", "/api/v1/sessions/{sid}/polls/{poll}", summary="A vote", tags=TAGS)
async def poll_detail(request: web.Request) -> web.Response:
    p = require_principal(request)
    return json_ok(await _svc(request).poll_detail(p, _int(request, "sid"), _int(request, "poll")))


@routes.route("POST", "/api/v1/sessions/{sid}/polls/{poll}/open", summary="Open a vote", tags=TAGS)
async def open_poll(request: web.Request) -> web.Response:
    p = require_principal(request)
    return json_ok(await _svc(request).open_poll(p, _int(request, "sid"), _int(request, "poll")))


@routes.route(
    "POST", "/api/v1/sessions/{sid}/polls/{poll}/close", summary="Close and publish", tags=TAGS
)
async def close_poll(request: web.Request) -> web.Response:
    p = require_principal(request)
    return json_ok(await _svc(request).close_poll(p, _int(request, "sid"), _int(request, "poll")))


@routes.route(
    "POST",
    "/api/v1/sessions/{sid}/polls/{poll}/votes",
    summary="Vote over HTTP (tablets vote over the WebSocket: op 'vote')",
    tags=TAGS,
    body={
        "type": "object",
        "properties": {"choice": {"type": "string", "enum": [c.value for c in Choice]}},
        "required": ["choice"],
    },
)
async def cast_vote(request: web.Request) -> web.Response:
    p = require_principal(request)
    data = await read_json_object(request)
    choice = parse_enum(Choice, data.get("choice"), "choice")
    outcome = await _svc(request).cast(
        p, _int(request, "poll"), choice, session_id=_int(request, "sid")
    )
    return json_ok({"poll": _int(request, "poll"), "status": outcome.status})
