"""A secret vote (bỏ phiếu kín) reveals no member's choice: not to the chair polling after each
vote, not to the desk's event history, not in the database rows, not in the audit log."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from lienthong.migrations import MIGRATION_DIRS
from meetings.sessions.counts import Counts, counts_txn
from meetings.sessions.models import Poll, PollTally, PollVote
from server.audit.models import AuditEntry
from server.db import Database
from server.db.base import utcnow
from server.db.migrate import downgrade, upgrade
from tests.conftest import People
from tests.sessions.helpers import Council, make_council, next_op
from tests.sessions.test_votes import open_poll, vote

# The order members vote in: each one's choice must stay unknown to the chair and the secretariat.
ORDER = (("db1", "yes"), ("db2", "no"), ("chair", "yes"), ("db3", "abstain"))
COUNTS = {"yes", "no", "abstain", "present", "passed"}


def migration_dirs() -> Sequence[Path]:
    """The assembly's migration directories."""
    return MIGRATION_DIRS


async def _secret_vote_watched(c: Council) -> tuple[int, list[dict[str, Any]]]:
    """Everyone checks in; a secret vote opens; after each vote the chair and the secretariat
    read the vote and the session state.  Returns the poll and what they saw, vote by vote."""
    for login in ("chair", "db1", "db2", "db3"):
        await c.call("POST", "/attendance", login, {"status": "hall"}, 200)
    poll = await open_poll(c, secret=True)
    seen: list[dict[str, Any]] = []
    for login, choice in ORDER:
        ws = await c.ws(login)
        assert (await vote(ws, poll, choice))["status"] == "recorded"
        await ws.close()
        for watcher in ("chair", "thuky"):
            detail = await c.call("GET", f"/polls/{poll}", watcher, status=200)
            state = await c.call("GET", "", watcher, status=200)
            (listed,) = [p for p in state["polls"] if p["id"] == poll]
            seen.append({"who": watcher, "detail": detail, "listed": listed})
    return poll, seen


async def test_chair_polling_after_each_secret_vote_learns_only_the_count(
    client: Any, people: People
) -> None:
    c = await make_council(client, people)
    desk = await c.ws("thuky", f"session:{c.sid}:desk")
    poll, seen = await _secret_vote_watched(c)
    for n, view in enumerate(seen):
        voted = n // 2 + 1  # two watchers per vote
        for data in (view["detail"], view["listed"]):
            assert data["voted"] == voted, view
            assert not COUNTS & data.keys(), view
            assert "voters" not in data, view
    # apart from the count, every read is the same: nothing else changes from vote to vote
    bare = [{k: v for k, v in view["detail"].items() if k != "voted"} for view in seen]
    assert all(b == bare[0] for b in bare)
    # the desk's live events while open: the count only
    live = await next_op(desk, "vote.tally")
    assert not COUNTS & live["data"]["poll"].keys()
    await desk.close()

    result = await c.call("POST", f"/polls/{poll}/close", "thuky", None, 200)
    assert (result["yes"], result["no"], result["abstain"]) == (2, 1, 1)
    assert result["voted"] == 4 and result["members_total"] == 4 and result["present"] == 4
    assert result["passed"] is False  # 2 of 4 is not more than half of all members
    detail = await c.call("GET", f"/polls/{poll}", "db1", status=200)
    assert sorted(v["full_name"] for v in detail["voters"]) == sorted(
        f"Đại biểu {login}" for login, _choice in ORDER
    )
    assert all(v["choice"] is None for v in detail["voters"])


async def test_desk_replay_from_zero_after_close_has_no_count_per_choice(
    client: Any, people: People
) -> None:
    c = await make_council(client, people)
    poll, _seen = await _secret_vote_watched(c)
    await c.call("POST", f"/polls/{poll}/close", "thuky", None, 200)
    ws = await c.client.ws_connect("/api/v1/realtime", headers=c.h("chair"))
    await ws.send_json({"op": "subscribe", "channels": {f"session:{c.sid}:desk": 0}})
    replayed = []
    while (msg := await next_op(ws, "subscribed", "vote.tally")).get("op") != "subscribed":
        replayed.append(msg["data"]["poll"])
    await ws.close()
    assert replayed, "the desk got live counts"
    assert all(p["id"] == poll and p["status"] == "open" for p in replayed)
    assert all(not COUNTS & p.keys() for p in replayed)
    assert [p["voted"] for p in replayed] == sorted(p["voted"] for p in replayed)


async def test_database_and_audit_keep_no_link_between_member_and_choice(
    client: Any, people: People, database: Database, database_url: str
) -> None:
    c = await make_council(client, people)
    for login in ("chair", "db1", "db2", "db3"):
        await c.call("POST", "/attendance", login, {"status": "online"}, 200)
    poll = await open_poll(c, secret=True)
    for login, choice in ORDER:
        ws = await c.ws(login)
        assert (await vote(ws, poll, choice))["status"] == "recorded"
        await ws.close()

    async def stored(session: AsyncSession) -> dict[str, Any]:
        p = await session.get(Poll, poll)
        assert p is not None
        votes = (await session.execute(select(PollVote).where(PollVote.poll_id == poll))).all()
        tally = await session.execute(
            select(PollTally.choice, PollTally.count).where(PollTally.poll_id == poll)
        )
        return {
            "counts_on_poll": (p.yes, p.no, p.abstain, p.voted),
            "voted": (await counts_txn(session, [p]))[p.id],
            "opened_at": p.opened_at,
            "votes": [(v.user_id, v.choice, v.at) for (v,) in votes],
            "tally": dict(tally.all()),
        }

    during = await database.read("secret_rows", stored)
    # who voted: no choice, and one time for all (the vote's opening), so no order of casting
    assert len(during["votes"]) == 4
    assert {(choice, at) for _u, choice, at in during["votes"]} == {(None, during["opened_at"])}
    # the choices: one counter per choice, and nothing on the poll row until it closes (how
    # many voted is counted from who voted, without a choice)
    assert during["tally"] == {"yes": 2, "no": 1, "abstain": 1}
    assert during["counts_on_poll"] == (0, 0, 0, 0) and during["voted"] == Counts(voted=4)
    assert {col.name for col in PollTally.__table__.columns} == {"poll_id", "choice", "count"}
    await c.call("POST", f"/polls/{poll}/close", "thuky", None, 200)
    if database.is_sqlite:  # the log held the tally after each batch: emptied at close
        wal = Path(database_url.removeprefix("sqlite+aiosqlite:///") + "-wal")
        assert await asyncio.to_thread(os.path.getsize, wal) == 0

    async def audit(session: AsyncSession) -> list[tuple[str, dict[str, Any]]]:
        rows = await session.execute(
            select(AuditEntry.action, AuditEntry.details)
            .where(AuditEntry.target == f"poll:{poll}")
            .order_by(AuditEntry.seq)
        )
        return [(action, json.loads(details)) for action, details in rows]

    entries = await database.read("audit", audit)
    casts = [d for action, d in entries if action == "vote.cast"]
    # per batch only how many ballots it held: neither who (batch composition) nor how
    assert casts and all(d.keys() == {"ballots"} for d in casts)
    assert sum(d["ballots"] for d in casts) == 4
    # who voted, once each, in one list sorted by member
    (voters,) = [d["voters"] for action, d in entries if action == "vote.voters"]
    assert voters == sorted(set(voters)) and len(voters) == 4
    choices = {"yes", "no", "abstain"}
    for action, d in entries:
        if action != "vote.close":  # the result, published to all anyway
            assert not choices & set(json.dumps(d).replace('"', " ").split()), (action, d)


async def test_outsider_gets_the_same_404_for_any_vote_id(client: Any, people: People) -> None:
    c = await make_council(client, people)
    await c.call("POST", "/attendance", "db1", {"status": "hall"}, 200)
    closed = await open_poll(c, secret=True)
    await c.call("POST", f"/polls/{closed}/close", "thuky", None, 200)
    draft = (await c.call("POST", "/polls", "thuky", {"title": "Chưa mở"}, 201))["id"]
    opened = await open_poll(c, secret=True)
    answers: dict[str, list[Any]] = {"detail": [], "http": [], "socket": []}
    ws = await c.ws("ngoai")
    for poll in (opened, closed, draft, opened + 1000):
        answers["detail"].append(await c.call("GET", f"/polls/{poll}", "ngoai", status=404))
        answers["http"].append(
            await c.call("POST", f"/polls/{poll}/votes", "ngoai", {"choice": "yes"}, 404)
        )
        answers["socket"].append(await vote(ws, poll, "yes"))
    await ws.close()
    for kind, seen in answers.items():
        assert all(a == seen[0] for a in seen), (kind, seen)
    assert answers["socket"][0]["code"] == "votes.no_poll"
    # an invited member still hears why: the vote is not open
    assert (await c.call("POST", f"/polls/{closed}/votes", "db1", {"choice": "no"}, 409))[
        "code"
    ] == "votes.not_open"
    # and a vote of this session cannot be cast through another session's address
    other = await client.post(
        f"/api/v1/sessions/999999/polls/{opened}/votes",
        json={"choice": "yes"},
        headers=c.h("db1"),
    )
    assert other.status == 404


async def test_migration_moves_an_open_secret_vote_into_the_tally(
    client: Any, people: People, database: Database, database_url: str
) -> None:
    c = await make_council(client, people)
    for login in ("db1", "db2", "db3"):
        await c.call("POST", "/attendance", login, {"status": "hall"}, 200)
    poll = await open_poll(c, secret=True)
    for login, choice in (("db1", "yes"), ("db2", "no"), ("db3", "yes")):
        ws = await c.ws(login)
        assert (await vote(ws, poll, choice))["status"] == "recorded"
        await ws.close()
    downgrade(database_url, "0004_sessions", migration_dirs())

    async def old_rows(session: AsyncSession) -> tuple[Any, ...]:
        # as the old code left them: counts on the poll row, each voter's own time
        await session.execute(update(PollVote).where(PollVote.poll_id == poll).values(at=utcnow()))
        row = await session.execute(
            text("SELECT yes, no, abstain FROM session_polls WHERE id = :p"), {"p": poll}
        )
        return tuple(row.one())

    assert await database.write("old", old_rows) == (2, 1, 0)
    upgrade(database_url, migration_dirs())

    async def new_rows(session: AsyncSession) -> dict[str, Any]:
        p = (
            await session.execute(
                text("SELECT yes, no, abstain, voted, opened_at FROM session_polls WHERE id = :p"),
                {"p": poll},
            )
        ).one()
        tally = await session.execute(
            text("SELECT choice, count FROM session_poll_tally WHERE poll_id = :p"), {"p": poll}
        )
        times = await session.execute(
            text("SELECT COUNT(DISTINCT at) FROM session_poll_votes WHERE poll_id = :p"),
            {"p": poll},
        )
        return {
            "counts": tuple(p[:4]),
            "tally": {ch: n for ch, n in tally},
            "times": times.scalar(),
        }

    assert await database.read("new", new_rows) == {
        "counts": (0, 0, 0, 3),
        "tally": {"yes": 2, "no": 1, "abstain": 0},
        "times": 1,
    }
