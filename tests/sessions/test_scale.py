"""Province scale: a member's page state that does not grow with the session, ETag/304, the
desk's paged member list, and many sittings at once whose events stay in their own sitting."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import ClientWebSocketResponse

from meetings.sessions.service import SERVICE_KEY
from server.auth.principal import Role
from tests.conftest import People, bearer
from tests.sessions.helpers import Client, Council, make_council, next_op


async def get_state(c: Council, login: str, etag: str | None = None) -> tuple[int, str, bytes]:
    headers = c.h(login)
    if etag is not None:
        headers["If-None-Match"] = etag
    resp = await c.client.get(f"/api/v1/sessions/{c.sid}", headers=headers)
    return resp.status, resp.headers.get("ETag", ""), await resp.read()


def without_counts(state: dict[str, Any]) -> dict[str, Any]:
    """The state but the quorum's numbers (which must change with the number invited)."""
    return {**state, "quorum": sorted(state["quorum"])}


async def test_state_does_not_grow_with_members_and_members_are_paged(
    client: Client, people: People
) -> None:
    c = await make_council(client, people)
    small = {who: json.loads((await get_state(c, who))[2]) for who in ("db1", "thuky", "khach")}
    assert "invitations" not in small["db1"] and "attendance" not in small["thuky"]

    logins = [f"x{i:03d}" for i in range(200)]
    for login in logins:
        await people.add(login, Role.MEMBER, name=f"Đại biểu {login}")
    await c.call("POST", "/invitations", "thuky", {"logins": logins, "role": "member"}, 201)
    for login in logins[:30]:
        await c.call("POST", "/attendance", "thuky", {"login": login, "status": "hall"}, 200)

    for who in ("db1", "thuky", "khach"):
        status, _etag, body = await get_state(c, who)
        big = json.loads(body)
        assert status == 200
        # the same content but the quorum's numbers: nothing per member, whoever is invited
        assert without_counts(big) == without_counts(small[who])
        assert big["quorum"]["members_total"] == 204 and big["quorum"]["hall"] == 30
        assert not any(login in body.decode() for login in logins)

    pages: list[dict[str, Any]] = []
    for page in (1, 2, 3, 4, 5):
        got = await c.call("GET", f"/members?page={page}&per_page=50", "thuky", status=200)
        assert got["total"] == 206 and got["per_page"] == 50
        pages.extend(got["members"])
    assert len(pages) == 206 and len({m["user_id"] for m in pages}) == 206
    marked = {m["login"]: m["attendance"] for m in pages}
    assert marked["x000"] == {"status": "hall", "reason": ""} and marked["x100"] is None
    assert (await c.call("GET", "/members", "chair", status=200))["total"] == 206
    for who in ("db1", "khach"):
        assert (await c.call("GET", "/members", who, status=403))["code"] == (
            "sessions.not_secretariat"
        )
    assert (await c.call("GET", "/members", "ngoai", status=404))["code"] == "sessions.not_found"
    await c.call("GET", "/members?per_page=501", "thuky", status=400)


async def test_etag_304_and_changes(client: Client, people: People) -> None:
    c = await make_council(client, people)
    svc = client.app[SERVICE_KEY]
    status, e1, body = await get_state(c, "db1")
    assert status == 200 and e1.startswith('"') and body
    status, again, body = await get_state(c, "db1", e1)
    assert (status, again, body) == (304, e1, b"")
    # a tag names one person's answer: another member's body is not "unchanged" for it
    status, e2, _ = await get_state(c, "db2", e1)
    assert status == 200 and e2 != e1

    # one build per change, shared by every member (the desk has its own view)
    await c.call("POST", "/agenda", "thuky", {"title": "Tờ trình số 2"}, 201)
    before = svc.state_cache.builds
    answers = await asyncio.gather(*(get_state(c, who, e1) for who in ("db1", "db2", "db3") * 4))
    assert svc.state_cache.builds == before + 1
    assert all(
        status == 200 and b"T\xe1\xbb\x9d tr\xc3\xacnh s\xe1\xbb\x91 2" in body
        for status, _e, body in answers
    )
    e1 = next(
        e
        for (_s, e, _b), who in zip(answers, ("db1", "db2", "db3") * 4, strict=True)
        if who == "db1"
    )
    e2 = next(
        e
        for (_s, e, _b), who in zip(answers, ("db1", "db2", "db3") * 4, strict=True)
        if who == "db2"
    )
    assert (await get_state(c, "db1", e1))[0] == 304

    # a member's own vote changes their answer only; the count stays off the members' view
    for login in ("db1", "db2"):
        await c.call("POST", "/attendance", login, {"status": "hall"}, 200)
    e1 = (await get_state(c, "db1"))[1]
    e2 = (await get_state(c, "db2"))[1]
    poll = await c.call("POST", "/polls", "thuky", {"title": "Thông qua", "item_id": c.item}, 201)
    await c.call("POST", f"/polls/{poll['id']}/open", "thuky", None, 200)
    e1 = (await get_state(c, "db1"))[1]
    e2 = (await get_state(c, "db2"))[1]
    desk = (await get_state(c, "thuky"))[1]
    ws = await c.ws("db1")
    await ws.send_json({"op": "vote", "poll": poll["id"], "choice": "yes", "ref": "v"})
    assert (await next_op(ws, "vote.ack"))["status"] == "recorded"
    await ws.close()
    status, new1, body = await get_state(c, "db1", e1)
    assert status == 200 and new1 != e1 and json.loads(body)["me"]["voted"] == [poll["id"]]
    assert (await get_state(c, "db2", e2))[0] == 304
    # the desk's live count moved (its view is keyed by the desk channel's events too)
    for _ in range(100):
        status, _tag, body = await get_state(c, "thuky", desk)
        if status == 200:
            break
        await asyncio.sleep(0.02)
    assert status == 200
    (listed,) = [p for p in json.loads(body)["polls"] if p["id"] == poll["id"]]
    assert listed["yes"] == 1


async def _sitting(client: Client, tokens: dict[str, str], n: int, members: list[str]) -> int:
    """A session of ``members`` with a started sitting and a current item; returns its id."""
    sec = bearer(tokens["thuky"])

    async def call(method: str, path: str, body: Any = None, who: str = "thuky") -> Any:
        headers = sec if who == "thuky" else bearer(tokens[who])
        resp = await client.request(method, path, json=body, headers=headers)
        assert resp.status in (200, 201), await resp.text()
        return await resp.json()

    sid = (await call("POST", "/api/v1/sessions", {"title": f"HĐND xã số {n}", "place": "UBND"}))[
        "id"
    ]
    base = f"/api/v1/sessions/{sid}"
    await call("POST", f"{base}/invitations", {"logins": members, "role": "member"})
    sitting = (await call("POST", f"{base}/sittings", {"title": "Phiên 1"}))["id"]
    await call("POST", f"{base}/sittings/{sitting}/start")
    item = (await call("POST", f"{base}/agenda", {"title": f"Nghị quyết xã {n}"}))["id"]
    await call("PUT", f"{base}/current", {"item_id": item})
    for m in members:
        await call("POST", f"{base}/attendance", {"status": "hall"}, who=m)
    return int(sid)


async def _run_vote(
    client: Client, tokens: dict[str, str], sid: int, tablets: dict[str, ClientWebSocketResponse]
) -> int:
    """Open a vote, every tablet votes yes over its socket, close it; returns the poll id."""
    sec = bearer(tokens["thuky"])
    base = f"/api/v1/sessions/{sid}"
    resp = await client.post(f"{base}/polls", json={"title": f"Biểu quyết {sid}"}, headers=sec)
    poll = (await resp.json())["id"]
    assert (await client.post(f"{base}/polls/{poll}/open", headers=sec)).status == 200
    for ws in tablets.values():
        opened = await next_op(ws, "vote.opened")
        assert opened["data"]["poll"]["id"] == poll
        await ws.send_json({"op": "vote", "poll": poll, "choice": "yes", "ref": "v"})
    for ws in tablets.values():
        assert (await next_op(ws, "vote.ack"))["status"] == "recorded"
    assert (await client.post(f"{base}/polls/{poll}/close", headers=sec)).status == 200
    return int(poll)


async def test_many_sittings_events_stay_in_their_sitting(client: Client, people: People) -> None:
    sittings, per = 20, 2
    tokens = {"thuky": await people.token(await people.add("thuky", Role.SECRETARIAT))}
    groups = [[f"s{s:02d}m{i}" for i in range(per)] for s in range(sittings)]
    for login in (m for g in groups for m in g):
        await people.add(login, Role.MEMBER)
        tokens[login] = await people.token(login)
    sids = [await _sitting(client, tokens, n, g) for n, g in enumerate(groups)]

    tablets: list[dict[str, ClientWebSocketResponse]] = []
    for sid, group in zip(sids, groups, strict=True):
        own: dict[str, ClientWebSocketResponse] = {}
        for login in group:
            ws = await client.ws_connect("/api/v1/realtime", headers=bearer(tokens[login]))
            other = sids[(sids.index(sid) + 1) % sittings]
            await ws.send_json({"op": "subscribe", "channels": {f"session:{other}": None}})
            assert (await next_op(ws, "error"))["code"] == "realtime.forbidden"
            await ws.send_json({"op": "subscribe", "channels": {f"session:{sid}": None}})
            assert list((await next_op(ws, "subscribed"))["channels"]) == [f"session:{sid}"]
            own[login] = ws
        tablets.append(own)

    # one sitting opened, voted and closed on its own, then all the others at once
    first = await _run_vote(client, tokens, sids[0], tablets[0])
    polls = [
        first,
        *await asyncio.gather(
            *(
                _run_vote(client, tokens, sid, t)
                for sid, t in zip(sids[1:], tablets[1:], strict=True)
            )
        ),
    ]
    for sid, poll, own in zip(sids, polls, tablets, strict=True):
        for ws in own.values():
            closed = await next_op(ws, "vote.closed")
            assert closed["data"]["poll"]["id"] == poll
            assert closed["data"]["poll"]["yes"] == per and closed["data"]["poll"]["passed"]
            # nothing else is waiting on this socket: no event of another sitting ever came
            await ws.send_json({"op": "ping"})
            while True:
                msg = json.loads((await ws.receive(timeout=5)).data)
                if msg.get("op") == "pong":
                    break
                assert msg.get("channel") == f"session:{sid}", msg
            await ws.close()


async def test_vote_batches_are_bounded(client: Client, people: People) -> None:
    from meetings.sessions.polls import Ballot
    from meetings.sessions.rules import Choice

    batcher = client.app[SERVICE_KEY].batcher
    before = batcher.batches
    outcomes = await asyncio.gather(
        *(batcher.cast(Ballot(10**9, uid, Choice.YES, None)) for uid in range(1, 301))
    )
    assert {o.code for o in outcomes} == {"votes.no_poll"}  # each caller has its own answer
    assert batcher.largest <= batcher.max_batch == 64
    assert batcher.batches - before >= 300 // 64
