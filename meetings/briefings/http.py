"""``/api/v1/briefings``: create, list, show and end briefings; the signaling WebSocket.

The socket ``/api/v1/briefings/{id}/signal`` is authenticated by the platform's middleware like any
request (session cookie or bearer token); a cookie-authenticated socket must also come from our
own origin, since browsers send cookies on cross-site WebSocket handshakes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web
from redis.exceptions import RedisError

from meetings.briefings.bodies import BRIEFING_VIEW, BriefingBody, CascadeBody
from meetings.briefings.cascade_link import run_link
from meetings.briefings.config import BriefingsConfig
from meetings.briefings.errors import NotChair
from meetings.briefings.live import read_live
from meetings.briefings.messages import SOCKET_FRAME
from meetings.briefings.models import BriefingStatus
from meetings.briefings.registry import namespace, take_group
from meetings.briefings.repository import briefing_id_by_code_txn
from meetings.briefings.service import (
    NewBriefing,
    admit,
    create_briefing,
    list_briefings,
    visible_briefing,
)
from meetings.briefings.sfu import hooks
from meetings.briefings.sfu.pipe import Cluster
from meetings.briefings.sfu.room import Rooms
from meetings.briefings.signaling import (
    BRIEFINGS_CONFIG_KEY,
    POOL_KEY,
    ROOMS_KEY,
    device_of,
    end_briefing,
    serve_signaling,
)
from meetings.briefings.workers import Seat, Sharing, WorkerPool
from server.auth.principal import require_principal
from server.config import Config
from server.errors import BadRequest, ConfigError, Forbidden, NotFound, ValidationFailed
from server.http.body import read_body
from server.http.jsonio import json_ok
from server.http.keys import CONFIG_KEY, DB_KEY
from server.http.openapi import OPENAPI_KEY, ApiRoutes
from server.http.params import ID_MAX

log = logging.getLogger(__name__)
routes = ApiRoutes()


def _briefing_id(request: web.Request) -> int:
    raw = request.match_info["briefing_id"]
    if not raw.isdigit() or len(raw) > 12 or int(raw) > ID_MAX:
        raise NotFound("No such briefing.", detail_vi="Không tìm thấy cuộc họp trực tuyến này.")
    return int(raw)


@routes.route(
    "GET",
    "/api/v1/briefings",
    summary="Briefings the caller chairs, organised or is invited to",
    tags=("briefings",),
    response={"type": "array", "items": BRIEFING_VIEW},
)
async def list_handler(request: web.Request) -> web.Response:
    p = require_principal(request)
    views = await list_briefings(request.app[DB_KEY], p)
    return json_ok([v.to_json() for v in views])


@routes.route(
    "POST",
    "/api/v1/briefings",
    summary="Create a briefing, scheduled (starts_at) or ad hoc (organisers)",
    tags=("briefings",),
    body=BriefingBody,
    response=BRIEFING_VIEW,
)
async def create_handler(request: web.Request) -> web.Response:
    p = require_principal(request)
    new = NewBriefing.from_body(await read_body(request, BriefingBody), default_chair=p.login)
    view = await create_briefing(request.app[DB_KEY], p, new)
    return json_ok(view.to_json(), status=201)


@routes.route(
    "GET",
    "/api/v1/briefings/{briefing_id}",
    summary="One briefing (chair and invited only)",
    tags=("briefings",),
    response=BRIEFING_VIEW,
)
async def show_handler(request: web.Request) -> web.Response:
    p = require_principal(request)
    view = await visible_briefing(request.app[DB_KEY], p, _briefing_id(request))
    body = view.to_json()
    body["live"] = await _live_ids(request.app, view.id)
    folder = recordings_root(request.app) / str(view.id)
    body["recordings"] = (
        [
            {
                "name": f.name,
                "bytes": f.stat().st_size,
                "href": f"/api/v1/briefings/{view.id}/recordings/{f.name}",
            }
            for f in sorted(folder.glob("hall-*.*"))
            if RECORDING_NAME.match(f.name)
        ]
        if folder.is_dir()
        else []
    )
    return json_ok(body)


async def _live_ids(app: web.Application, briefing_id: int) -> list[str]:
    """Who is in the room now, on any media worker."""
    room = app[ROOMS_KEY].rooms.get(briefing_id)
    if room is not None:
        return [i.id for i in room.roll_call()]
    pool = app.get(POOL_KEY)
    if pool is None:
        return []
    state = await read_live(app[DB_KEY], briefing_id)
    return [r.id for r in state.rows if pool.cluster.alive(r.worker, r.epoch)]


RECORDING_NAME = re.compile(r"^hall-\d{8}T\d{6}Z-[\w-]{1,40}\.(webm|mkv)$")
"""A VP8 hall is recorded to WebM, an H.264 hall to Matroska."""
RECORDING_TYPES = {".webm": "video/webm", ".mkv": "video/x-matroska"}


@routes.route(
    "GET",
    "/api/v1/briefings/{briefing_id}/recordings/{name}",
    summary="Download a hall recording (WebM, Matroska for H.264; chair and invited only)",
    tags=("briefings",),
    response_types=tuple(RECORDING_TYPES.values()),
)
async def recording_handler(request: web.Request) -> web.StreamResponse:
    p = require_principal(request)
    view = await visible_briefing(request.app[DB_KEY], p, _briefing_id(request))
    name = request.match_info["name"]
    path = recordings_root(request.app) / str(view.id) / name
    if not RECORDING_NAME.match(name) or not path.is_file():
        raise NotFound("No such recording.", detail_vi="Không có bản ghi hình này.")
    return web.FileResponse(path, headers={"Content-Type": RECORDING_TYPES[path.suffix]})


@routes.route(
    "GET",
    "/api/v1/briefings/join/{code}",
    summary="Resolve a join link to its briefing (invited only)",
    tags=("briefings",),
)
async def join_code_handler(request: web.Request) -> web.Response:
    p = require_principal(request)
    db = request.app[DB_KEY]
    code = request.match_info["code"][:64]

    async def find(session: object) -> int:
        return await briefing_id_by_code_txn(session, code)  # type: ignore[arg-type]

    briefing_id = await db.read("briefing_by_code", find)
    view = await visible_briefing(db, p, briefing_id)
    return json_ok({"id": view.id, "title": view.title})


@routes.route(
    "POST",
    "/api/v1/briefings/{briefing_id}/end",
    summary="End a briefing (chair)",
    tags=("briefings",),
)
async def end_handler(request: web.Request) -> web.Response:
    p = require_principal(request)
    admission = await admit(request.app[DB_KEY], p, _briefing_id(request), allow_ended=True)
    if not admission.is_chair:
        raise NotChair()
    await end_briefing(request.app, admission)
    return json_ok({"status": BriefingStatus.ENDED.value})


@routes.route(
    "POST",
    "/api/v1/briefings/{briefing_id}/cascade",
    summary="Relay a briefing of the node above (province→district) into this one (chair)",
    tags=("briefings",),
    body=CascadeBody,
)
async def cascade_handler(request: web.Request) -> web.Response:
    p = require_principal(request)
    admission = await admit(request.app[DB_KEY], p, _briefing_id(request))
    if not admission.is_chair:
        raise NotChair()
    link = await read_body(request, CascadeBody)
    if not request.app[BRIEFINGS_CONFIG_KEY].upstream_allowed(link.upstream):
        raise ValidationFailed(
            "upstream is not a configured upstream node.",
            detail_vi="Máy chủ cấp trên không có trong cấu hình.",
            extra={"field": "upstream"},
        )
    rooms = request.app[ROOMS_KEY]
    room = rooms.get(admission.briefing.id, admission.briefing.title)
    rooms.stop_link(admission.briefing.id)
    rooms.links[admission.briefing.id] = asyncio.ensure_future(
        run_link(room, link.upstream, link.briefing, link.token, "Hội trường cấp trên")
    )
    return json_ok({"linked": True}, status=202)


def _check_origin(request: web.Request, via: str) -> None:
    """Refuse a cookie-authenticated handshake from another site (cross-site WebSocket hijacking)."""
    if via != "session":
        return
    origin = request.headers.get("Origin", "")
    if not origin or urlsplit(origin).netloc != request.host:
        raise Forbidden(
            "The WebSocket must come from this site.",
            detail_vi="Kết nối không xuất phát từ trang của hệ thống.",
            code="briefing.origin",
        )


@routes.route(
    "GET",
    "/api/v1/briefings/{briefing_id}/signal",
    summary="Signaling WebSocket (JSON frames, see docs/briefings.md); invited only",
    tags=("briefings",),
)
async def signal_handler(request: web.Request) -> web.StreamResponse:
    p = require_principal(request)
    _check_origin(request, p.via)
    admission = await admit(request.app[DB_KEY], p, _briefing_id(request))
    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=SOCKET_FRAME, compress=False)
    if not ws.can_prepare(request).ok:
        raise BadRequest("Expected a WebSocket handshake.", detail_vi="Cần kết nối WebSocket.")
    await ws.prepare(request)
    pool = request.app.get(POOL_KEY)
    device = device_of(request)
    if pool is None:
        await serve_signaling(request, ws, admission, device)
        return ws
    seat = Seat(
        briefing=admission.briefing.id,
        user_id=admission.user_id,
        login=admission.login,
        display_name=admission.display_name,
        agency_code=admission.agency_code,
        is_chair=admission.is_chair,
        is_endpoint=admission.is_endpoint,
        device=device,
    )
    worker = pool.place(seat)
    log.info("briefing %s: u%s placed on media worker %d", seat.briefing, seat.user_id, worker)
    if worker != 0:
        await pool.relay(ws, worker, seat)
        return ws
    with pool.seated(0, seat.briefing):
        await serve_signaling(request, ws, admission, device)
    return ws


def recordings_root(app: web.Application) -> Path:
    return app[CONFIG_KEY].data_dir / "briefings"


async def _sharing(app_config: Config, config: BriefingsConfig) -> Sharing | None:
    """With the realtime hub on Redis, app processes share their media workers (.registry)."""
    if app_config.realtime.backend != "redis":
        return None
    url = app_config.realtime.redis_url.reveal()
    prefix = namespace(app_config.database.url.reveal())
    try:
        group = await take_group(url, prefix)
    except (RedisError, OSError) as exc:
        problem = f"Redis does not answer for the briefings' media workers ({exc!r})"
        raise ConfigError("realtime.redis_url", problem) from None
    log.info("briefings: media worker group %d (workers shared through Redis)", group)
    return Sharing(redis_url=url, prefix=prefix, group=group, host=config.pipe_host)


async def _rooms_ctx(app: web.Application) -> AsyncIterator[None]:
    config = app[BRIEFINGS_CONFIG_KEY]
    pool: WorkerPool | None = None
    cluster = Cluster(0, secrets.token_hex(8))
    app_config = app[CONFIG_KEY]
    sharing = await _sharing(app_config, config)
    if config.workers > 1 or sharing is not None:
        pool = WorkerPool(
            config.workers,
            {
                "LIENTHONG_DATABASE_URL": app_config.database.url.reveal(),
                "LIENTHONG_DATA_DIR": str(app_config.data_dir),
            },
            sharing,
        )
        await pool.start()
        app[POOL_KEY] = pool
        cluster = pool.cluster
    app[ROOMS_KEY] = Rooms(recordings=recordings_root(app), db=app[DB_KEY], cluster=cluster)
    yield
    await app[ROOMS_KEY].close()
    if pool is not None:
        await pool.stop()


async def shutdown_rooms(app: web.Application) -> None:
    """Close links, peers and signaling sockets first, so that shutdown does not wait on them.

    Clients see 1001 (going away) and come back by themselves when the server is up again.
    """
    rooms = app.get(ROOMS_KEY)
    if rooms is None:
        return
    sockets = list(rooms.sockets)
    await rooms.close()
    for ws in sockets:
        with contextlib.suppress(Exception):
            await ws.close(code=1001, message=b"server shutdown")


def setup(app: web.Application, config: BriefingsConfig | None = None) -> None:
    """Mount the briefings API and own the live rooms for the app's lifetime."""
    config = config or BriefingsConfig.from_env()
    app[BRIEFINGS_CONFIG_KEY] = config
    if config.ice_addresses:
        hooks.restrict_host_addresses(list(config.ice_addresses))
    app.router.add_routes(routes.table)
    app[OPENAPI_KEY].append(routes)
    app.cleanup_ctx.append(_rooms_ctx)
    app.on_shutdown.append(shutdown_rooms)
