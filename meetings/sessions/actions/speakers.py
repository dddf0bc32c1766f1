"""Speakers (đăng ký phát biểu): registering, ordering the queue, the timer."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from meetings.sessions import speakers_repo
from meetings.sessions.bodies import QueueOrder, Registration, SpeakerCommand
from meetings.sessions.errors import VoteRefused
from meetings.sessions.repo import get_item_txn
from meetings.sessions.service import SessionsService, guard_txn
from server.auth.principal import Principal


async def register(
    svc: SessionsService, p: Principal, session_id: int, item_id: int, reg: Registration
) -> dict[str, Any]:
    """A member asks to speak on an item; everyone sees the queue."""

    async def run(session: AsyncSession) -> list[dict[str, Any]]:
        _cs, role = await guard_txn(session, session_id, p)
        if role not in ("chair", "member"):
            raise VoteRefused(
                "Only members register to speak.",
                detail_vi="Chỉ đại biểu được đăng ký phát biểu.",
                code="speakers.not_member",
            )
        await speakers_repo.register_speaker_txn(
            session, session_id, item_id, p.user_id, reg.kind.value
        )
        return await speakers_repo.queue_txn(session, item_id)

    queue = await svc.write("speaker_register", run)
    data = {"item_id": item_id, "queue": queue}
    await svc.publish(session_id, "speakers.changed", data)
    return data


async def order_queue(
    svc: SessionsService, p: Principal, session_id: int, item_id: int, order: QueueOrder
) -> dict[str, Any]:
    """The secretariat puts the waiting speakers in order."""

    async def run(session: AsyncSession) -> list[dict[str, Any]]:
        await guard_txn(session, session_id, p, secretariat=True)
        await get_item_txn(session, session_id, item_id)
        await speakers_repo.order_queue_txn(session, item_id, order.order)
        return await speakers_repo.queue_txn(session, item_id)

    queue = await svc.write("speaker_order", run)
    data = {"item_id": item_id, "queue": queue}
    await svc.publish(session_id, "speakers.changed", data)
    return data


async def command(
    svc: SessionsService, p: Principal, session_id: int, speaker_id: int, cmd: SpeakerCommand
) -> dict[str, Any]:
    """``start`` the timer, ``stop`` (done) or ``withdraw`` (by the speaker or secretariat);
    ``pause``, ``resume``, ``reset`` the timer of the one speaking (secretariat)."""

    async def run(session: AsyncSession) -> dict[str, Any]:
        await guard_txn(session, session_id, p)
        speaker = await speakers_repo.get_speaker_txn(session, session_id, speaker_id)
        if not (speaker.user_id == p.user_id and cmd.action == "withdraw"):
            await guard_txn(session, session_id, p, secretariat=True)
        if cmd.action == "start":
            await speakers_repo.start_speaker_txn(session, speaker, cmd.limit_s)
        elif cmd.action in ("pause", "resume", "reset"):
            await speakers_repo.timer_txn(session, speaker, cmd.action, cmd.limit_s)
        else:
            status = "done" if cmd.action == "stop" else "withdrawn"
            await speakers_repo.end_speaker_txn(session, speaker, status)
        return {
            "item_id": speaker.item_id,
            "queue": await speakers_repo.queue_txn(session, speaker.item_id),
            "speaker": await speakers_repo.current_speaker_txn(session, session_id),
        }

    data = await svc.write("speaker_action", run)
    await svc.publish(session_id, "speakers.changed", data)
    return data
