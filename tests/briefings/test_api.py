"""Briefings over HTTP and the signaling socket: who gets in, and bad messages never kill a room."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.models import AuditEntry
from server.auth.principal import Role
from server.db import Database
from tests.conftest import AGENCY_A, AGENCY_B, People, bearer
from tests.platform.test_auth import HTML, login

Client = TestClient[Any, Any]


async def _setup(client: Client, people: People) -> dict[str, str]:
    await people.add("chutich", Role.LEADER, agency=AGENCY_A, name="Chủ tịch")
    await people.add("diemcau_b", Role.ENDPOINT, agency=AGENCY_B, name="Điểm cầu Sở Tài chính")
    await people.add("canbo", Role.OFFICIAL, agency=AGENCY_A, name="Cán bộ được mời")
    await people.add("nguoila", Role.ENDPOINT, agency=AGENCY_A, name="Không được mời")
    return {
        login: await people.token(login) for login in ("chutich", "diemcau_b", "canbo", "nguoila")
    }


async def _create(client: Client, token: str, **extra: Any) -> dict[str, Any]:
    body = {"title": "Giao ban sáng", "endpoints": [AGENCY_B], "officials": ["canbo"], **extra}
    resp = await client.post("/api/v1/briefings", json=body, headers=bearer(token))
    assert resp.status == 201, await resp.text()
    data: dict[str, Any] = await resp.json()
    return data


async def test_create_list_show_and_only_invited(client: Client, people: People) -> None:
    tokens = await _setup(client, people)
    created = await _create(client, tokens["chutich"], starts_at="2026-11-24T07:15:00+07:00")
    assert created["adhoc"] is False and created["status"] == "scheduled"
    assert created["chair"]["login"] == "chutich"
    assert {i["kind"] for i in created["invites"]} == {"endpoint", "official"}
    bid = created["id"]
    for who in ("chutich", "diemcau_b", "canbo"):
        resp = await client.get(f"/api/v1/briefings/{bid}", headers=bearer(tokens[who]))
        assert resp.status == 200, who
        listed = await client.get("/api/v1/briefings", headers=bearer(tokens[who]))
        assert [b["id"] for b in await listed.json()] == [bid]
    resp = await client.get(f"/api/v1/briefings/{bid}", headers=bearer(tokens["nguoila"]))
    assert resp.status == 403
    assert (await resp.json())["code"] == "briefing.not_invited"
    listed = await client.get("/api/v1/briefings", headers=bearer(tokens["nguoila"]))
    assert await listed.json() == []
    code = created["join_link"].rsplit("/", 1)[1]
    resp = await client.get(f"/api/v1/briefings/join/{code}", headers=bearer(tokens["canbo"]))
    assert (await resp.json())["id"] == bid
    resp = await client.get(f"/api/v1/briefings/join/{code}", headers=bearer(tokens["nguoila"]))
    assert resp.status == 403
    resp = await client.get("/api/v1/briefings/join/nope", headers=bearer(tokens["canbo"]))
    assert resp.status == 404


async def test_create_refuses_bad_input(client: Client, people: People) -> None:
    tokens = await _setup(client, people)
    bad = [
        {"title": ""},
        {"title": "x", "starts_at": "tomorrow"},
        {"title": "x", "endpoints": "000.00.11.H98"},
        {"title": "x", "endpoints": ["999.99.99.Z99"]},
        {"title": "x", "officials": ["ghost"]},
    ]
    for body in bad:
        resp = await client.post("/api/v1/briefings", json=body, headers=bearer(tokens["chutich"]))
        assert resp.status == 422, body
        assert (await resp.json())["detail_vi"]
    resp = await client.post(
        "/api/v1/briefings", json={"title": "x"}, headers=bearer(tokens["diemcau_b"])
    )
    assert resp.status == 403
    assert (await client.post("/api/v1/briefings", json={"title": "x"})).status == 401


async def _recv_until(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    while True:
        msg = await ws.receive(timeout=10)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        data: dict[str, Any] = json.loads(msg.data)
        if data["type"] == kind:
            return data


HOSTILE = [
    "not json",
    "[]",
    '{"type": 5}',
    '{"type": "nope"}',
    '{"type": "offer"}',
    '{"type": "offer", "sdp": 12}',
    '{"type": "offer", "sdp": "hello"}',
    '{"type": "offer", "sdp": "v=0\\r\\nm=audio 9 UDP/TLS/RTP/SAVPF 111\\r\\n"}',
    '{"type": "offer", "sdp": "v=0\\r\\no=- 1 1 IN IP4 0.0.0.0\\r\\ns=-\\r\\nt=0 0\\r\\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\\r\\nc=IN IP4 0.0.0.0\\r\\n"}',
    json.dumps({"type": "offer", "sdp": "v=0\r\n" + "a=x\r\n" * 17000}),
    '{"type": "hand", "raised": "yes"}',
    '{"type": "quality", "rtt_ms": -1, "loss": 0, "fps": 0}',
    '{"type": "quality", "rtt_ms": true, "loss": 0, "fps": 0}',
    '{"type": "chair", "action": "mute_all"}',
    '{"type": "chair", "action": "explode"}',
]


async def test_signaling_refuses_bad_messages_and_keeps_room(
    client: Client, people: People, database: Database
) -> None:
    tokens = await _setup(client, people)
    bid = (await _create(client, tokens["chutich"]))["id"]
    url = f"/api/v1/briefings/{bid}/signal"
    async with client.ws_connect(url, headers=bearer(tokens["chutich"])) as chair:
        welcome = await _recv_until(chair, "welcome")
        assert welcome["chair"] is True
        async with client.ws_connect(url, headers=bearer(tokens["diemcau_b"])) as hall:
            me = (await _recv_until(hall, "welcome"))["you"]
            for raw in HOSTILE:
                await hall.send_str(raw)
                error = await _recv_until(hall, "error")
                assert error["code"] and error["detail_vi"], raw
            await hall.send_bytes(b"\x00\x01")
            assert (await _recv_until(hall, "error"))["code"] == "message.binary"
            await hall.send_str('{"type": "ping"}')
            await _recv_until(hall, "pong")
            await hall.send_str('{"type": "hand", "raised": true}')
            delta = await _recv_until(chair, "delta")
            while not (delta["op"] == "update" and delta["participant"]["id"] == me):
                delta = await _recv_until(chair, "delta")
            assert delta["participant"]["hand"] is True
            await chair.send_str(json.dumps({"type": "chair", "action": "roll_call"}))
            roll = await _recv_until(chair, "roll_call")
            assert {e["id"] for e in roll["entries"]} == {welcome["you"], me}
            await chair.send_str(json.dumps({"type": "chair", "action": "mute", "target": me}))
            assert (await _recv_until(hall, "muted"))["by"] == "chair"
            await chair.send_str(json.dumps({"type": "chair", "action": "end"}))
            await _recv_until(hall, "ended")
    resp = await client.get(url, headers=bearer(tokens["canbo"]))
    assert resp.status == 409

    async def actions(session: AsyncSession) -> list[tuple[str, str]]:
        rows = await session.execute(select(AuditEntry.action, AuditEntry.actor))
        return [(a, b) for a, b in rows.all() if a.startswith("briefing.")]

    logged = await database.read("audit", actions)
    assert ("briefing.mute", "chutich") in logged and ("briefing.ended", "chutich") in logged


async def test_signaling_only_invited_and_same_origin(client: Client, people: People) -> None:
    tokens = await _setup(client, people)
    bid = (await _create(client, tokens["chutich"]))["id"]
    url = f"/api/v1/briefings/{bid}/signal"
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect(url, headers=bearer(tokens["nguoila"]))
    assert refused.value.status == 403
    with pytest.raises(aiohttp.WSServerHandshakeError) as anonymous:
        await client.ws_connect(url)
    assert anonymous.value.status == 401
    resp = await login(client, "canbo")
    assert resp.status in (302, 303)
    with pytest.raises(aiohttp.WSServerHandshakeError) as foreign:
        await client.ws_connect(url, headers={"Origin": "https://evil.example"})
    assert foreign.value.status == 403
    with pytest.raises(aiohttp.WSServerHandshakeError) as missing:
        await client.ws_connect(url)
    assert missing.value.status == 403
    origin = str(client.make_url("/")).rstrip("/")
    async with client.ws_connect(url, headers={"Origin": origin}) as ws:
        assert (await _recv_until(ws, "welcome"))["chair"] is False
    page = await client.get(f"/briefings/{bid}", headers=HTML)
    assert page.status == 200
    text = await page.text()
    assert "Tham gia" in text and "/static/briefings/room.js" in text
    assert "<script>" not in text
    listing = await client.get("/briefings", headers=HTML)
    assert "Giao ban sáng" in await listing.text()


async def test_rejoin_replaces_and_end_reaches_everyone(client: Client, people: People) -> None:
    tokens = await _setup(client, people)
    bid = (await _create(client, tokens["chutich"]))["id"]
    url = f"/api/v1/briefings/{bid}/signal"
    async with client.ws_connect(url, headers=bearer(tokens["chutich"])) as chair:
        await _recv_until(chair, "welcome")
        first = await client.ws_connect(url, headers=bearer(tokens["diemcau_b"]))
        me = (await _recv_until(first, "welcome"))["you"]
        second = await client.ws_connect(url, headers=bearer(tokens["diemcau_b"]))
        assert (await _recv_until(second, "welcome"))["you"] == me
        assert (await _recv_until(first, "replaced"))["reason"] == "rejoin"
        assert (await first.receive(timeout=10)).type == aiohttp.WSMsgType.CLOSE
        assert first.close_code == 4001
        await second.send_str('{"type": "ping"}')
        await _recv_until(second, "pong")
        await chair.send_str(json.dumps({"type": "chair", "action": "end"}))
        await _recv_until(second, "ended")
        await second.close()
