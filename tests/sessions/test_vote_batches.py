"""One batch holding ballots of several votes (sittings voting at once): the polls locked in one
statement, one check query for every (poll, voter) pair, one insert; each ballot its own outcome,
each vote counted once, audits per vote as before (named: who and how; secret: how many)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meetings.sessions.counts import Counts, counts_txn
from meetings.sessions.models import Poll, PollTally, PollVote
from meetings.sessions.polls import Ballot, BallotOutcome, cast_batch_txn
from meetings.sessions.rules import Choice
from meetings.sessions.service import SERVICE_KEY
from server.audit.models import AuditEntry
from server.db import Database
from tests.conftest import People
from tests.sessions.helpers import Client, Council, make_council
from tests.sessions.test_scale import get_state


async def test_a_batch_across_votes_counts_each_ballot_once(client: Client, people: People) -> None:
    c = await make_council(client, people)
    svc = client.app[SERVICE_KEY]
    ids: dict[str, int] = {}
    for login in ("db1", "db2", "db3", "chair", "khach"):
        ids[login] = json.loads((await get_state(c, login))[2])["me"]["user_id"]
    # a second session (the same people): one vote open in each, as in two sittings
    other = await _second_session(c)
    polls = {}
    for name, secret, council in (("named", False, c), ("secret", True, other)):
        body = {"title": name, "item_id": council.item, "secret": secret}
        polls[name] = (await council.call("POST", "/polls", "thuky", body, 201))["id"]
        await council.call("POST", f"/polls/{polls[name]}/open", "thuky", None, 200)
    named, secret = polls["named"], polls["secret"]
    ballots = [
        Ballot(secret, ids["db2"], Choice.NO),
        Ballot(named, ids["db1"], Choice.YES),
        Ballot(named, ids["db2"], Choice.NO),
        Ballot(secret, ids["db1"], Choice.YES),
        Ballot(named, ids["db1"], Choice.YES),  # the same again: counted once
        Ballot(named, ids["db3"], Choice.ABSTAIN, c.sid + 1000),  # another session's URL
        Ballot(named, ids["db3"], Choice.NO),  # not checked in at the named vote's sitting
        Ballot(secret, ids["chair"], Choice.YES),  # not checked in
        Ballot(secret, ids["khach"], Choice.YES),  # a guest
        Ballot(10**9, ids["db3"], Choice.YES),  # no such vote
        Ballot(secret, ids["db3"], Choice.ABSTAIN),
    ]

    async def run(session: AsyncSession) -> tuple[list[BallotOutcome], list[int]]:
        outcomes, touched = await cast_batch_txn(session, ballots)
        return outcomes, sorted(p.id for p in touched)

    outcomes, touched = await svc.write("test_batch", run)
    assert touched == sorted((named, secret))
    assert [(o.status, o.code) for o in outcomes] == [
        ("recorded", ""),
        ("recorded", ""),
        ("recorded", ""),
        ("recorded", ""),
        ("already", ""),
        ("refused", "votes.no_poll"),
        ("refused", "votes.not_present"),
        ("refused", "votes.not_present"),
        ("refused", "votes.not_member"),
        ("refused", "votes.no_poll"),
        ("recorded", ""),
    ]
    # the same batch again: every recorded ballot is "already", nothing counted twice
    again, touched = await svc.write("test_batch", run)
    assert [o.status for o in again][:5] == ["already"] * 5 and touched == []

    async def stored(session: AsyncSession) -> dict[str, Any]:
        rows = (await session.execute(select(PollVote.poll_id, PollVote.user_id))).all()
        got = {p.id: p for p in await session.scalars(select(Poll))}
        tally = dict(
            (
                await session.execute(
                    select(PollTally.choice, PollTally.count).where(PollTally.poll_id == secret)
                )
            ).all()
        )
        audits = [
            (e.target, json.loads(e.details))
            for e in await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "vote.cast").order_by(AuditEntry.id)
            )
        ]
        live = await counts_txn(session, list(got.values()))
        return {"rows": sorted(rows), "live": live, "tally": tally, "audits": audits}

    found = await svc.read("test_stored", stored)
    assert found["rows"] == sorted(
        [(named, ids["db1"]), (named, ids["db2"])]
        + [(secret, ids[x]) for x in ("db1", "db2", "db3")]
    )
    # counted from who voted (no counter on the vote's row while it is open)
    assert found["live"][named] == Counts(voted=2, yes=1, no=1, abstain=0)
    assert found["live"][secret] == Counts(voted=3)  # secret: the choices in the tally until close
    assert found["tally"] == {"yes": 1, "no": 1, "abstain": 1}
    assert found["audits"] == [
        (
            f"poll:{named}",
            {
                "voters": sorted([ids["db1"], ids["db2"]]),
                "choices": {str(ids["db1"]): "yes", str(ids["db2"]): "no"},
            },
        ),
        (f"poll:{secret}", {"ballots": 3}),
    ]


async def _second_session(c: Council) -> Council:
    resp = await c.client.post(
        "/api/v1/sessions",
        json={"title": "Kỳ họp chuyên đề", "place": "Hội trường", "starts_on": "2026-12-02"},
        headers=c.h("thuky"),
    )
    assert resp.status == 201, await resp.text()
    other = Council(c.client, (await resp.json())["id"], 0, 0, c.tokens)
    for login in ("db1", "db2", "db3", "chair"):
        await other.call("POST", "/invitations", "thuky", {"login": login, "role": "member"}, 201)
    await other.call("POST", "/invitations", "thuky", {"login": "khach", "role": "guest"}, 201)
    other.sitting = (await other.call("POST", "/sittings", "thuky", {"title": "Phiên 1"}, 201))[
        "id"
    ]
    await other.call("POST", f"/sittings/{other.sitting}/start", "thuky", None, 200)
    other.item = (await other.call("POST", "/agenda", "thuky", {"title": "Nội dung"}, 201))["id"]
    await other.call("PUT", "/current", "thuky", {"item_id": other.item}, 200)
    for login in ("db1", "db2"):
        await c.call("POST", "/attendance", login, {"status": "hall"}, 200)
    for login in ("db1", "db2", "db3"):
        await other.call("POST", "/attendance", login, {"status": "hall"}, 200)
    return other


async def test_a_batch_writes_no_vote_row_and_close_waits_for_it(
    client: Client, people: People, database: Database
) -> None:
    """Batches of two processes never wait for each other on a vote's row (issue 15: they
    lined up behind each other's row locks): a batch writes no poll row, holds it only
    ``FOR SHARE``, and closing the vote (``FOR UPDATE``) waits for it, then counts it."""
    c = await make_council(client, people)
    ids = {x: json.loads((await get_state(c, x))[2])["me"]["user_id"] for x in ("db1", "db2")}
    for login in ids:
        await c.call("POST", "/attendance", login, {"status": "hall"}, 200)
    poll = (await c.call("POST", "/polls", "thuky", {"title": "Thông qua"}, 201))["id"]
    await c.call("POST", f"/polls/{poll}/open", "thuky", None, 200)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    maker = async_sessionmaker(database.engine, expire_on_commit=False)
    async with maker() as held:
        event.listen(database.engine.sync_engine, "before_cursor_execute", seen)
        try:
            (outcome,), _ = await cast_batch_txn(held, [Ballot(poll, ids["db1"], Choice.YES)])
        finally:
            event.remove(database.engine.sync_engine, "before_cursor_execute", seen)
        assert outcome.status == "recorded"
        assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE SESSION_POLLS")]
        if not database.is_sqlite:  # the batch is still open: its lock on the vote is shared
            async with maker() as other, other.begin():
                share = select(Poll.id).where(Poll.id == poll)
                await other.execute(share.with_for_update(read=True, nowait=True))
            async with maker() as other, other.begin():
                with pytest.raises(DBAPIError):  # lock_not_available: a close would wait
                    await other.execute(share.with_for_update(nowait=True))
        await held.commit()
    await c.call("POST", f"/polls/{poll}/votes", "db2", {"choice": "no"}, 200)
    result = await c.call("POST", f"/polls/{poll}/close", "thuky", None, 200)
    assert (result["voted"], result["yes"], result["no"], result["abstain"]) == (2, 1, 1, 0)
