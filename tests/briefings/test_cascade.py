"""Province → district cascade through the real signaling sockets, with real aiortc peers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from server.auth.principal import Role
from tests.briefings.sfu_support import Endpoint, frames_reach
from tests.conftest import AGENCY_A, AGENCY_B, People, bearer

pytestmark = pytest.mark.slow
Client = TestClient[Any, Any]


@pytest.fixture
def upstream_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    """This test's server is its own upstream node (any port of 127.0.0.1)."""
    monkeypatch.setenv("LIENTHONG_BRIEFINGS_UPSTREAM_NODES", "http://127.0.0.1")


async def _until(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    while True:
        msg = await ws.receive(timeout=15)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        data: dict[str, Any] = json.loads(msg.data)
        if data["type"] == kind:
            return data


async def _join(client: Client, bid: int, token: str, ep: Endpoint) -> Any:
    ws = await client.ws_connect(f"/api/v1/briefings/{bid}/signal", headers=bearer(token))
    await _until(ws, "welcome")
    await ws.send_str(json.dumps({"type": "offer", "sdp": await ep.offer()}))
    await ep.accept((await _until(ws, "answer"))["sdp"])
    return ws


async def test_district_relays_the_province_hall(
    upstream_nodes: None, loopback_ice: None, client: Client, people: People, clip: Path
) -> None:
    await people.add("chutich", Role.LEADER, agency=AGENCY_A)
    await people.add("chutich_huyen", Role.LEADER, agency=AGENCY_B)
    await people.add("hall_b", Role.ENDPOINT, agency=AGENCY_B)
    await people.add("xa1", Role.OFFICIAL, agency=AGENCY_B)
    tokens = {u: await people.token(u) for u in ("chutich", "chutich_huyen", "hall_b", "xa1")}

    async def create(token: str, body: dict[str, Any]) -> int:
        resp = await client.post("/api/v1/briefings", json=body, headers=bearer(token))
        assert resp.status == 201
        return int((await resp.json())["id"])

    province = await create(tokens["chutich"], {"title": "Tỉnh", "endpoints": [AGENCY_B]})
    district = await create(tokens["chutich_huyen"], {"title": "Huyện", "officials": ["xa1"]})
    chair = Endpoint("chair", clip=clip, audio_slots=0, video_slots=0)
    commune = Endpoint("xa1")
    sockets = []
    try:
        sockets.append(await _join(client, province, tokens["chutich"], chair))
        cascade = f"/api/v1/briefings/{district}/cascade"
        bad = await client.post(
            cascade,
            json={
                "upstream": "http://10.0.0.9:80",
                "briefing": province,
                "token": tokens["hall_b"],
            },
            headers=bearer(tokens["chutich_huyen"]),
        )
        assert bad.status == 422  # only configured upstream nodes (no SSRF through the API)
        upstream = str(client.make_url("/")).rstrip("/")
        body = {"upstream": upstream, "briefing": province, "token": tokens["hall_b"]}
        refused = await client.post(cascade, json=body, headers=bearer(tokens["xa1"]))
        assert refused.status == 403  # the chair links, not an invited official
        linked = await client.post(cascade, json=body, headers=bearer(tokens["chutich_huyen"]))
        assert linked.status == 202
        sockets.append(await _join(client, district, tokens["xa1"], commune))
        wanted = {commune.mids("video")[0]: 90, commune.mids("audio")[0]: 100}
        await frames_reach(commune, wanted, "the province's chair through the district")
        show = await client.get(f"/api/v1/briefings/{province}", headers=bearer(tokens["chutich"]))
        live = (await show.json())["live"]
        assert len(live) == 2  # the chair and the one district link
    finally:
        for ws in sockets:
            await ws.close()
        await chair.close()
        await commune.close()
