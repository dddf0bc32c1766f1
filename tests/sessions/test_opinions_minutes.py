"""Opinion collection between sittings (lấy ý kiến), reminders, conclusions and the minutes PDF."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

from pypdf import PdfReader
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from meetings.sessions.actions.votes import close_expired_opinions
from meetings.sessions.models import Poll
from meetings.sessions.service import SERVICE_KEY
from server.db import Database
from server.realtime import user_channel
from tests.conftest import People
from tests.sessions.helpers import make_council, next_op
from tests.sessions.test_votes import open_poll, vote


async def test_opinion_collection_deadline_and_reminders(
    client: Any, people: People, database: Database
) -> None:
    c = await make_council(client, people)
    soon = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    past = await c.call(
        "POST", "/polls", "thuky", {"title": "x", "deadline": "2020-01-01T00:00:00+07:00"}, 422
    )
    assert past["field"] == "deadline"
    poll = await c.call(
        "POST", "/polls", "thuky", {"title": "Lấy ý kiến dự thảo", "deadline": soon}, 201
    )
    assert poll["kind"] == "opinion"
    await c.call("POST", f"/polls/{poll['id']}/open", "thuky", None, 200)
    # nobody checked in: between sittings every invited member answers
    ws = await c.ws("db1")
    assert (await vote(ws, poll["id"], "no"))["status"] == "recorded"
    guest = await c.ws("khach")
    assert (await vote(guest, poll["id"], "yes"))["code"] == "votes.not_member"
    await guest.close()
    db2 = await c.ws("db2")
    state = await c.call("GET", "", "db2", status=200)
    await db2.send_json(
        {"op": "subscribe", "channels": {user_channel(state["me"]["user_id"]): None}}
    )
    await next_op(db2, "subscribed")
    reminded = await c.call("POST", f"/polls/{poll['id']}/remind", "thuky", None, 200)
    assert reminded == {"reminded": 3}  # chair, db2, db3
    assert (await next_op(db2, "vote.reminder"))["data"]["poll"]["id"] == poll["id"]

    # the deadline passes: votes are refused, the sweeper closes it and publishes the result
    async def expire(session: AsyncSession) -> None:
        await session.execute(
            update(Poll).where(Poll.id == poll["id"]).values(deadline=datetime.now(UTC))
        )

    await database.write("expire", expire)
    assert (await vote(db2, poll["id"], "yes"))["code"] == "votes.not_open"
    assert await close_expired_opinions(client.app[SERVICE_KEY]) == 1
    detail = await c.call("GET", f"/polls/{poll['id']}", "db3", status=200)
    assert detail["status"] == "closed" and detail["no"] == 1 and detail["present"] == 1
    await ws.close()
    await db2.close()


async def test_conclusions_and_minutes_pdf(client: Any, people: People) -> None:
    c = await make_council(client, people)
    for login in ("chair", "db1", "db2"):
        await c.call("POST", "/attendance", login, {"status": "hall"}, 200)
    await c.call("POST", "/attendance", "db3", {"status": "absent", "reason": "Đi công tác"}, 200)
    poll = await open_poll(c, threshold="two_thirds_all")
    for login in ("chair", "db1", "db2"):
        ws = await c.ws(login)
        await vote(ws, poll, "yes")
        await ws.close()
    await c.call("POST", f"/polls/{poll}/close", "thuky", None, 200)
    await c.call("PUT", "/conclusions", "db1", {"text": "x"}, 403)
    text = "Kỳ họp thống nhất thông qua Nghị quyết về dự toán ngân sách năm 2027."
    await c.call("PUT", "/conclusions", "thuky", {"text": text}, 200)
    resp = await client.get(f"/api/v1/sessions/{c.sid}/minutes.pdf", headers=c.h("db1"))
    assert resp.status == 200 and resp.content_type == "application/pdf"
    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(await resp.read())).pages)
    flat = " ".join(pdf_text.split())
    assert "BIÊN BẢN KỲ HỌP" in flat
    assert "Vắng: Đại biểu db3 — lý do: Đi công tác" in flat
    assert "Đồng ý: 3 (75,00 %)" in flat and "THÔNG QUA." in flat
    assert "thông qua Nghị quyết về dự toán" in flat
    hidden = await client.get(f"/api/v1/sessions/{c.sid}/minutes.pdf", headers=c.h("ngoai"))
    assert hidden.status == 404
