"""One endpoint's signaling socket on this media worker: its frames in, the room's frames out.

Frames out go through a bounded :class:`~.outbox.Outbox` (a client that falls behind resyncs);
frames in are parsed (:mod:`.messages`), rate-limited and handed to the room.  A bad frame gets an
``error`` frame with a Vietnamese detail and the room goes on.  See docs/briefings.md,
"Signaling at province scale".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time

from aiohttp import WSMsgType, web
from aiortc.exceptions import InternalError, InvalidAccessError, InvalidStateError, OperationError

from meetings.briefings.config import BriefingsConfig
from meetings.briefings.live import mark_live_ended
from meetings.briefings.messages import (
    BadMessage,
    Chair,
    ClientMessage,
    Hand,
    MuteSelf,
    Offer,
    Ping,
    Quality,
    Resync,
    WallPage,
    parse_client_message,
    server_frame,
)
from meetings.briefings.models import BriefingStatus, InviteKind
from meetings.briefings.outbox import Outbox, write
from meetings.briefings.service import Admission, audit_chair_action, mark_status
from meetings.briefings.sfu.participant import Participant
from meetings.briefings.sfu.peer import OfferRefused
from meetings.briefings.sfu.room import Room, Rooms
from meetings.briefings.workers import WorkerPool
from server.http.keys import DB_KEY

log = logging.getLogger(__name__)
AIORTC_ERRORS = (InternalError, InvalidAccessError, InvalidStateError, OperationError)
"""What aiortc raises when it cannot take an offer in the peer's state."""
ROOMS_KEY = web.AppKey("briefing_rooms", Rooms)
BRIEFINGS_CONFIG_KEY = web.AppKey("briefings_config", BriefingsConfig)
POOL_KEY = web.AppKey("briefing_workers", WorkerPool)
"""The media workers, when there are more than one (``LIENTHONG_BRIEFINGS_WORKERS``)."""

RATE = 20.0
"""Frames a second one client may send on average (a burst of :data:`BURST`)."""
BURST = 60.0
QUALITY_INTERVAL = 1.0
"""A client's quality reports: the latest in each interval counts; more than
:data:`QUALITY_PER_INTERVAL` get one ``quality.rate`` error in that interval."""
QUALITY_PER_INTERVAL = 2
RESYNC_INTERVAL = 1.0
"""Seconds between two full rosters asked by one client (more asks are coalesced)."""
DEVICE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class Limits:
    """One socket's rate limits: a token bucket for every frame, windows for quality and resync."""

    def __init__(self) -> None:
        now = time.monotonic()
        self.tokens, self.at = BURST, now
        self.told_rate = -1.0
        self.quality_window, self.quality_count, self.quality_told = now, 0, -1.0
        self.resync_at = -RESYNC_INTERVAL

    def take(self) -> bool:
        """One frame in: False when over the rate (the frame is dropped)."""
        now = time.monotonic()
        self.tokens = min(BURST, self.tokens + (now - self.at) * RATE)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def tell_rate(self) -> bool:
        """Whether to send the ``message.rate`` error now (once a second at most)."""
        now = time.monotonic()
        if now - self.told_rate < 1:
            return False
        self.told_rate = now
        return True

    def quality(self) -> bool:
        """One quality report in: True when the client gets a ``quality.rate`` error for it."""
        now = time.monotonic()
        if now - self.quality_window >= QUALITY_INTERVAL:
            self.quality_window, self.quality_count = now, 0
        self.quality_count += 1
        if self.quality_count <= QUALITY_PER_INTERVAL or self.quality_told >= self.quality_window:
            return False
        self.quality_told = now
        return True

    def resync_delay(self) -> float:
        """Seconds to wait before the full roster this client asked for may go out."""
        now = time.monotonic()
        wait = max(0.0, self.resync_at + RESYNC_INTERVAL - now)
        self.resync_at = now + wait
        return wait


def device_of(request: web.Request) -> str:
    """The ``device`` query parameter (the browser's id for itself), or "" when absent or bad."""
    raw = request.query.get("device", "")
    return raw if DEVICE.match(raw) else ""


class Connection:
    """One signaling socket: who it is, its outbox and its limits."""

    def __init__(
        self, request: web.Request, ws: web.WebSocketResponse, room: Room, me: Participant
    ) -> None:
        self.app, self.ws, self.room, self.me = request.app, ws, room, me
        transport = request.transport
        self.outbox = Outbox(
            lambda: room.roster_frame(), on_stuck=transport.abort if transport else None
        )
        self.limits = Limits()
        self._later: asyncio.TimerHandle | None = None
        me.send, me.close = self.outbox.put, self.outbox.close

    def error(self, code: str, detail: str, detail_vi: str) -> None:
        self.me.send(server_frame("error", code=code, detail=detail, detail_vi=detail_vi))

    def resync(self) -> None:
        wait = self.limits.resync_delay()
        if wait <= 0:
            self.outbox.resync()
        elif self._later is None or self._later.cancelled():
            self._later = asyncio.get_running_loop().call_later(wait, self.outbox.resync)

    def stop(self) -> None:
        if self._later is not None:
            self._later.cancel()


async def serve_signaling(
    request: web.Request,
    ws: web.WebSocketResponse,
    admission: Admission,
    device: str = "",
) -> None:
    """One endpoint's signaling socket on this media worker, until it closes."""
    rooms = request.app[ROOMS_KEY]
    rooms.sockets.add(ws)
    room = rooms.get(admission.briefing.id, admission.briefing.title)
    me = Participant(
        id=f"u{admission.user_id}",
        name=admission.display_name,
        agency_code=admission.agency_code,
        chair=admission.is_chair,
        endpoint=admission.is_endpoint,
        send=lambda _f: None,
        device=device,
    )
    conn = Connection(request, ws, room, me)
    rooms.outboxes[ws] = conn.outbox
    writer = asyncio.ensure_future(write(ws, conn.outbox))
    me.send(
        server_frame(
            "welcome",
            you=me.id,
            chair=me.chair,
            title=admission.briefing.title,
            briefing=admission.briefing.id,
        )
    )
    room.expect(invited_halls(admission))
    async with room.joining:  # FIFO: the later socket of one person joins later
        await room.refresh()
        room.join(me, room.snapshot.row(me.id))
    try:
        await _read(conn, admission)
    finally:
        log.info("signaling of %s ends: %s %s", me.id, ws.close_code, ws.exception())
        conn.stop()
        room.leave(me)
        conn.outbox.close(1000, "")
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(writer, 2)
        writer.cancel()
        await ws.close()
        rooms.sockets.discard(ws)
        rooms.outboxes.pop(ws, None)


async def _read(conn: Connection, admission: Admission) -> None:
    async for msg in conn.ws:
        if msg.type != WSMsgType.TEXT:
            conn.error("message.binary", "Text frames only.", "Chỉ nhận tin nhắn dạng văn bản.")
            continue
        if not conn.limits.take():
            if conn.limits.tell_rate():
                conn.error(
                    "message.rate",
                    f"Too many frames: at most {RATE:.0f} a second; some were dropped.",
                    "Gửi quá nhiều tin nhắn; một số tin đã bị bỏ qua.",
                )
            continue
        try:
            message = parse_client_message(msg.data)
            await _handle(conn, admission, message)
        except BadMessage as exc:
            conn.error(exc.code, exc.detail, exc.detail_vi)
        if conn.room.ended or conn.outbox.closing is not None:
            break


async def _handle(conn: Connection, admission: Admission, m: ClientMessage) -> None:
    room, me = conn.room, conn.me
    if isinstance(m, Offer):
        try:
            answer = await room.negotiate(me, m.sdp)
        except OfferRefused as exc:
            raise BadMessage(exc.code, str(exc)[:200], exc.detail_vi) from None
        except ValueError as exc:
            raise BadMessage("sdp.refused", str(exc)[:200], "Không chấp nhận được SDP.") from None
        except AIORTC_ERRORS as exc:  # anything else is ours: it ends the socket, logged
            log.info("offer from %s refused: %r", me.id, exc)
            raise BadMessage("sdp.refused", "The offer was refused.", "SDP bị từ chối.") from None
        me.send(server_frame("answer", sdp=answer))
        me.send(room.slots_frame(me))
    elif isinstance(m, MuteSelf):
        room.set_self_mute(me, m.audio, m.video)
    elif isinstance(m, Hand):
        room.set_hand(me, m.raised)
    elif isinstance(m, Quality):
        me.client_rtt_ms, me.client_loss, me.client_fps = m.rtt_ms, m.loss, m.fps
        if conn.limits.quality():
            raise BadMessage(
                "quality.rate",
                f"At most {QUALITY_PER_INTERVAL} quality reports a second; the latest counts.",
                "Gửi báo cáo chất lượng quá dày; chỉ báo cáo mới nhất được dùng.",
            )
    elif isinstance(m, Ping):
        me.send(server_frame("pong"))
    elif isinstance(m, Resync):
        conn.resync()
    elif isinstance(m, Chair):
        await _chair(conn, admission, m)
    elif isinstance(m, WallPage):
        if not me.chair and me.id not in room.walls:
            raise BadMessage(
                "wall.forbidden",
                "Only the chair or the hall's wall chooses the wall's page.",
                "Chỉ chủ trì hoặc màn hình hội trường được chuyển trang.",
            )
        room.set_wall_page(m.page)


def invited_halls(admission: Admission) -> dict[str, str]:
    """The briefing's invited halls (điểm cầu), agency code to name: the wall's communes."""
    return {
        i.agency_code: i.agency_name or i.agency_code
        for i in admission.briefing.invites
        if i.kind is InviteKind.ENDPOINT and i.agency_code
    }


async def _chair(conn: Connection, admission: Admission, m: Chair) -> None:
    room, me = conn.room, conn.me
    if not me.chair:
        raise BadMessage("chair.forbidden", "Only the chair may do this.", "Chỉ chủ trì.")
    if m.action == "mute":
        room.mute(m.target)
    elif m.action == "mute_all":
        room.mute_all()
    elif m.action == "spotlight":
        room.give_floor(m.target)
    elif m.action == "unspotlight":
        room.give_floor(None)
    elif m.action in ("wall", "wall_off"):
        if not room.set_wall(m.target, m.action == "wall"):
            raise BadMessage("wall.too_many", "Too many walls.", "Đã đủ số màn hình hội trường.")
    elif m.action == "lower_hands":
        room.lower_hands()
    elif m.action == "roll_call":
        me.send(server_frame("roll_call", entries=room.roll_call()))
    elif m.action == "record_start":
        if room.start_recording() is None:
            raise BadMessage("record.unavailable", "Nothing to record.", "Chưa có hình chủ trì.")
    elif m.action == "record_stop":
        await room.stop_recording()
    elif m.action == "end":
        await end_briefing(conn.app, admission)
    await audit_chair_action(conn.app[DB_KEY], admission, m.action, m.target)


async def end_briefing(app: web.Application, admission: Admission) -> None:
    """End the briefing: its status, its cascade link, and the room on every media worker."""
    await mark_status(app[DB_KEY], admission, BriefingStatus.ENDED)
    app[ROOMS_KEY].stop_link(admission.briefing.id)
    room = app[ROOMS_KEY].rooms.get(admission.briefing.id)
    if room is not None:
        await room.end()
        return
    pool = app.get(POOL_KEY)
    if pool is not None:  # the room lives on other workers only: they end it when told
        await mark_live_ended(app[DB_KEY], admission.briefing.id)
        pool.cluster.notify(admission.briefing.id)
