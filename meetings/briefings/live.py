"""The live room state shared by the media workers and kept across restarts (all its SQL).

Each worker owns the rows of the participants it hosts (presence, connection, streams, own
mutes and hand); the chair, wherever it is hosted, writes the fields it controls (the floor,
mutes by the chair, hands lowered, recording, ended) field by field, so that two workers never
overwrite each other's columns with stale values.  Writes of one room are queued and committed
in order by one task (:class:`LiveWriter`); after each commit the other workers are told the
room changed, and re-read it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from meetings.briefings.models import LiveParticipant, LiveRoom
from server.db import Database

log = logging.getLogger(__name__)

Txn = Callable[[AsyncSession], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """One uplink stream as the other workers need it to receive it over the pipe."""

    kind: str
    stream: int
    """The pipe's stream id (random, chosen by the publishing worker)."""
    clock: int
    level: int | None
    """RFC 6464 audio-level extension id, or None."""
    codec: str | None = None
    """``opus``, ``VP8`` or ``H264`` (None: a row written before codecs were named, VP8/Opus)."""

    def __post_init__(self) -> None:
        if self.kind not in ("audio", "video") or not 0 < self.stream < 1 << 32:
            raise ValueError(f"bad stream {self.kind!r} {self.stream}")
        if self.codec not in (None, "opus", "VP8", "H264"):
            raise ValueError(f"bad codec {self.codec!r}")

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "stream": self.stream,
            "clock": self.clock,
            "level": self.level,
            "codec": self.codec,
        }


def streams_from_json(raw: str) -> tuple[StreamInfo, ...]:
    """The ``streams`` column; a malformed entry is dropped (logged), never fatal."""
    out: list[StreamInfo] = []
    try:
        items = json.loads(raw)
    except ValueError:
        return ()
    for item in items if isinstance(items, list) else ():
        try:
            out.append(
                StreamInfo(
                    str(item["kind"]),
                    int(item["stream"]),
                    int(item["clock"]),
                    None if item.get("level") is None else int(item["level"]),
                    None if item.get("codec") is None else str(item["codec"]),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            log.debug("bad stream entry %r: %r", item, exc)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class LiveRow:
    """A participant's row, as read."""

    id: str
    name: str
    agency_code: str
    chair: bool
    endpoint: bool
    worker: int | None
    epoch: str
    connected: bool
    streams: tuple[StreamInfo, ...]
    audio_muted: bool
    video_muted: bool
    muted_by_chair: bool
    hand: bool
    audio_only: bool
    rtt_ms: float | None
    loss: float | None


@dataclass(frozen=True, slots=True)
class LiveSnapshot:
    """A briefing's room and participants, read in one transaction."""

    spotlight: str | None = None
    recording: bool = False
    ended: bool = False
    rows: tuple[LiveRow, ...] = field(default_factory=tuple)
    walls: tuple[str, ...] = ()
    """The participants the chair made the hall's walls."""
    wall_page: int = 1

    def row(self, participant: str) -> LiveRow | None:
        return next((r for r in self.rows if r.id == participant), None)


async def read_live_txn(session: AsyncSession, briefing_id: int) -> LiveSnapshot:
    room = await session.get(LiveRoom, briefing_id)
    # plain rows, not ORM objects: every worker reads the whole room about once a second
    table: Table = LiveParticipant.__table__  # type: ignore[assignment]  # a declarative Table
    result = await session.execute(
        select(table).where(table.c.briefing_id == briefing_id).order_by(table.c.participant)
    )
    rows = tuple(
        LiveRow(
            id=r.participant,
            name=r.name,
            agency_code=r.agency_code,
            chair=r.chair,
            endpoint=r.endpoint,
            worker=r.worker,
            epoch=r.epoch,
            connected=r.connected,
            streams=streams_from_json(r.streams),
            audio_muted=r.audio_muted,
            video_muted=r.video_muted,
            muted_by_chair=r.muted_by_chair,
            hand=r.hand,
            audio_only=r.audio_only,
            rtt_ms=r.rtt_ms,
            loss=r.loss,
        )
        for r in result
    )
    if room is None:
        return LiveSnapshot(rows=rows)
    return LiveSnapshot(
        room.spotlight,
        room.recording,
        room.ended,
        rows,
        walls_from_json(room.walls),
        room.wall_page,
    )


def walls_from_json(raw: str | None) -> tuple[str, ...]:
    """The walls' participant ids from their column (a bad value reads as none)."""
    try:
        data = json.loads(raw or "[]")
    except ValueError:
        return ()
    return tuple(sorted(str(x) for x in data)) if isinstance(data, list) else ()


async def _room_txn(session: AsyncSession, briefing_id: int) -> LiveRoom:
    room = await session.get(LiveRoom, briefing_id)
    if room is None:
        room = LiveRoom(briefing_id=briefing_id, spotlight=None, recording=False, ended=False)
        session.add(room)
        await session.flush()
    return room


async def set_room_txn(session: AsyncSession, briefing_id: int, **values: Any) -> None:
    """Room fields: ``spotlight``, ``recording``, ``ended``, ``walls``, ``wall_page``."""
    room = await _room_txn(session, briefing_id)
    for key, value in values.items():
        setattr(room, key, value)


async def host_txn(
    session: AsyncSession,
    briefing_id: int,
    participant: str,
    *,
    worker: int,
    epoch: str,
    **values: Any,
) -> None:
    """This worker hosts ``participant`` now: create or take over its row."""
    await _room_txn(session, briefing_id)
    row = await session.get(LiveParticipant, (briefing_id, participant))
    if row is None:
        row = LiveParticipant(
            briefing_id=briefing_id,
            participant=participant,
            streams="[]",
            audio_muted=False,
            video_muted=False,
            muted_by_chair=False,
            hand=False,
            audio_only=False,
            connected=False,
        )
        session.add(row)
    row.worker, row.epoch = worker, epoch
    for key, value in values.items():
        setattr(row, key, value)


async def set_fields_txn(
    session: AsyncSession,
    briefing_id: int,
    participant: str,
    *,
    host: tuple[int, str] | None = None,
    **values: Any,
) -> None:
    """Some fields of one row; with ``host``, only while that worker (and epoch) still hosts it."""
    stmt = update(LiveParticipant).where(
        LiveParticipant.briefing_id == briefing_id, LiveParticipant.participant == participant
    )
    if host is not None:
        stmt = stmt.where(LiveParticipant.worker == host[0], LiveParticipant.epoch == host[1])
    await session.execute(stmt.values(**values))


async def set_all_txn(
    session: AsyncSession, briefing_id: int, *, except_chair: bool = False, **values: Any
) -> None:
    """Some fields of every row of the briefing (mute all, lower hands)."""
    stmt = update(LiveParticipant).where(LiveParticipant.briefing_id == briefing_id)
    if except_chair:
        stmt = stmt.where(LiveParticipant.chair.is_(False))
    await session.execute(stmt.values(**values))


QualityRow = tuple[tuple[int, str], float | None, float | None]
"""A participant's link figures for the roll call: (hosting worker, epoch), RTT ms, loss."""
RTT_STEP_MS = 5.0
LOSS_STEP = 0.005
"""Link figures closer than these to the ones last written are not written again."""


async def set_quality_txn(
    session: AsyncSession, briefing_id: int, rows: dict[str, QualityRow]
) -> None:
    """RTT and loss of several rows in one statement (executemany), each only while its worker
    (and epoch) still hosts it, as :func:`set_fields_txn` with ``host``."""
    table: Table = LiveParticipant.__table__  # type: ignore[assignment]
    stmt = (
        update(table)
        .where(
            table.c.briefing_id == bindparam("b_briefing"),
            table.c.participant == bindparam("b_participant"),
            table.c.worker == bindparam("b_worker"),
            table.c.epoch == bindparam("b_epoch"),
        )
        .values(rtt_ms=bindparam("b_rtt"), loss=bindparam("b_loss"))
    )
    params = [
        {
            "b_briefing": briefing_id,
            "b_participant": participant,
            "b_worker": host[0],
            "b_epoch": host[1],
            "b_rtt": rtt,
            "b_loss": loss,
        }
        for participant, (host, rtt, loss) in rows.items()
    ]
    await session.execute(stmt, params)


def _close(a: float | None, b: float | None, step: float) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) < step


async def read_live(db: Database, briefing_id: int) -> LiveSnapshot:
    async def run(session: AsyncSession) -> LiveSnapshot:
        return await read_live_txn(session, briefing_id)

    return await db.read("briefing_live_read", run)


async def mark_live_ended(db: Database, briefing_id: int) -> None:
    async def run(session: AsyncSession) -> None:
        await set_room_txn(session, briefing_id, ended=True)

    await db.write("briefing_live_ended", run)


class LiveWriter:
    """One room's writes, committed in order by one task, then ``after`` (tell the other workers).

    A room method changes its memory at once and queues the write here; a failed write is
    logged and dropped (the room goes on; the next write or the periodic refresh repairs it).
    """

    def __init__(self, db: Database, briefing_id: int, after: Callable[[], None]) -> None:
        self.db = db
        self.briefing_id = briefing_id
        self._after = after
        self._queue: list[Txn] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._quality: dict[str, QualityRow] = {}
        """Link figures waiting to be written (the latest per participant)."""
        self._written: dict[str, QualityRow] = {}

    @property
    def pending(self) -> bool:
        """True while writes wait: a read now could be older than this worker's memory."""
        return not self._idle.is_set()

    def put(self, txn: Txn) -> None:
        self._queue.append(txn)
        self._idle.clear()
        self._wake.set()
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    def room(self, **values: Any) -> None:
        bid = self.briefing_id
        self.put(lambda s: set_room_txn(s, bid, **values))

    def fields(self, participant: str, **values: Any) -> None:
        bid = self.briefing_id
        self.put(lambda s: set_fields_txn(s, bid, participant, **values))

    def quality(
        self, participant: str, host: tuple[int, str], rtt_ms: float | None, loss: float | None
    ) -> None:
        """A participant's link figures, for a chair's roll call on another worker.

        They change every time they are measured, for every participant, and nobody waits for
        them: written only when they moved (:data:`RTT_STEP_MS`, :data:`LOSS_STEP`), all of a
        round in one statement, and the other workers are not told (their periodic read takes
        them); other writes are not held back by them (:attr:`pending`).
        """
        last = self._written.get(participant)
        if (
            last is not None
            and last[0] == host
            and _close(last[1], rtt_ms, RTT_STEP_MS)
            and _close(last[2], loss, LOSS_STEP)
        ):
            return
        self._quality[participant] = (host, rtt_ms, loss)
        self._wake.set()
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    def everyone(self, *, except_chair: bool = False, **values: Any) -> None:
        bid = self.briefing_id
        self.put(lambda s: set_all_txn(s, bid, except_chair=except_chair, **values))

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._queue = self._queue, []
            quality, self._quality = self._quality, {}
            if batch or quality:
                await self._write(batch, quality)
            if batch:
                self._after()
            if not self._queue:
                self._idle.set()

    async def _write(self, batch: list[Txn], quality: dict[str, QualityRow]) -> None:
        bid = self.briefing_id

        async def run(session: AsyncSession) -> None:
            for txn in batch:
                await txn(session)
            if quality:
                await set_quality_txn(session, bid, quality)

        try:
            await self.db.write("briefing_live", run)
        except Exception as exc:  # the room must go on without its shared copy
            log.warning("live state of briefing %s not saved: %r", bid, exc)
            return
        self._written.update(quality)

    async def flush(self) -> None:
        """Wait until every queued write is committed."""
        await self._idle.wait()

    async def close(self) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.flush(), 5)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
