"""Votes over the WebSocket: who may vote, once each, counted once under load, secret stays secret."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meetings.sessions.models import PollVote
from meetings.sessions.rules import Quorum, Threshold, passes
from meetings.sessions.service import SERVICE_KEY
from server.audit.models import AuditEntry
from server.db import Database
from tests.conftest import People
from tests.sessions.helpers import Council, make_council, next_op


def test_thresholds_and_quorum() -> None:
    assert passes(Threshold.MAJORITY_ALL, 31, 60) and not passes(Threshold.MAJORITY_ALL, 30, 60)
    assert passes(Threshold.TWO_THIRDS_ALL, 40, 60)
    assert not passes(Threshold.TWO_THIRDS_ALL, 39, 60)
    assert not passes(Threshold.MAJORITY_ALL, 0, 0)
    assert Quorum(60, 30, 10, 5).reached and not Quorum(60, 30, 9, 5).reached


async def vote(ws: Any, poll: int, choice: str, ref: str = "r") -> dict[str, Any]:
    await ws.send_json({"op": "vote", "poll": poll, "choice": choice, "ref": ref})
    return await next_op(ws, "vote.ack", "error")


async def open_poll(c: Council, *, secret: bool = False, threshold: str = "majority_all") -> int:
    body = {"title": "Thông qua Nghị quyết", "item_id": c.item, "secret": secret}
    poll = await c.call("POST", "/polls", "thuky", {**body, "threshold": threshold}, 201)
    await c.call("POST", f"/polls/{poll['id']}/open", "thuky", None, 200)
    return int(poll["id"])


async def test_named_vote_rules_events_and_result(
    client: Any, people: People, database: Database
) -> None:
    c = await make_council(client, people)
    for login in ("chair", "db1", "db2"):
        await c.call("POST", "/attendance", login, {"status": "hall"}, 200)
    await c.call("POST", "/attendance", "khach", {"status": "hall"}, 200)
    wall = await c.ws("thuky", f"session:{c.sid}", f"session:{c.sid}:desk")
    tablet = await c.ws("db1", f"session:{c.sid}")
    poll = await open_poll(c)
    opened = await next_op(tablet, "vote.opened")
    assert opened["data"]["poll"]["id"] == poll and "yes" not in opened["data"]["poll"]

    ack = await vote(tablet, poll, "yes", "v1")
    assert ack == {"op": "vote.ack", "poll": poll, "status": "recorded", "ref": "v1"}
    assert (await vote(tablet, poll, "yes"))["status"] == "already"
    assert (await vote(tablet, poll, "no"))["code"] == "votes.changed"
    tally = await next_op(wall, "vote.tally")
    assert tally["data"]["poll"]["yes"] == 1
    for login, choice in (("chair", "yes"), ("db2", "abstain")):
        ws = await c.ws(login)
        assert (await vote(ws, poll, choice))["status"] == "recorded"
        await ws.close()
    refusals = {}
    for login in ("khach", "db3", "ngoai"):
        ws = await c.ws(login)
        refusals[login] = (await vote(ws, poll, "no"))["code"]
        await ws.close()
    assert refusals == {
        "khach": "votes.not_member",
        "db3": "votes.not_present",
        "ngoai": "votes.no_poll",  # an outsider learns nothing of the vote, not even its state
    }
    bad = await c.ws("db2")
    await bad.send_json({"op": "vote", "poll": poll, "choice": "maybe"})
    assert (await next_op(bad, "error"))["code"] == "realtime.bad_message"
    await bad.close()
    # the live count is for the desk only
    live = await c.call("GET", f"/polls/{poll}", "db1", status=200)
    assert "yes" not in live and "voters" not in live
    assert (await c.call("GET", f"/polls/{poll}", "chair", status=200))["voted"] == 3

    await c.call("POST", f"/polls/{poll}/close", "db1", None, 403)
    result = await c.call("POST", f"/polls/{poll}/close", "thuky", None, 200)
    assert (result["yes"], result["no"], result["abstain"]) == (2, 0, 1)
    assert result["members_total"] == 4 and result["present"] == 3
    assert result["passed"] is False  # 2 of 4 is not more than half of all members
    closed = await next_op(tablet, "vote.closed")
    assert closed["data"]["poll"]["passed"] is False and closed["data"]["poll"]["yes"] == 2
    assert (await vote(tablet, poll, "yes"))["code"] == "votes.not_open"
    detail = await c.call("GET", f"/polls/{poll}", "db3", status=200)
    assert {v["full_name"]: v["choice"] for v in detail["voters"]} == {
        "Đại biểu db1": "yes",
        "Đại biểu chair": "yes",
        "Đại biểu db2": "abstain",
    }

    async def audit(session: AsyncSession) -> list[AuditEntry]:
        return list(
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "vote.cast"))
        )

    entries = await database.read("audit", audit)
    voters = sorted(v for e in entries for v in json.loads(e.details)["voters"])
    assert len(voters) == 3
    await tablet.close()
    await wall.close()


async def test_secret_vote_keeps_no_link_between_member_and_choice(
    client: Any, people: People, database: Database
) -> None:
    c = await make_council(client, people)
    for login in ("chair", "db1", "db2", "db3"):
        await c.call("POST", "/attendance", login, {"status": "online"}, 200)
    poll = await open_poll(c, secret=True, threshold="two_thirds_all")
    for login, choice in (("chair", "yes"), ("db1", "yes"), ("db2", "yes"), ("db3", "no")):
        ws = await c.ws(login)
        assert (await vote(ws, poll, choice))["status"] == "recorded"
        assert (await vote(ws, poll, "abstain"))["status"] == "already"
        await ws.close()
    result = await c.call("POST", f"/polls/{poll}/close", "thuky", None, 200)
    assert (result["yes"], result["no"], result["passed"]) == (3, 1, True)

    async def rows(session: AsyncSession) -> list[tuple[int, str | None]]:
        found = await session.execute(select(PollVote.user_id, PollVote.choice))
        return [(u, ch) for u, ch in found]

    stored = await database.read("votes", rows)
    assert len(stored) == 4 and all(choice is None for _u, choice in stored)
    detail = await c.call("GET", f"/polls/{poll}", "db1", status=200)
    assert all(v["choice"] is None for v in detail["voters"])

    async def audit(session: AsyncSession) -> list[str]:
        return list(
            await session.scalars(
                select(AuditEntry.details).where(AuditEntry.action == "vote.cast")
            )
        )

    assert all("choices" not in json.loads(d) for d in await database.read("audit", audit))


async def test_many_tablets_voting_at_once_each_counted_once(
    client: Any, people: People, database: Database
) -> None:
    c = await make_council(client, people, members=20)
    logins = [f"m{i:04d}" for i in range(20)]
    for login in logins:
        await c.call("POST", "/attendance", "thuky", {"status": "hall", "login": login}, 200)
    poll = await open_poll(c)
    sockets = [await c.ws(login) for login in logins]

    async def press(ws: Any, n: int) -> list[str]:
        # every tablet sends its vote three times, as a tablet retrying after a drop would
        for k in range(3):
            await ws.send_json({"op": "vote", "poll": poll, "choice": "yes", "ref": f"{n}.{k}"})
        return [(await next_op(ws, "vote.ack", "error"))["status"] for _ in range(3)]

    answers = await asyncio.gather(*(press(ws, n) for n, ws in enumerate(sockets)))
    assert all(sorted(a) == ["already", "already", "recorded"] for a in answers)
    # 60 submissions took far fewer transactions than votes
    assert client.app[SERVICE_KEY].batcher.batches < 50
    result = await c.call("POST", f"/polls/{poll}/close", "thuky", None, 200)
    assert result["yes"] == 20 and result["voted"] == 20 and result["passed"] is True
    # a tablet that dropped during the vote reconnects and catches up on the result
    again = await c.client.ws_connect("/api/v1/realtime", headers=c.h("m0001"))
    await again.send_json({"op": "subscribe", "channels": {f"session:{c.sid}": 0}})
    closed = await next_op(again, "vote.closed")
    assert closed["data"]["poll"]["yes"] == 20
    await again.close()
    for ws in sockets:
        await ws.close()


async def test_tablet_dropping_mid_vote_is_counted_once(client: Any, people: People) -> None:
    c = await make_council(client, people)
    await c.call("POST", "/attendance", "db1", {"status": "hall"}, 200)
    poll = await open_poll(c)
    first = await c.ws("db1")
    await first.send_json({"op": "vote", "poll": poll, "choice": "no", "ref": "a"})
    await first.close()  # the tablet drops before its ack arrives
    again = await c.ws("db1")
    reply = await vote(again, poll, "no", "b")
    assert reply["status"] in ("recorded", "already")
    assert (await vote(again, poll, "no", "c"))["status"] == "already"
    await again.close()
    result = await c.call("POST", f"/polls/{poll}/close", "thuky", None, 200)
    assert (result["no"], result["voted"]) == (1, 1)
