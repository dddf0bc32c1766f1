"""What a council session does: each operation checks who asks, commits, then tells the tablets.

Events go to ``session:<id>`` (everyone invited) and ``session:<id>:desk`` (chair and secretariat:
the live count of an open vote).  Each event is published after its transaction commits, so a
tablet that reloads the state on ``resync`` never sees less than the events told it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import suppress
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meetings.sessions import polls, repo, signed_minutes
from meetings.sessions.batcher import VoteBatcher
from meetings.sessions.errors import (
    BadInput,
    NotSecretariat,
    SessionNotFound,
    StateConflict,
    VoteNotFound,
    VoteRefused,
)
from meetings.sessions.models import AgendaItem, CouncilSession, Invitation, Poll, PollVote
from meetings.sessions.polls import REFUSALS, Ballot, BallotOutcome
from meetings.sessions.roles import InvitationRoles
from meetings.sessions.rules import Choice, InviteRole, Presence, SpeakerKind, Threshold
from server.accounts.models import User
from server.audit.log import append_txn
from server.auth.principal import Principal, Role
from server.db import Database
from server.db.base import utcnow
from server.http.keys import CONFIG_KEY, DB_KEY
from server.realtime import Hub, user_channel

T = TypeVar("T")
log = logging.getLogger(__name__)


def channel(session_id: int) -> str:
    """Everyone invited to the session listens here."""
    return f"session:{session_id}"


def desk_channel(session_id: int) -> str:
    """The chair and the secretariat listen here too: live counts of an open vote."""
    return f"session:{session_id}:desk"


def is_desk(role: str | None) -> bool:
    return role in (InviteRole.CHAIR.value, InviteRole.SECRETARIAT.value)


async def guard_txn(
    session: AsyncSession, session_id: int, p: Principal, *, secretariat: bool = False
) -> tuple[CouncilSession, str]:
    """The session and the caller's role in it; 404 when not invited, 403 when not secretariat."""
    cs = await session.get(CouncilSession, session_id)
    role = await repo.role_of_txn(session, session_id, p.user_id) if cs is not None else None
    if cs is None or role is None:
        raise SessionNotFound()
    if secretariat and not (role == "secretariat" and p.has(Role.SECRETARIAT)):
        raise NotSecretariat()
    return cs, role


def _actor(p: Principal) -> dict[str, Any]:
    return {"actor": p.login, "actor_user_id": p.user_id}


class SessionsService:
    """The sessions domain's operations, bound to the app's database and hub."""

    def __init__(self, hub: Hub, db: Database | None = None) -> None:
        self.hub = hub
        self._db = db
        self._batcher: VoteBatcher | None = None
        self.roles = InvitationRoles(self._load_roles)
        """Invitation roles for the realtime channel rule (cached; see ``roles.py``)."""
        self.files_dir = Path("files")
        self.trust_dir = Path("trust")
        self.verify_online = True
        """Fetch OCSP/CRL answers when checking signed minutes (hard-fail)."""

    async def cleanup_ctx(self, app: web.Application) -> AsyncIterator[None]:
        """Bind to the app's database (opened by then) and run the vote batcher with the app."""
        self._db = app[DB_KEY]
        self.files_dir = app[CONFIG_KEY].files_dir
        self.trust_dir = app[CONFIG_KEY].trust_dir
        self._batcher = VoteBatcher(self._db, on_batch=self._publish_tallies)
        self._batcher.start()
        sweeper = asyncio.get_running_loop().create_task(self._sweep(), name="opinion-deadlines")
        yield
        sweeper.cancel()
        with suppress(asyncio.CancelledError):
            await sweeper
        await self._batcher.stop()

    async def _sweep(self, every: float = 15.0) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.close_expired_opinions()
            except Exception:
                log.exception("closing expired opinion collections failed")

    async def _load_roles(self, session_id: int) -> dict[int, str]:
        async def run(session: AsyncSession) -> dict[int, str]:
            return await repo.roles_txn(session, session_id)

        return await self.db.read("session_roles", run)

    @property
    def db(self) -> Database:
        if self._db is None:
            raise RuntimeError("SessionsService used before the app started")
        return self._db

    @property
    def batcher(self) -> VoteBatcher:
        if self._batcher is None:
            raise RuntimeError("SessionsService used before the app started")
        return self._batcher

    async def _write(self, desc: str, fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
        return await self.db.write(desc, fn)

    async def _publish(self, session_id: int, type: str, data: dict[str, Any]) -> None:
        await self.hub.publish(channel(session_id), type, data)

    # -- sessions ------------------------------------------------------------------------------

    async def create_session(
        self, p: Principal, *, title: str, place: str, starts_on: date | None
    ) -> dict[str, Any]:
        if not p.has(Role.SECRETARIAT):
            raise NotSecretariat()

        async def run(session: AsyncSession) -> dict[str, Any]:
            cs = await repo.create_session_txn(
                session, title=title, place=place, starts_on=starts_on, created_by=p.user_id
            )
            await append_txn(session, "session.create", target=f"session:{cs.id}", **_actor(p))
            return session_json(cs, "secretariat")

        created = await self._write("session_create", run)
        self.roles.forget(created["id"])
        return created

    async def clone_session(self, p: Principal, session_id: int, title: str) -> dict[str, Any]:
        """A new draft session with the agenda and invitations of ``session_id`` (a template)."""

        async def run(session: AsyncSession) -> dict[str, Any]:
            src, _role = await guard_txn(session, session_id, p, secretariat=True)
            cs = await repo.create_session_txn(
                session, title=title, place=src.place, starts_on=None, created_by=p.user_id
            )
            for inv in await session.scalars(
                select(Invitation).where(Invitation.session_id == session_id)
            ):
                if inv.user_id != p.user_id:
                    session.add(Invitation(session_id=cs.id, user_id=inv.user_id, role=inv.role))
            items = list(
                await session.scalars(
                    select(AgendaItem)
                    .where(AgendaItem.session_id == session_id)
                    .order_by(AgendaItem.id)
                )
            )
            new_ids: dict[int, int] = {}
            for item in items:  # ids grow with creation, so a parent comes before its children
                copy = AgendaItem(
                    session_id=cs.id,
                    parent_id=new_ids.get(item.parent_id) if item.parent_id else None,
                    position=item.position,
                    title=item.title,
                    description=item.description,
                )
                session.add(copy)
                await session.flush()
                new_ids[item.id] = copy.id
            await append_txn(
                session,
                "session.clone",
                target=f"session:{cs.id}",
                details={"from": session_id},
                **_actor(p),
            )
            return session_json(cs, "secretariat")

        created = await self._write("session_clone", run)
        self.roles.forget(created["id"])
        return created

    async def list_sessions(self, p: Principal) -> list[dict[str, Any]]:
        async def run(session: AsyncSession) -> list[dict[str, Any]]:
            return [
                session_json(cs, role)
                for cs, role in await repo.sessions_of_txn(session, p.user_id)
            ]

        return await self.db.read("session_list", run)

    async def state(self, p: Principal, session_id: int) -> dict[str, Any]:
        """Everything a tablet or the wall needs to draw the session now."""

        async def run(session: AsyncSession) -> dict[str, Any]:
            cs, role = await guard_txn(session, session_id, p)
            desk = is_desk(role)
            quorum = await repo.quorum_txn(session, session_id, cs.current_sitting_id)
            attendance = (
                await repo.attendance_txn(session, cs.current_sitting_id)
                if cs.current_sitting_id is not None
                else {}
            )
            all_polls = await polls.polls_txn(session, session_id)
            return {
                "session": session_json(cs, role),
                "me": {
                    "user_id": p.user_id,
                    "role": role,
                    "attendance": attendance.get(p.user_id),
                    "voted": await _voted_txn(session, all_polls, p.user_id),
                },
                "sittings": [
                    {
                        "id": s.id,
                        "title": s.title,
                        "started": s.starts_at is not None,
                    }
                    for s in await repo.sittings_txn(session, session_id)
                ],
                "agenda": await repo.agenda_txn(session, session_id),
                "current_item_id": cs.current_item_id,
                "minutes": (
                    {"signer": cs.minutes_signer, "at": cs.minutes_at.isoformat()}
                    if cs.minutes_sha256 and cs.minutes_at
                    else None
                ),
                "quorum": quorum.to_json(),
                "invitations": await repo.invitations_txn(session, session_id),
                "attendance": {str(k): v for k, v in attendance.items()} if desk else {},
                "queue": (
                    await repo.queue_txn(session, cs.current_item_id)
                    if cs.current_item_id is not None
                    else []
                ),
                "speaker": await repo.current_speaker_txn(session, session_id),
                "polls": [polls.poll_json(x, with_counts=desk) for x in all_polls],
            }

        return await self.db.read("session_state", run)

    async def set_status(self, p: Principal, session_id: int, status: str) -> None:
        if status not in ("draft", "open", "closed"):
            raise BadInput("status must be draft, open or closed.", detail_vi="Trạng thái sai.")

        async def run(session: AsyncSession) -> None:
            await guard_txn(session, session_id, p, secretariat=True)
            await repo.set_status_txn(session, session_id, status)
            await append_txn(
                session,
                "session.status",
                target=f"session:{session_id}",
                details={"status": status},
                **_actor(p),
            )

        await self._write("session_status", run)
        await self._publish(session_id, "session.status", {"status": status})

    # -- invitations and sittings ----------------------------------------------------------------

    async def invite(self, p: Principal, session_id: int, login: str, role: InviteRole) -> None:
        await self.invite_many(p, session_id, [login], role)

    async def invite_many(
        self, p: Principal, session_id: int, logins: list[str], role: InviteRole
    ) -> int:
        """Invite (or change the role of) everyone in ``logins``, all or none; one event."""

        async def run(session: AsyncSession) -> int:
            await guard_txn(session, session_id, p, secretariat=True)
            for login in dict.fromkeys(logins):
                user = await repo.invite_txn(session, session_id, login, role.value)
                await append_txn(
                    session,
                    "session.invite",
                    target=f"session:{session_id}",
                    details={"user": user.login, "role": role.value},
                    **_actor(p),
                )
            return len(dict.fromkeys(logins))

        count = await self._write("session_invite", run)
        self.roles.forget(session_id)
        await self._publish(session_id, "invitations.changed", {})
        return count

    async def candidates(self, p: Principal, session_id: int, q: str) -> list[dict[str, Any]]:
        """People the secretariat may invite (active, not invited yet) matching ``q``."""

        async def run(session: AsyncSession) -> list[dict[str, Any]]:
            await guard_txn(session, session_id, p, secretariat=True)
            return await repo.candidates_txn(session, session_id, q)

        return await self.db.read("session_candidates", run)

    async def add_sitting(self, p: Principal, session_id: int, title: str) -> dict[str, Any]:
        async def run(session: AsyncSession) -> dict[str, Any]:
            await guard_txn(session, session_id, p, secretariat=True)
            s = await repo.add_sitting_txn(session, session_id, title)
            return {"id": s.id, "title": s.title, "started": False}

        data = await self._write("sitting_add", run)
        await self._publish(session_id, "sittings.changed", {})
        return data

    async def start_sitting(self, p: Principal, session_id: int, sitting_id: int) -> None:
        async def run(session: AsyncSession) -> dict[str, Any]:
            await guard_txn(session, session_id, p, secretariat=True)
            await repo.start_sitting_txn(session, session_id, sitting_id)
            await append_txn(
                session,
                "sitting.start",
                target=f"session:{session_id}",
                details={"sitting": sitting_id},
                **_actor(p),
            )
            return (await repo.quorum_txn(session, session_id, sitting_id)).to_json()

        quorum = await self._write("sitting_start", run)
        await self._publish(
            session_id, "sitting.started", {"sitting": sitting_id, "quorum": quorum}
        )

    # -- agenda ---------------------------------------------------------------------------------

    async def add_item(
        self,
        p: Principal,
        session_id: int,
        *,
        title: str,
        description: str,
        parent_id: int | None,
    ) -> dict[str, Any]:
        async def run(session: AsyncSession) -> dict[str, Any]:
            await guard_txn(session, session_id, p, secretariat=True)
            item = await repo.add_item_txn(
                session, session_id, title=title, description=description, parent_id=parent_id
            )
            return {"id": item.id, "title": item.title, "parent_id": item.parent_id}

        data = await self._write("agenda_add", run)
        await self._publish(session_id, "agenda.changed", {"item": data})
        return data

    async def set_current_item(self, p: Principal, session_id: int, item_id: int | None) -> None:
        async def run(session: AsyncSession) -> dict[str, Any]:
            await guard_txn(session, session_id, p, secretariat=True)
            await repo.set_current_item_txn(session, session_id, item_id)
            title = (
                (await repo.get_item_txn(session, session_id, item_id)).title
                if item_id is not None
                else ""
            )
            queue = await repo.queue_txn(session, item_id) if item_id is not None else []
            return {"item_id": item_id, "title": title, "queue": queue}

        data = await self._write("agenda_current", run)
        await self._publish(session_id, "agenda.current", data)

    # -- attendance -----------------------------------------------------------------------------

    async def check_in(
        self,
        p: Principal,
        session_id: int,
        status: Presence,
        reason: str,
        *,
        login: str | None = None,
    ) -> dict[str, Any]:
        """Mark attendance at the current sitting: one's own, or anyone's by the secretariat."""

        async def run(session: AsyncSession) -> dict[str, Any]:
            cs, role = await guard_txn(session, session_id, p, secretariat=login is not None)
            if cs.current_sitting_id is None:
                raise VoteRefused(
                    "No sitting is being held.",
                    detail_vi="Chưa bắt đầu phiên họp.",
                    code="sessions.no_sitting",
                )
            user_id = p.user_id
            if login is not None:
                user = (await session.scalars(select(User).where(User.login == login))).first()
                if user is None or await repo.role_of_txn(session, session_id, user.id) is None:
                    raise SessionNotFound("invited person")
                user_id = user.id
            elif role not in ("chair", "member", "guest"):
                raise BadInput(
                    "The secretariat does not check in.",
                    detail_vi="Thư ký không điểm danh.",
                )
            await repo.set_attendance_txn(
                session, session_id, cs.current_sitting_id, user_id, status.value, reason
            )
            await append_txn(
                session,
                "attendance.set",
                target=f"session:{session_id}",
                details={"user_id": user_id, "status": status.value, "reason": reason},
                **_actor(p),
            )
            quorum = await repo.quorum_txn(session, session_id, cs.current_sitting_id)
            return {"user_id": user_id, "status": status.value, "quorum": quorum.to_json()}

        data = await self._write("attendance_set", run)
        await self._publish(session_id, "attendance.changed", data)
        return data

    # -- speakers -------------------------------------------------------------------------------

    async def register_speaker(
        self, p: Principal, session_id: int, item_id: int, kind: SpeakerKind
    ) -> dict[str, Any]:
        async def run(session: AsyncSession) -> list[dict[str, Any]]:
            _cs, role = await guard_txn(session, session_id, p)
            if role not in ("chair", "member"):
                raise VoteRefused(
                    "Only members register to speak.",
                    detail_vi="Chỉ đại biểu được đăng ký phát biểu.",
                    code="speakers.not_member",
                )
            await repo.register_speaker_txn(session, session_id, item_id, p.user_id, kind.value)
            return await repo.queue_txn(session, item_id)

        queue = await self._write("speaker_register", run)
        data = {"item_id": item_id, "queue": queue}
        await self._publish(session_id, "speakers.changed", data)
        return data

    async def order_queue(
        self, p: Principal, session_id: int, item_id: int, order: list[int]
    ) -> dict[str, Any]:
        async def run(session: AsyncSession) -> list[dict[str, Any]]:
            await guard_txn(session, session_id, p, secretariat=True)
            await repo.get_item_txn(session, session_id, item_id)
            await repo.order_queue_txn(session, item_id, order)
            return await repo.queue_txn(session, item_id)

        queue = await self._write("speaker_order", run)
        data = {"item_id": item_id, "queue": queue}
        await self._publish(session_id, "speakers.changed", data)
        return data

    async def speaker_action(
        self, p: Principal, session_id: int, speaker_id: int, action: str, limit_s: int
    ) -> dict[str, Any]:
        """``start`` the timer, ``stop`` (done) or ``withdraw`` (by the speaker or secretariat)."""

        async def run(session: AsyncSession) -> dict[str, Any]:
            await guard_txn(session, session_id, p)
            speaker = await repo.get_speaker_txn(session, session_id, speaker_id)
            own = speaker.user_id == p.user_id and action == "withdraw"
            if not own:
                await guard_txn(session, session_id, p, secretariat=True)
            if action == "start":
                await repo.start_speaker_txn(session, speaker, limit_s)
            elif action in ("stop", "withdraw"):
                speaker.status = "done" if action == "stop" else "withdrawn"
                speaker.ended_at = utcnow()
            else:
                raise BadInput("action must be start, stop or withdraw.", detail_vi="Thao tác sai.")
            await session.flush()
            return {
                "item_id": speaker.item_id,
                "queue": await repo.queue_txn(session, speaker.item_id),
                "speaker": await repo.current_speaker_txn(session, session_id),
            }

        data = await self._write("speaker_action", run)
        await self._publish(session_id, "speakers.changed", data)
        return data

    # -- votes ----------------------------------------------------------------------------------

    async def create_poll(
        self,
        p: Principal,
        session_id: int,
        *,
        title: str,
        item_id: int | None,
        secret: bool,
        threshold: Threshold,
        deadline: datetime | None = None,
    ) -> dict[str, Any]:
        """A vote at the sitting, or with ``deadline`` an opinion collection (lấy ý kiến)."""
        if deadline is not None and deadline <= utcnow():
            raise BadInput(
                "The deadline must be in the future.",
                detail_vi="Hạn lấy ý kiến phải sau thời điểm hiện tại.",
                extra={"field": "deadline"},
            )

        async def run(session: AsyncSession) -> dict[str, Any]:
            await guard_txn(session, session_id, p, secretariat=True)
            poll = await polls.create_poll_txn(
                session,
                session_id,
                title=title,
                item_id=item_id,
                secret=secret,
                threshold=threshold,
                kind="opinion" if deadline is not None else "vote",
                deadline=deadline,
            )
            return polls.poll_json(poll, with_counts=True)

        data = await self._write("poll_create", run)
        await self._publish(session_id, "vote.created", {"poll": data})
        return data

    async def open_poll(self, p: Principal, session_id: int, poll_id: int) -> dict[str, Any]:
        async def run(session: AsyncSession) -> dict[str, Any]:
            cs, _role = await guard_txn(session, session_id, p, secretariat=True)
            poll = await polls.get_poll_txn(session, session_id, poll_id)
            await polls.open_poll_txn(session, cs, poll)
            await append_txn(session, "vote.open", target=f"poll:{poll_id}", **_actor(p))
            return polls.poll_json(poll, with_counts=False)

        data = await self._write("poll_open", run)
        await self._publish(session_id, "vote.opened", {"poll": data})

        async def warm(session: AsyncSession) -> None:
            # Compile the batch's statements now, not under the first burst of 1,000 votes:
            # nobody has user id 0, so this is refused before anything is written.
            await polls.cast_batch_txn(session, [Ballot(poll_id, 0, Choice.YES)])

        await self.db.read("poll_warm", warm)
        return data

    async def close_poll(self, p: Principal, session_id: int, poll_id: int) -> dict[str, Any]:
        """Close after every vote already queued is committed; publish the result to all."""

        async def check(session: AsyncSession) -> None:
            await guard_txn(session, session_id, p, secretariat=True)
            await polls.get_poll_txn(session, session_id, poll_id)

        await self.db.read("poll_check", check)
        return await self._close(session_id, poll_id, actor=p.login, actor_user_id=p.user_id)

    async def _close(
        self, session_id: int, poll_id: int, *, actor: str, actor_user_id: int | None
    ) -> dict[str, Any]:
        await self.batcher.flush()

        async def run(session: AsyncSession) -> dict[str, Any]:
            poll = await polls.get_poll_txn(session, session_id, poll_id)
            await polls.close_poll_txn(session, poll)
            result = polls.poll_json(poll, with_counts=True)
            target = f"poll:{poll_id}"
            if poll.secret:  # who voted, once each, in one sorted list: no batch, no order
                await append_txn(
                    session,
                    "vote.voters",
                    actor=actor,
                    actor_user_id=actor_user_id,
                    target=target,
                    details={"voters": await polls.participants_txn(session, poll_id)},
                )
            await append_txn(
                session,
                "vote.close",
                actor=actor,
                actor_user_id=actor_user_id,
                target=target,
                details={k: result[k] for k in ("yes", "no", "abstain", "members_total", "passed")},
            )
            return result

        data = await self._write("poll_close", run)
        await self._publish(session_id, "vote.closed", {"poll": data})
        if data["secret"]:
            await polls.forget_wal(self.db)
        return data

    async def close_expired_opinions(self) -> int:
        """Close every opinion collection past its deadline (run periodically)."""

        async def run(session: AsyncSession) -> list[tuple[int, int]]:
            return await polls.expired_opinions_txn(session)

        closed = 0
        for session_id, poll_id in await self.db.read("opinions_expired", run):
            try:
                await self._close(session_id, poll_id, actor="deadline", actor_user_id=None)
                closed += 1
            except StateConflict:  # closed by the secretariat meanwhile
                pass
        return closed

    async def remind(self, p: Principal, session_id: int, poll_id: int) -> int:
        """Remind (nhắc) every member who has not answered an open vote or opinion collection."""

        async def run(session: AsyncSession) -> tuple[list[int], dict[str, Any]]:
            await guard_txn(session, session_id, p, secretariat=True)
            poll = await polls.get_poll_txn(session, session_id, poll_id)
            if poll.status != "open":
                raise StateConflict("The vote is not open.", detail_vi="Biểu quyết không mở.")
            return await polls.not_answered_txn(session, poll), polls.poll_json(
                poll, with_counts=False
            )

        users, data = await self.db.read("poll_remind", run)
        for uid in users:
            await self.hub.publish(
                user_channel(uid), "vote.reminder", {"session_id": session_id, "poll": data}
            )
        return len(users)

    # -- conclusions and minutes ----------------------------------------------------------------

    async def set_conclusions(self, p: Principal, session_id: int, text: str) -> None:
        async def run(session: AsyncSession) -> None:
            cs, _role = await guard_txn(session, session_id, p, secretariat=True)
            cs.conclusions = text
            await append_txn(
                session,
                "session.conclusions",
                target=f"session:{session_id}",
                details={"length": len(text)},
                **_actor(p),
            )

        await self._write("session_conclusions", run)
        await self._publish(session_id, "session.conclusions", {})

    async def require_secretariat(self, p: Principal, session_id: int) -> None:
        """404 when not invited, 403 unless the secretariat running this session."""

        async def check(session: AsyncSession) -> None:
            await guard_txn(session, session_id, p, secretariat=True)

        await self.db.read("session_secretariat_check", check)

    async def accept_signed_minutes(
        self, p: Principal, session_id: int, data: bytes
    ) -> dict[str, Any]:
        """Keep the minutes the secretariat signed, once ``signing`` finds the signatures valid."""

        async def check(session: AsyncSession) -> None:
            await guard_txn(session, session_id, p, secretariat=True)

        await self.db.read("minutes_check", check)
        report = await signed_minutes.verify_minutes(
            data, self.trust_dir, online=self.verify_online
        )
        digest, _path = await asyncio.to_thread(
            signed_minutes.store, self.files_dir / "minutes", data
        )
        signer = signed_minutes.signer_of(report)[:300]

        async def run(session: AsyncSession) -> dict[str, Any]:
            cs, _role = await guard_txn(session, session_id, p, secretariat=True)
            cs.minutes_sha256, cs.minutes_signer, cs.minutes_at = digest, signer, utcnow()
            await append_txn(
                session,
                "session.minutes_signed",
                target=f"session:{session_id}",
                details={"sha256": digest, "signer": signer},
                **_actor(p),
            )
            return {"sha256": digest, "signer": signer, "report": report.to_dict()}

        result = await self._write("minutes_signed", run)
        await self._publish(session_id, "minutes.signed", {"signer": signer})
        return result

    async def signed_minutes_path(self, p: Principal, session_id: int) -> Path:
        async def run(session: AsyncSession) -> str | None:
            cs, _role = await guard_txn(session, session_id, p)
            return cs.minutes_sha256

        digest = await self.db.read("minutes_signed_get", run)
        if digest is None:
            raise SessionNotFound("signed minutes")
        return self.files_dir / "minutes" / f"{digest}.pdf"

    async def minutes_data(self, p: Principal, session_id: int) -> dict[str, Any]:
        """What the minutes (biên bản) print: attendance per sitting, every closed vote."""

        async def run(session: AsyncSession) -> dict[str, Any]:
            cs, _role = await guard_txn(session, session_id, p)
            sittings = []
            people = {u["user_id"]: u for u in await repo.invitations_txn(session, session_id)}
            for s in await repo.sittings_txn(session, session_id):
                marks = await repo.attendance_txn(session, s.id)
                sittings.append(
                    {
                        "title": s.title,
                        "quorum": (await repo.quorum_txn(session, session_id, s.id)).to_json(),
                        "absent": [
                            (people[uid]["full_name"], m["reason"])
                            for uid, m in marks.items()
                            if m["status"] == "absent" and uid in people
                        ],
                    }
                )
            closed = [
                polls.poll_json(x, with_counts=True)
                for x in await polls.polls_txn(session, session_id)
                if x.status == "closed"
            ]
            return {
                "session": session_json(cs, ""),
                "conclusions": cs.conclusions,
                "sittings": sittings,
                "polls": closed,
            }

        return await self.db.read("session_minutes", run)

    async def poll_detail(self, p: Principal, session_id: int, poll_id: int) -> dict[str, Any]:
        """A vote with its count (desk, or once closed) and who voted; how, only if named."""

        async def run(session: AsyncSession) -> dict[str, Any]:
            _cs, role = await guard_txn(session, session_id, p)
            poll = await session.get(Poll, poll_id)
            if poll is None or poll.session_id != session_id:
                raise SessionNotFound("vote")
            data = polls.poll_json(poll, with_counts=is_desk(role))
            # who voted is listed once the vote is closed; before, only to the desk of a named
            # vote (a secret one shows even the desk no more than how many voted)
            if poll.status == "closed" or (is_desk(role) and not poll.secret):
                data["voters"] = await polls.voters_txn(session, poll_id)
            return data

        return await self.db.read("poll_detail", run)

    async def cast(
        self, p: Principal, poll_id: int, choice: Choice, *, session_id: int | None = None
    ) -> BallotOutcome:
        """Record one vote through the batcher; refusals raise :class:`VoteRefused`, and
        :class:`VoteNotFound` for a vote that does not exist or whose session the caller is not
        invited to (the same answer, so an outsider learns nothing of a vote's state)."""
        outcome = await self.batcher.cast(Ballot(poll_id, p.user_id, choice, session_id))
        if outcome.code == "votes.no_poll":
            raise VoteNotFound()
        if outcome.status == "refused":
            detail, detail_vi = REFUSALS[outcome.code]
            raise VoteRefused(detail, detail_vi=detail_vi, code=outcome.code)
        return outcome

    async def _publish_tallies(self, touched: list[Poll]) -> None:
        for poll in touched:
            await self.hub.publish(
                desk_channel(poll.session_id),
                "vote.tally",
                {"poll": polls.poll_json(poll, with_counts=True)},
            )


async def _voted_txn(session: AsyncSession, all_polls: list[Poll], user_id: int) -> list[int]:
    ids = [x.id for x in all_polls if x.status != "draft"]
    if not ids:
        return []
    rows = await session.scalars(
        select(PollVote.poll_id).where(PollVote.poll_id.in_(ids), PollVote.user_id == user_id)
    )
    return sorted(rows)


def session_json(cs: CouncilSession, role: str) -> dict[str, Any]:
    return {
        "id": cs.id,
        "title": cs.title,
        "place": cs.place,
        "starts_on": cs.starts_on.isoformat() if cs.starts_on else None,
        "status": cs.status,
        "current_item_id": cs.current_item_id,
        "current_sitting_id": cs.current_sitting_id,
        "role": role,
    }
