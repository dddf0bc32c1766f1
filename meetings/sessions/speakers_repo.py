"""SQL for the speakers' queue of each agenda item (``*_txn``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from meetings.sessions.errors import BadInput, SessionNotFound, StateConflict
from meetings.sessions.models import Speaker
from meetings.sessions.repo import get_item_txn
from server.accounts.models import User
from server.db.base import utcnow


async def register_speaker_txn(
    session: AsyncSession, session_id: int, item_id: int, user_id: int, kind: str
) -> Speaker:
    await get_item_txn(session, session_id, item_id)
    waiting = await session.scalar(
        select(func.count())
        .select_from(Speaker)
        .where(
            Speaker.item_id == item_id,
            Speaker.user_id == user_id,
            Speaker.status.in_(("waiting", "speaking")),
        )
    )
    if waiting:
        raise StateConflict(
            "You are already in the queue for this item.",
            detail_vi="Bạn đã đăng ký phát biểu ở nội dung này.",
        )
    last = await session.scalar(
        select(func.max(Speaker.position)).where(Speaker.item_id == item_id)
    )
    row = Speaker(
        session_id=session_id,
        item_id=item_id,
        user_id=user_id,
        kind=kind,
        position=int(last or 0) + 1,
    )
    session.add(row)
    await session.flush()
    return row


async def get_speaker_txn(session: AsyncSession, session_id: int, speaker_id: int) -> Speaker:
    row = await session.get(Speaker, speaker_id)
    if row is None or row.session_id != session_id:
        raise SessionNotFound("speaker")
    return row


async def queue_txn(session: AsyncSession, item_id: int) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(Speaker, User.full_name)
        .join(User, User.id == Speaker.user_id)
        .where(Speaker.item_id == item_id, Speaker.status.in_(("waiting", "speaking")))
        .order_by(Speaker.position, Speaker.id)
    )
    return [speaker_json(s, name) for s, name in rows]


def speaker_json(s: Speaker, name: str) -> dict[str, Any]:
    return {
        "id": s.id,
        "item_id": s.item_id,
        "user_id": s.user_id,
        "full_name": name,
        "kind": s.kind,
        "position": s.position,
        "status": s.status,
        "limit_s": s.limit_s,
        "started_at": s.started_at.isoformat() if s.started_at else None,
        "paused": s.status == "speaking" and s.started_at is None,
    }


async def order_queue_txn(session: AsyncSession, item_id: int, speaker_ids: Sequence[int]) -> None:
    """Put the waiting speakers of ``item_id`` in the order given (others keep theirs, after)."""
    rows = {
        s.id: s
        for s in await session.scalars(
            select(Speaker).where(Speaker.item_id == item_id, Speaker.status == "waiting")
        )
    }
    unknown = [i for i in speaker_ids if i not in rows]
    if unknown:
        raise BadInput(
            f"Not waiting on this item: {unknown}.",
            detail_vi="Danh sách có người không chờ phát biểu ở nội dung này.",
            extra={"field": "order"},
        )
    rest = sorted((s for i, s in rows.items() if i not in speaker_ids), key=lambda s: s.position)
    for position, speaker in enumerate([*(rows[i] for i in speaker_ids), *rest], start=1):
        speaker.position = position
    await session.flush()


async def start_speaker_txn(session: AsyncSession, speaker: Speaker, limit_s: int) -> None:
    """Start the timer for ``speaker``; whoever was speaking on the item is done."""
    now = utcnow()
    await session.execute(
        update(Speaker)
        .where(Speaker.item_id == speaker.item_id, Speaker.status == "speaking")
        .values(status="done", ended_at=now)
    )
    speaker.status, speaker.started_at, speaker.limit_s = "speaking", now, limit_s
    await session.flush()


async def timer_txn(session: AsyncSession, speaker: Speaker, action: str, limit_s: int) -> None:
    """The timer of the one speaking: ``pause`` (the time left is kept in ``limit_s`` and
    ``started_at`` is cleared), ``resume`` (runs from now), ``reset`` (back to ``limit_s``, paused).
    """
    if speaker.status != "speaking":
        raise StateConflict(
            "Only the timer of the one speaking can be paused or reset.",
            detail_vi="Chỉ điều khiển được đồng hồ của người đang phát biểu.",
        )
    now = utcnow()
    if action == "pause" and speaker.started_at is not None:
        spent = (now - speaker.started_at).total_seconds()
        speaker.limit_s, speaker.started_at = round(speaker.limit_s - spent), None
    elif action == "resume" and speaker.started_at is None:
        speaker.started_at = now
    elif action == "reset":
        speaker.limit_s, speaker.started_at = limit_s, None
    await session.flush()


async def end_speaker_txn(session: AsyncSession, speaker: Speaker, status: str) -> None:
    """``speaker`` is ``done`` (stopped) or ``withdrawn``."""
    speaker.status, speaker.ended_at = status, utcnow()
    await session.flush()


async def current_speaker_txn(session: AsyncSession, session_id: int) -> dict[str, Any] | None:
    row = (
        await session.execute(
            select(Speaker, User.full_name)
            .join(User, User.id == Speaker.user_id)
            .where(Speaker.session_id == session_id, Speaker.status == "speaking")
            .order_by(Speaker.started_at.desc())
            .limit(1)
        )
    ).first()
    return speaker_json(row[0], row[1]) if row else None
