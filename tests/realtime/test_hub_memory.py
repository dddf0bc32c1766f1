"""The hub over real WebSockets, in-process backend."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import WSCloseCode, WSMsgType, web

from server.auth.principal import Principal
from server.config import RealtimeConfig
from server.realtime import HUB_KEY, REALTIME_PATH, Hub, metrics
from server.realtime.errors import InvalidEvent
from tests.realtime.rt_support import (
    AGENCY_A,
    AGENCY_B,
    AiohttpClient,
    Client,
    build_app,
    connect,
    hub_of,
    recv,
    subscribe,
)

CHAN = f"agency:{AGENCY_A}"


async def test_anonymous_gets_401_before_upgrade(rt_client: Client) -> None:
    resp = await rt_client.get(REALTIME_PATH)
    assert resp.status == 401
    body = await resp.json()
    assert body["code"] == "unauthorized"


async def test_plain_http_get_is_refused(rt_client: Client) -> None:
    resp = await rt_client.get(REALTIME_PATH, headers={"X-Test-User": "1"})
    assert resp.status == 400
    assert (await resp.json())["code"] == "realtime.not_websocket"


async def test_publish_reaches_subscribers_in_order(rt_client: Client) -> None:
    hub = hub_of(rt_client)
    a, b = await connect(rt_client, 1), await connect(rt_client, 2)
    for ws in (a, b):
        reply = await subscribe(ws, {CHAN: None})
        assert reply == {"op": "subscribed", "channels": {CHAN: 0}, "epoch": hub.epoch}
    seqs = [
        await hub.publish(CHAN, "doc.received", {"n": i, "title": "Công văn"}) for i in range(5)
    ]
    assert seqs == [1, 2, 3, 4, 5]
    for ws in (a, b):
        got = [await recv(ws) for _ in range(5)]
        assert got == [
            {
                "channel": CHAN,
                "seq": i + 1,
                "type": "doc.received",
                "data": {"n": i, "title": "Công văn"},
            }
            for i in range(5)
        ]
    # A channel nobody listens to is numbered separately; subscribers of CHAN see nothing of it.
    assert await hub.publish(f"agency:{AGENCY_B}", "x", {}) == 1
    await a.send_json({"op": "ping", "ref": 7})
    assert await recv(a) == {"op": "pong", "ref": 7}


async def test_catch_up_after_reconnect(rt_client: Client) -> None:
    hub = hub_of(rt_client)
    ws = await connect(rt_client)
    await subscribe(ws, {CHAN: None})
    await hub.publish(CHAN, "t", {"n": 1})
    first = await recv(ws)
    await ws.close()
    for n in (2, 3, 4):
        await hub.publish(CHAN, "t", {"n": n})

    ws = await connect(rt_client)
    await ws.send_json({"op": "subscribe", "channels": {CHAN: first["seq"]}, "epoch": hub.epoch})
    replayed = [await recv(ws) for _ in range(3)]
    assert [e["seq"] for e in replayed] == [2, 3, 4]
    assert [e["data"]["n"] for e in replayed] == [2, 3, 4]
    assert await recv(ws) == {"op": "subscribed", "channels": {CHAN: 4}, "epoch": hub.epoch}
    await hub.publish(CHAN, "t", {"n": 5})
    assert (await recv(ws))["seq"] == 5
    # Up to date: nothing replayed, nothing to resync.
    ws2 = await connect(rt_client)
    assert (await subscribe(ws2, {CHAN: 5}))["channels"] == {CHAN: 5}


async def test_resync_when_history_is_too_short(aiohttp_client: AiohttpClient) -> None:
    client = await aiohttp_client(build_app(config=RealtimeConfig(history=16, client_queue=256)))
    hub = hub_of(client)
    for n in range(20):
        await hub.publish(CHAN, "t", {"n": n})
    ws = await connect(client)
    await ws.send_json({"op": "subscribe", "channels": {CHAN: 2}})
    assert await recv(ws) == {
        "channel": CHAN,
        "seq": 20,
        "type": "resync",
        "data": {"reason": "history"},
    }
    assert (await recv(ws))["op"] == "subscribed"
    # Within history: replayed (4 is the oldest missing event still kept, 5..20 are kept).
    ws = await connect(client)
    await ws.send_json({"op": "subscribe", "channels": {CHAN: 4}})
    assert [(await recv(ws))["seq"] for _ in range(16)] == list(range(5, 21))


async def test_resync_on_other_epoch_or_future_seq(rt_client: Client) -> None:
    hub = hub_of(rt_client)
    await hub.publish(CHAN, "t", {})
    ws = await connect(rt_client)
    await ws.send_json({"op": "subscribe", "channels": {CHAN: 1}, "epoch": "before-restart"})
    assert (await recv(ws))["data"] == {"reason": "epoch"}
    ws = await connect(rt_client)
    await ws.send_json({"op": "subscribe", "channels": {CHAN: 9}})
    assert (await recv(ws))["data"] == {"reason": "history"}


async def test_deny_by_default_and_agency_rule(rt_client: Client) -> None:
    ws = await connect(rt_client, 1, AGENCY_A)
    for channel in ("session:1", f"agency:{AGENCY_B}", "user:2"):
        reply = await subscribe(ws, {channel: None})
        assert reply["op"] == "error"
        assert reply["code"] == "realtime.forbidden"
        assert reply["detail_vi"]
    # All or nothing: an allowed channel next to a forbidden one is not subscribed either.
    reply = await subscribe(ws, {CHAN: None, f"agency:{AGENCY_B}": None})
    assert reply["code"] == "realtime.forbidden"
    await hub_of(rt_client).publish(CHAN, "t", {})
    assert (await subscribe(ws, {"user:1": None}))["op"] == "subscribed"
    assert (await subscribe(ws, {CHAN: None}))["channels"] == {CHAN: 1}


async def test_custom_rule_and_failing_rule(rt_client: Client) -> None:
    hub = hub_of(rt_client)

    async def members_only(principal: Principal, channel: str) -> bool:
        return principal.user_id == 1

    async def broken(principal: Principal, channel: str) -> bool:
        raise RuntimeError("database down")

    hub.add_channel_rule("session:", members_only)
    hub.add_channel_rule("briefing:", broken)
    one, two = await connect(rt_client, 1), await connect(rt_client, 2)
    assert (await subscribe(one, {"session:7": None}))["op"] == "subscribed"
    assert (await subscribe(two, {"session:7": None}))["code"] == "realtime.forbidden"
    assert (await subscribe(one, {"briefing:1": None}))["code"] == "realtime.forbidden"


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "realtime.bad_message"),
        ("[1, 2]", "realtime.bad_message"),
        ('{"op": 3}', "realtime.bad_message"),
        ('{"op": "subscribe"}', "realtime.bad_message"),
        ('{"op": "subscribe", "channels": {"user:1": -1}}', "realtime.bad_message"),
        ('{"op": "subscribe", "channels": {"user:1": true}}', "realtime.bad_message"),
        ('{"op": "subscribe", "channels": {"user:1": "3"}}', "realtime.bad_message"),
        ('{"op": "subscribe", "channels": {"bad channel": null}}', "realtime.bad_message"),
        ('{"op": "subscribe", "channels": {"user:1": null}, "epoch": 5}', "realtime.bad_message"),
        ('{"op": "unsubscribe", "channels": "user:1"}', "realtime.bad_message"),
        ('{"op": "dance"}', "realtime.unknown_op"),
    ],
)
async def test_malformed_messages_get_an_error_and_the_socket_stays(
    rt_client: Client, frame: str, code: str
) -> None:
    ws = await connect(rt_client)
    await ws.send_str(frame)
    reply = await recv(ws)
    assert reply["op"] == "error"
    assert reply["code"] == code
    assert reply["detail"] and reply["detail_vi"]
    await ws.send_bytes(b"\x00\x01")
    assert (await recv(ws))["code"] == "realtime.bad_message"
    assert (await subscribe(ws, {"user:1": None}))["op"] == "subscribed"


async def test_unsubscribe(rt_client: Client) -> None:
    hub = hub_of(rt_client)
    ws = await connect(rt_client)
    await subscribe(ws, {CHAN: None, "user:1": None})
    await ws.send_json({"op": "unsubscribe", "channels": [CHAN, "user:99"]})
    assert await recv(ws) == {"op": "unsubscribed", "channels": [CHAN]}
    await hub.publish(CHAN, "t", {})
    await hub.publish("user:1", "t", {"only": "this"})
    assert (await recv(ws))["channel"] == "user:1"


async def test_message_handler_round_trip(rt_client: Client) -> None:
    hub = hub_of(rt_client)
    seen: list[tuple[int, str]] = []

    async def vote(principal: Principal, message: Any) -> dict[str, Any]:
        choice = message.get("choice")
        if choice not in ("yes", "no", "abstain"):
            from server.errors import ValidationFailed

            raise ValidationFailed("Bad choice.", detail_vi="Lựa chọn không hợp lệ.")
        seen.append((principal.user_id, choice))
        return {"op": "vote.ack", "poll": message.get("poll"), "choice": choice}

    async def crash(principal: Principal, message: Any) -> None:
        raise KeyError("boom")

    hub.add_message_handler("vote", vote)
    hub.add_message_handler("crash", crash)
    with pytest.raises(ValueError, match="reserved"):
        hub.add_message_handler("subscribe", vote)

    ws = await connect(rt_client, 5)
    await ws.send_json({"op": "vote", "poll": 3, "choice": "yes", "ref": "v1"})
    assert await recv(ws) == {"op": "vote.ack", "poll": 3, "choice": "yes", "ref": "v1"}
    await ws.send_json({"op": "vote", "poll": 3, "choice": "maybe", "ref": 2})
    reply = await recv(ws)
    assert (reply["op"], reply["code"], reply["ref"]) == ("error", "validation_failed", 2)
    await ws.send_json({"op": "crash"})
    assert (await recv(ws))["code"] == "internal"
    assert seen == [(5, "yes")]


async def test_publish_checks_its_arguments(rt_client: Client) -> None:
    hub = hub_of(rt_client)
    with pytest.raises(InvalidEvent):
        await hub.publish("bad channel", "t", {})
    with pytest.raises(InvalidEvent):
        await hub.publish(CHAN, "resync", {})
    with pytest.raises(InvalidEvent):
        await hub.publish(CHAN, "t", {"x": object()})
    with pytest.raises(InvalidEvent):
        await hub.publish(CHAN, "t", {"x": float("nan")})
    assert hub.current_seq(CHAN) == 0


async def test_slow_client_is_dropped_while_others_keep_receiving(
    aiohttp_client: AiohttpClient,
) -> None:
    config = RealtimeConfig(client_queue=32, history=64)
    hub = Hub(config, send_buffer_bytes=16 * 1024)
    client = await aiohttp_client(build_app(hub))
    dropped_before = metrics.CLIENTS_DROPPED._value.get()

    slow = await connect(client, 9)
    await subscribe(slow, {CHAN: None})
    sock = slow.get_extra_info("socket")
    sock.setsockopt(__import__("socket").SOL_SOCKET, __import__("socket").SO_RCVBUF, 4096)

    healthy = [await connect(client, i) for i in range(1, 4)]
    counts = [0] * len(healthy)
    for ws in healthy:
        await subscribe(ws, {CHAN: None})

    progress = asyncio.Event()

    async def read(i: int, ws: Any) -> None:
        expected = 1
        while expected <= total:
            event = await recv(ws, wait=5)
            assert event["seq"] == expected
            expected += 1
            counts[i] = event["seq"]
            progress.set()

    total = 400
    readers = [asyncio.create_task(read(i, ws)) for i, ws in enumerate(healthy)]
    blob = "đ" * 8000  # ~16 kB per event
    for n in range(1, total + 1):
        await hub.publish(CHAN, "page", {"n": n, "blob": blob})
        if n % 8 == 0:  # publish at the pace healthy tablets read, as real sessions do
            async with asyncio.timeout(5):
                while min(counts) < n - 8:
                    progress.clear()
                    await progress.wait()
    await asyncio.gather(*readers)

    assert len(hub.clients) == len(healthy)
    assert metrics.CLIENTS_DROPPED._value.get() == dropped_before + 1
    # The dropped socket was aborted: reading it ends without a closing handshake.
    with pytest.raises((asyncio.TimeoutError, AssertionError, ConnectionError)):
        while True:
            await recv(slow, wait=2)


async def test_setup_realtime_wires_the_app() -> None:
    app = web.Application()
    from server.realtime import setup_realtime

    hub = setup_realtime(app, RealtimeConfig())
    assert app[HUB_KEY] is hub
    assert hub.cleanup_ctx in app.cleanup_ctx
    assert any(r.resource and r.resource.canonical == REALTIME_PATH for r in app.router.routes())


async def test_heartbeat_closes_a_peer_that_does_not_answer(aiohttp_client: AiohttpClient) -> None:
    hub = Hub(RealtimeConfig(), heartbeat=0.2)
    client = await aiohttp_client(build_app(hub))
    ws = await client.ws_connect(REALTIME_PATH, headers={"X-Test-User": "1"}, autoping=False)
    assert (await ws.receive(timeout=2)).type is WSMsgType.PING
    async with asyncio.timeout(3):
        msg = await ws.receive()
        while msg.type is WSMsgType.PING:  # we never pong
            msg = await ws.receive()
    assert msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED)
    for _ in range(100):
        if not hub.clients:
            break
        await asyncio.sleep(0.01)
    assert not hub.clients


async def test_shutdown_says_going_away(rt_client: Client) -> None:
    ws = await connect(rt_client)
    await subscribe(ws, {"user:1": None})
    closing = asyncio.create_task(ws.receive(timeout=5))
    await rt_client.server.close()
    msg = await closing
    assert msg.type is WSMsgType.CLOSE
    assert msg.data == WSCloseCode.GOING_AWAY


async def test_many_clients_get_one_event_each(rt_client: Client) -> None:
    hub = hub_of(rt_client)
    # The test client's connector allows 100 connections; the fan-out benchmark goes to 1,000.
    sockets = [await connect(rt_client, i) for i in range(1, 91)]
    for ws in sockets:
        await ws.send_json({"op": "subscribe", "channels": {CHAN: None}})
    for ws in sockets:
        assert (await recv(ws))["op"] == "subscribed"
    assert await hub.publish(CHAN, "agenda.changed", {"item": 3}) == 1
    events = await asyncio.gather(*(recv(ws) for ws in sockets))
    assert {e["seq"] for e in events} == {1}
    assert len(hub.clients) == 90


def test_build_backend_follows_the_config(tmp_path: Any) -> None:
    from server.config import load_config
    from server.realtime import build_backend
    from server.realtime.backends.memory import MemoryBackend
    from server.realtime.backends.pg import PostgresBackend
    from server.realtime.backends.redis_pubsub import RedisBackend

    base = {"LIENTHONG_DATA_DIR": str(tmp_path)}
    assert isinstance(build_backend(load_config(env=base)), MemoryBackend)
    pg = {
        **base,
        "LIENTHONG_REALTIME": "postgres",
        "LIENTHONG_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1/x",
    }
    assert isinstance(build_backend(load_config(env=pg)), PostgresBackend)
    redis = {**base, "LIENTHONG_REALTIME": "redis"}
    assert isinstance(build_backend(load_config(env=redis)), RedisBackend)


async def test_drop_user_closes_all_their_sockets(rt_client: Client) -> None:
    hub = hub_of(rt_client)
    mine = [await connect(rt_client, 4), await connect(rt_client, 4)]
    other = await connect(rt_client, 5)
    for ws in (*mine, other):
        await ws.send_json({"op": "ping"})
        await recv(ws)
    assert hub.drop_user(4) == 2
    for ws in mine:
        assert (await ws.receive(timeout=2)).type in (WSMsgType.CLOSED, WSMsgType.ERROR)
    await other.send_json({"op": "ping"})
    assert (await recv(other))["op"] == "pong"
    assert {c.principal.user_id for c in hub.clients} == {5}
