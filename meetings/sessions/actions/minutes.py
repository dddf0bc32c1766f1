"""Conclusions (kết luận) and minutes (biên bản): what they print, and keeping the signed copy."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from meetings.sessions import polls, repo, signed_minutes
from meetings.sessions.bodies import Conclusions
from meetings.sessions.errors import SessionNotFound
from meetings.sessions.service import SessionsService, actor, guard_txn, session_json
from server.audit.log import append_txn
from server.auth.principal import Principal


async def set_conclusions(
    svc: SessionsService, p: Principal, session_id: int, conclusions: Conclusions
) -> None:
    """The session's conclusions as the secretariat wrote them (printed in the minutes)."""

    async def run(session: AsyncSession) -> None:
        cs, _role = await guard_txn(session, session_id, p, secretariat=True)
        await repo.set_conclusions_txn(session, cs, conclusions.text)
        await append_txn(
            session,
            "session.conclusions",
            target=f"session:{session_id}",
            details={"length": len(conclusions.text)},
            **actor(p),
        )

    await svc.write("session_conclusions", run)
    await svc.publish(session_id, "session.conclusions", {})


async def require_secretariat(svc: SessionsService, p: Principal, session_id: int) -> None:
    """404 when not invited, 403 unless the secretariat running this session."""

    async def check(session: AsyncSession) -> None:
        await guard_txn(session, session_id, p, secretariat=True)

    await svc.read("session_secretariat_check", check)


async def accept_signed_minutes(
    svc: SessionsService, p: Principal, session_id: int, data: bytes
) -> dict[str, Any]:
    """Keep the minutes the secretariat signed, once ``signing`` finds the signatures valid."""
    await require_secretariat(svc, p, session_id)
    report = await signed_minutes.verify_minutes(data, svc.trust_dir, online=svc.verify_online)
    digest, _path = await asyncio.to_thread(signed_minutes.store, svc.files_dir / "minutes", data)
    signer = signed_minutes.signer_of(report)[:300]

    async def run(session: AsyncSession) -> dict[str, Any]:
        cs, _role = await guard_txn(session, session_id, p, secretariat=True)
        await repo.set_signed_minutes_txn(session, cs, digest, signer)
        await append_txn(
            session,
            "session.minutes_signed",
            target=f"session:{session_id}",
            details={"sha256": digest, "signer": signer},
            **actor(p),
        )
        return {"sha256": digest, "signer": signer, "report": report.to_dict()}

    result = await svc.write("minutes_signed", run)
    await svc.publish(session_id, "minutes.signed", {"signer": signer})
    return result


async def signed_minutes_path(svc: SessionsService, p: Principal, session_id: int) -> Path:
    """Where the signed minutes are kept; 404 before they are signed."""

    async def run(session: AsyncSession) -> str | None:
        cs, _role = await guard_txn(session, session_id, p)
        return cs.minutes_sha256

    digest = await svc.read("minutes_signed_get", run)
    if digest is None:
        raise SessionNotFound("signed minutes")
    return svc.files_dir / "minutes" / f"{digest}.pdf"


async def minutes_data(svc: SessionsService, p: Principal, session_id: int) -> dict[str, Any]:
    """What the minutes (biên bản) print: attendance per sitting, every closed vote."""

    async def run(session: AsyncSession) -> dict[str, Any]:
        cs, _role = await guard_txn(session, session_id, p)
        closed = [
            polls.poll_json(x, with_counts=True)
            for x in await polls.polls_txn(session, session_id)
            if x.status == "closed"
        ]
        return {
            "session": session_json(cs, ""),
            "conclusions": cs.conclusions,
            "sittings": await _sittings_txn(session, session_id),
            "polls": closed,
        }

    return await svc.read("session_minutes", run)


async def _sittings_txn(session: AsyncSession, session_id: int) -> list[dict[str, Any]]:
    """Each sitting's quorum and who was absent, with the reason."""
    people = {u["user_id"]: u for u in await repo.invitations_txn(session, session_id)}
    sittings = []
    for s in await repo.sittings_txn(session, session_id):
        marks = await repo.attendance_txn(session, s.id)
        sittings.append(
            {
                "title": s.title,
                "started": s.starts_at is not None,
                "quorum": (await repo.quorum_txn(session, session_id, s.id)).to_json(),
                "absent": [
                    (people[uid]["full_name"], m["reason"])
                    for uid, m in marks.items()
                    if m["status"] == "absent" and uid in people
                ],
            }
        )
    return sittings
