"""Strict JSON in and out, bounded integers in paths and queries (issue 9, findings 6, 10, 11).

Each input here used to reach the database or the event loop: NaN stored and echoed as invalid
JSON, RecursionError on deep nesting, OverflowError (SQLite) or "out of int32 range" (PostgreSQL)
on big ids — all 500s; a ``text/plain`` body was read as JSON.
"""

import json
import math
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from meetings.briefings.messages import BadMessage, parse_client_message
from server import jsonstrict
from server.auth.principal import Role
from server.http.jsonio import json_ok
from server.http.security import CSP
from tests.conftest import People, bearer
from tests.sessions.helpers import make_council, next_op

DEEP = "[" * 1000 + "]" * 1000
BAD_BODIES = {
    "nan": '{"item_id": NaN}',
    "infinity": '{"item_id": Infinity}',
    "minus_infinity": '{"item_id": -Infinity}',
    "overflowing_float": '{"item_id": 1e400}',
    "deep": '{"item_id": 1, "x": ' + DEEP + "}",
    "int_past_64_bits": '{"item_id": 18446744073709551616}',
    "huge_int": '{"item_id": ' + "9" * 5000 + "}",
}


@pytest.mark.parametrize("text", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_strict_loader_refuses(text: str) -> None:
    with pytest.raises(jsonstrict.StrictJsonError) as info:
        jsonstrict.loads(text)
    assert info.value.detail_vi


def test_strict_loader_accepts_ordinary_json() -> None:
    text = '{"a": [1, -2, 3.5, "[[[[{{{{", {"b": null}], "c": 9223372036854775807}'
    assert jsonstrict.loads(text) == json.loads(text)
    nested = "[" * 32 + "]" * 32
    assert jsonstrict.loads(nested) == json.loads(nested)
    with pytest.raises(jsonstrict.StrictJsonError):
        jsonstrict.loads("[" * 33 + "]" * 33)


def test_json_out_never_writes_nan() -> None:
    body = json_ok({"rtt": math.nan, "ok": [math.inf, 1.5]}).body
    assert isinstance(body, bytes)
    assert json.loads(body) == {"rtt": None, "ok": [None, 1.5]}


@pytest.mark.parametrize("text", BAD_BODIES.values(), ids=BAD_BODIES.keys())
async def test_api_refuses_non_strict_json_with_400(
    client: TestClient[Any, Any], people: People, text: str
) -> None:
    c = await make_council(client, people)
    resp = await client.put(
        f"/api/v1/sessions/{c.sid}/current",
        data=text,
        headers={**c.h("thuky"), "Content-Type": "application/json"},
    )
    assert resp.status == 400, await resp.text()
    assert resp.content_type == "application/problem+json"
    assert (await resp.json())["code"] == "bad_json"


async def test_ids_past_int32_are_refused_not_500(
    client: TestClient[Any, Any], people: People
) -> None:
    c = await make_council(client, people)
    # within 64 bits, so the JSON reader lets it through; PostgreSQL ids are 32-bit
    resp = await client.put(
        f"/api/v1/sessions/{c.sid}/current", json={"item_id": 2**40}, headers=c.h("thuky")
    )
    assert resp.status in (400, 404), await resp.text()
    assert resp.content_type == "application/problem+json"


@pytest.mark.parametrize("value", ["99999999999999999999", "3000000000", "0"])
async def test_path_ids_out_of_range_are_404(
    client: TestClient[Any, Any], people: People, value: str
) -> None:
    c = await make_council(client, people)
    for path in (
        f"/api/v1/sessions/{value}",
        f"/api/v1/sessions/{c.sid}/polls/{value}",
        f"/api/v1/sessions/{c.sid}/papers/{value}",
        f"/api/v1/tokens/{value}",
        f"/api/v1/briefings/{value}",
    ):
        method = client.delete if path.startswith("/api/v1/tokens") else client.get
        resp = await method(path, headers=c.h("thuky"))
        assert resp.status == 404, (path, await resp.text())
        assert resp.content_type == "application/problem+json"
    page = await client.get(f"/sessions/{value}", headers={**c.h("thuky"), "Accept": "text/html"})
    assert page.status == 404


async def test_documents_offset_out_of_range_is_400(
    client: TestClient[Any, Any], people: People
) -> None:
    await people.add("vanthu", Role.CLERK)
    clerk = bearer(await people.token("vanthu"))
    ok = await client.get("/api/v1/documents/inbox?offset=0", headers=clerk)
    assert ok.status == 200, await ok.text()
    for offset in ("99999999999999999999", "-1", "abc"):
        resp = await client.get(f"/api/v1/documents/inbox?offset={offset}", headers=clerk)
        assert resp.status == 400, (offset, await resp.text())
        assert resp.content_type == "application/problem+json"


@pytest.mark.parametrize(
    ("data", "ctype"),
    [
        ('{"name": "x"}', "text/plain"),
        ("name=x", "application/x-www-form-urlencoded"),
        ('{"name": "x"}', None),
    ],
)
async def test_json_endpoints_refuse_other_content_types_with_415(
    client: TestClient[Any, Any], people: People, data: str, ctype: str | None
) -> None:
    await people.add("vanthu", Role.CLERK)
    headers = bearer(await people.token("vanthu"))
    if ctype is not None:
        headers["Content-Type"] = ctype
    resp = await client.post("/api/v1/tokens", data=data.encode(), headers=headers)
    assert resp.status == 415, await resp.text()
    assert resp.content_type == "application/problem+json"
    assert (await resp.json())["code"] == "unsupported_media_type"
    structured = await client.post(
        "/api/v1/tokens",
        data=b'{"name": "x"}',
        headers={**headers, "Content-Type": "application/merge-patch+json"},
    )
    assert structured.status == 201


async def test_realtime_frames_use_the_strict_loader(
    client: TestClient[Any, Any], people: People
) -> None:
    await people.add("daibieu", Role.MEMBER)
    ws = await client.ws_connect("/api/v1/realtime", headers=bearer(await people.token("daibieu")))
    for text in (
        '{"op": "ping", "ref": 1, "x": ' + DEEP + "}",
        '{"op": "ping", "ref": NaN}',
        '{"op": "ping", "ref": 18446744073709551616}',
    ):
        await ws.send_str(text)
        reply = await next_op(ws, "error", "pong")
        assert reply["op"] == "error" and reply["code"] == "realtime.bad_message", reply
    await ws.send_str('{"op": "ping", "ref": 7}')  # the socket is still open and answers
    assert (await next_op(ws, "pong", "error")) == {"op": "pong", "ref": 7}
    await ws.close()


@pytest.mark.parametrize(
    "text",
    [
        '{"type": "quality", "rtt_ms": NaN, "loss": 0, "fps": 25}',
        '{"type": "quality", "rtt_ms": 1e400, "loss": 0, "fps": 25}',
        '{"type": "ping", "x": ' + DEEP + "}",
    ],
)
def test_briefing_signaling_uses_the_strict_loader(text: str) -> None:
    with pytest.raises(BadMessage):
        parse_client_message(text)


def test_csp_lets_pages_connect_to_their_own_origin_only() -> None:
    connect = next(d for d in CSP.split(";") if d.strip().startswith("connect-src")).split()
    assert "ws:" not in connect and "wss:" not in connect
    assert "'self'" in connect
