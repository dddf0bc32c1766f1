"""Sessions over the API: agenda, invitations, attendance and quorum, the speakers queue."""

from __future__ import annotations

import asyncio
from pathlib import Path

from meetings.sessions.service import SERVICE_KEY
from server.db import Database
from tests.conftest import People
from tests.sessions.helpers import MEMBERS, Client, make_council, next_op


async def test_agenda_attendance_quorum_and_who_sees_what(
    client: Client, people: People, database: Database
) -> None:
    c = await make_council(client, people)
    child = await c.call(
        "POST", "/agenda", "thuky", {"title": "Tờ trình", "parent_id": c.item}, 201
    )
    state = await c.call("GET", "", "db1", status=200)
    assert state["me"]["role"] == "member"
    assert state["agenda"][0]["children"][0]["id"] == child["id"]
    assert state["current_item_id"] == c.item
    assert state["quorum"] == {
        "members_total": 4,
        "hall": 0,
        "online": 0,
        "absent": 0,
        "present": 0,
        "reached": False,
    }
    # an outsider cannot tell the session exists; a member cannot run it
    assert (await c.call("GET", "", "ngoai"))["code"] == "sessions.not_found"
    denied = await c.call("POST", "/agenda", "db1", {"title": "x"}, 403)
    assert denied["code"] == "sessions.not_secretariat"
    listed = await (await client.get("/api/v1/sessions", headers=c.h("ngoai"))).json()
    assert listed == []

    ws = await c.ws("db3", f"session:{c.sid}")
    await c.call("POST", "/attendance", "db1", {"status": "hall"}, 200)
    event = await next_op(ws, "attendance.changed")
    assert event["data"]["quorum"]["present"] == 1
    await c.call("POST", "/attendance", "db2", {"status": "online"}, 200)
    refused = await c.call("POST", "/attendance", "chair", {"status": "absent"}, 422)
    assert refused["field"] == "reason"
    await c.call("POST", "/attendance", "chair", {"status": "absent", "reason": "Ốm"}, 200)
    marked = await c.call(
        "POST", "/attendance", "thuky", {"status": "hall", "login": "db3"}, status=200
    )
    assert marked["quorum"] == {
        "members_total": 4,
        "hall": 2,
        "online": 1,
        "absent": 1,
        "present": 3,
        "reached": True,
    }
    # a guest checks in but does not count towards the quorum
    guest = await c.call("POST", "/attendance", "khach", {"status": "hall"}, 200)
    assert guest["quorum"]["present"] == 3
    # the agenda change reaches the tablet
    await c.call("PUT", "/current", "thuky", {"item_id": child["id"]}, 200)
    current = await next_op(ws, "agenda.current")
    assert current["data"]["item_id"] == child["id"] and current["data"]["title"] == "Tờ trình"
    await ws.close()
    # an outsider may not listen to the session's channel
    ws = await c.ws("ngoai")
    await ws.send_json({"op": "subscribe", "channels": {f"session:{c.sid}": None}})
    assert (await next_op(ws, "error"))["code"] == "realtime.forbidden"
    await ws.send_json({"op": "subscribe", "channels": {f"session:{c.sid}:desk": None}})
    assert (await next_op(ws, "error"))["code"] == "realtime.forbidden"
    await ws.close()
    ws = await c.ws("db1")
    await ws.send_json({"op": "subscribe", "channels": {f"session:{c.sid}:desk": None}})
    assert (await next_op(ws, "error"))["code"] == "realtime.forbidden"
    await ws.close()


async def test_speakers_queue_order_and_timer(client: Client, people: People) -> None:
    c = await make_council(client, people)
    path = f"/items/{c.item}/speakers"
    a = (await c.call("POST", path, "db1", {"kind": "for"}, 201))["queue"][-1]["id"]
    again = await c.call("POST", path, "db1", {"kind": "question"}, 409)
    assert again["code"] == "sessions.state"
    b = (await c.call("POST", path, "db2", {"kind": "against"}, 201))["queue"][-1]["id"]
    q = (await c.call("POST", path, "db3", {"kind": "question"}, 201))["queue"][-1]["id"]
    assert (await c.call("POST", path, "khach", {"kind": "for"}, 409))["code"] == (
        "speakers.not_member"
    )
    assert (await c.call("POST", path, "db1", {"kind": "loud"}, 422))["field"] == "kind"
    await c.call("PUT", path, "db1", {"order": [q, a, b]}, 403)
    queue = (await c.call("PUT", path, "thuky", {"order": [q, a]}, 200))["queue"]
    assert [s["id"] for s in queue] == [q, a, b]
    ws = await c.ws("chair", f"session:{c.sid}")
    started = await c.call(
        "POST", f"/speakers/{q}", "thuky", {"action": "start", "limit_s": 180}, 200
    )
    assert started["speaker"]["id"] == q and started["speaker"]["limit_s"] == 180
    event = await next_op(ws, "speakers.changed")
    assert event["data"]["speaker"]["full_name"] == "Đại biểu db3"
    state = await c.call("GET", "", "db2", status=200)
    assert state["speaker"]["id"] == q and state["speaker"]["started_at"]
    # the next one starts: the first is done; a member withdraws their own request
    await c.call("POST", f"/speakers/{a}", "thuky", {"action": "start"}, 200)
    await c.call("POST", f"/speakers/{b}", "db1", {"action": "withdraw"}, 403)
    after = await c.call("POST", f"/speakers/{b}", "db2", {"action": "withdraw"}, 200)
    assert [s["id"] for s in after["queue"]] == [a]
    await ws.close()


async def test_speaking_timer_pause_resume_reset(client: Client, people: People) -> None:
    """The desk's timer control: pause keeps the time left, resume runs it, reset sets it back
    (paused); only the secretariat, only for the one speaking."""
    c = await make_council(client, people)
    path = f"/items/{c.item}/speakers"
    a = (await c.call("POST", path, "db1", {"kind": "for"}, 201))["queue"][-1]["id"]
    b = (await c.call("POST", path, "db2", {"kind": "against"}, 201))["queue"][-1]["id"]
    await c.call("POST", f"/speakers/{a}", "thuky", {"action": "pause"}, 409)  # not speaking
    await c.call("POST", f"/speakers/{a}", "thuky", {"action": "start", "limit_s": 120}, 200)
    await c.call("POST", f"/speakers/{a}", "db1", {"action": "pause"}, 403)  # not the desk
    paused = (await c.call("POST", f"/speakers/{a}", "thuky", {"action": "pause"}, 200))["speaker"]
    assert paused["paused"] is True and paused["started_at"] is None
    assert 100 <= paused["limit_s"] <= 120  # the time left, kept
    state = await c.call("GET", "", "db2", status=200)
    assert state["speaker"]["id"] == a and state["speaker"]["paused"] is True
    resumed = await c.call("POST", f"/speakers/{a}", "thuky", {"action": "resume"}, 200)
    assert resumed["speaker"]["paused"] is False and resumed["speaker"]["started_at"]
    assert resumed["speaker"]["limit_s"] == paused["limit_s"]
    reset = await c.call(
        "POST", f"/speakers/{a}", "thuky", {"action": "reset", "limit_s": 300}, 200
    )
    assert reset["speaker"]["limit_s"] == 300 and reset["speaker"]["paused"] is True
    await c.call("POST", f"/speakers/{b}", "thuky", {"action": "reset"}, 409)  # b waits


async def test_clone_session_as_template(client: Client, people: People) -> None:
    c = await make_council(client, people)
    await c.call("POST", "/agenda", "thuky", {"title": "Mục con", "parent_id": c.item}, 201)
    resp = await client.post(
        "/api/v1/sessions",
        json={"title": "Kỳ họp thứ 13", "from_session": c.sid},
        headers=c.h("thuky"),
    )
    assert resp.status == 201
    new = (await resp.json())["id"]
    state = await (await client.get(f"/api/v1/sessions/{new}", headers=c.h("db1"))).json()
    assert state["agenda"][0]["title"] == "Nghị quyết về ngân sách 2027"
    assert state["agenda"][0]["children"][0]["title"] == "Mục con"
    assert state["quorum"]["members_total"] == 4 and state["session"]["status"] == "draft"


async def test_pages_render_for_the_invited_only(client: Client, people: People) -> None:
    c = await make_council(client, people)
    for path in ("/sessions", f"/sessions/{c.sid}", f"/sessions/{c.sid}/wall"):
        resp = await client.get(path, headers={**c.h("db1"), "Accept": "text/html"})
        assert resp.status == 200, path
        text = await resp.text()
        # no inline script: module files, and the texts as a JSON data block (never executed)
        allowed = (
            '<script type="module" src="/static/sessions/',
            '<script type="application/json"',
            '<script src="/static/',
        )
        for prefix in allowed:
            text = text.replace(prefix, "")
        assert "<script" not in text
    assert "Kỳ họp thứ 12" in await (await client.get("/sessions", headers=c.h("db1"))).text()
    hidden = await client.get(f"/sessions/{c.sid}", headers={**c.h("ngoai"), "Accept": "text/html"})
    assert hidden.status == 404
    js = await client.get("/static/vendor/pdfjs/pdf.min.mjs")
    assert js.status == 200 and "javascript" in js.headers["Content-Type"]


async def test_demo_session_seeds_once(client: Client, database: Database, tmp_path: Path) -> None:
    from meetings.sessions.demo import seed_demo_session
    from server.demo import seed_demo

    await seed_demo(database)
    assert await seed_demo_session(database, tmp_path) is True
    assert await seed_demo_session(database, tmp_path) is False
    assert len(list((tmp_path / "papers").glob("*.pdf"))) == 2


async def test_channel_rule_cached_per_session_and_cleared_by_an_invitation(
    client: Client, people: People
) -> None:
    c = await make_council(client, people)
    roles = client.app[SERVICE_KEY].roles
    # a reconnect storm: many tablets subscribing at once ask the database once
    loads = roles.loads
    tablets = await asyncio.gather(*(c.ws(login, f"session:{c.sid}") for login in MEMBERS * 3))
    assert roles.loads == loads + 1
    for ws in tablets:
        await ws.close()
    # a member may not hear the desk; an outsider hears nothing, until invited
    ws = await c.ws("db1")
    await ws.send_json({"op": "subscribe", "channels": {f"session:{c.sid}:desk": None}})
    assert (await next_op(ws, "subscribed", "error"))["op"] == "error"
    await ws.close()
    outsider = await c.ws("ngoai")
    await outsider.send_json({"op": "subscribe", "channels": {f"session:{c.sid}": None}})
    assert (await next_op(outsider, "subscribed", "error"))["op"] == "error"
    await c.call("POST", "/invitations", "thuky", {"login": "ngoai", "role": "guest"}, 201)
    await outsider.send_json({"op": "subscribe", "channels": {f"session:{c.sid}": None}})
    assert (await next_op(outsider, "subscribed", "error"))["op"] == "subscribed"
    await outsider.close()
