"""A council to test with: a secretary, a chair, members, a guest and an outsider, with tokens."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient

from server.auth.principal import Role
from tests.conftest import People, bearer

Client = TestClient[Any, Any]


@dataclass
class Council:
    client: Client
    sid: int
    sitting: int
    item: int
    tokens: dict[str, str] = field(default_factory=dict)

    def h(self, login: str) -> dict[str, str]:
        return bearer(self.tokens[login])

    async def call(
        self, method: str, path: str, login: str, body: Any = None, status: int | None = None
    ) -> Any:
        resp = await self.client.request(
            method, f"/api/v1/sessions/{self.sid}{path}", json=body, headers=self.h(login)
        )
        data = await resp.json()
        if status is not None:
            assert resp.status == status, data
        return data

    async def ws(self, login: str, *channels: str) -> ClientWebSocketResponse:
        ws = await self.client.ws_connect("/api/v1/realtime", headers=self.h(login))
        if channels:
            await ws.send_json({"op": "subscribe", "channels": dict.fromkeys(channels)})
            reply = await next_op(ws, "subscribed", "error")
            assert reply["op"] == "subscribed", reply
        return ws


async def next_op(ws: ClientWebSocketResponse, *ops: str, wait: float = 5) -> dict[str, Any]:
    """The next message whose ``op`` (or event ``type``) is one of ``ops``."""
    while True:
        msg = await ws.receive(timeout=wait)
        data = json.loads(msg.data)
        if data.get("op") in ops or data.get("type") in ops:
            return data  # type: ignore[no-any-return]


MEMBERS = ("chair", "db1", "db2", "db3")


async def make_council(client: Client, people: People, *, members: int = 0) -> Council:
    """A session with a started sitting and one agenda item (current); nobody checked in yet."""
    tokens: dict[str, str] = {}
    await people.add("thuky", Role.SECRETARIAT, name="Vũ Thị Hạnh")
    extra = tuple(f"m{i:04d}" for i in range(members))
    for login in (*MEMBERS, *extra):
        await people.add(login, Role.MEMBER, name=f"Đại biểu {login}")
    await people.add("khach", Role.MEMBER, name="Khách mời")
    await people.add("ngoai", Role.MEMBER, name="Người ngoài")
    for login in ("thuky", *MEMBERS, "khach", "ngoai", *extra):
        tokens[login] = await people.token(login)
    resp = await client.post(
        "/api/v1/sessions",
        json={"title": "Kỳ họp thứ 12 HĐND tỉnh", "place": "Hội trường", "starts_on": "2026-12-01"},
        headers=bearer(tokens["thuky"]),
    )
    assert resp.status == 201, await resp.text()
    sid = (await resp.json())["id"]
    council = Council(client, sid, 0, 0, tokens)
    for login in (*MEMBERS, *extra):
        role = "chair" if login == "chair" else "member"
        await council.call("POST", "/invitations", "thuky", {"login": login, "role": role}, 201)
    await council.call("POST", "/invitations", "thuky", {"login": "khach", "role": "guest"}, 201)
    council.sitting = (
        await council.call("POST", "/sittings", "thuky", {"title": "Phiên khai mạc"}, 201)
    )["id"]
    await council.call("POST", f"/sittings/{council.sitting}/start", "thuky", None, 200)
    council.item = (
        await council.call(
            "POST", "/agenda", "thuky", {"title": "Nghị quyết về ngân sách 2027"}, 201
        )
    )["id"]
    await council.call("PUT", "/current", "thuky", {"item_id": council.item}, 200)
    return council
