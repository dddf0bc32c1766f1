"""Test support: a real aiohttp app serving the realtime endpoint, a test-only auth middleware."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient

from server.auth.principal import PRINCIPAL_KEY, Principal, Role
from server.config import RealtimeConfig
from server.errors import LienThongError
from server.realtime import (
    HUB_KEY,
    REALTIME_PATH,
    Hub,
    make_websocket_handler,
    own_agency_channel,
    own_user_channel,
    setup_realtime,
)

AGENCY_A = "000.00.00.H30"
AGENCY_B = "000.00.01.H30"


def make_principal(user_id: int, agency: str = AGENCY_A) -> Principal:
    return Principal(
        user_id=user_id,
        login=f"user{user_id}",
        full_name=f"Người dùng {user_id}",
        agency_id=1 if agency == AGENCY_A else 2,
        agency_code=agency,
        roles=frozenset({Role.MEMBER}),
        via="session",
        session_id=user_id,
    )


@web.middleware
async def test_auth(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """``X-Test-User: <id>[@<agency code>]`` stands in for the platform's session middleware."""
    header = request.headers.get("X-Test-User")
    if header:
        user, _, agency = header.partition("@")
        request[PRINCIPAL_KEY] = make_principal(int(user), agency or AGENCY_A)
    try:
        return await handler(request)
    except LienThongError as exc:  # the platform's problem middleware, in miniature
        return web.json_response(exc.to_problem(), status=exc.status)


def build_app(hub: Hub | None = None, config: RealtimeConfig | None = None) -> web.Application:
    app = web.Application(middlewares=[test_auth])
    if hub is None:
        setup_realtime(app, config or RealtimeConfig())
    else:
        hub.add_channel_rule("user:", own_user_channel)
        hub.add_channel_rule("agency:", own_agency_channel)
        app[HUB_KEY] = hub
        app.cleanup_ctx.append(hub.cleanup_ctx)
        app.router.add_get(REALTIME_PATH, make_websocket_handler(hub))
    return app


AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]


def service_reachable(port: int, what: str) -> None:
    """Skip when the service is absent on a developer machine; fail on CI, where it must run."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
    except OSError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{what} at 127.0.0.1:{port} is required on CI but not reachable")
        pytest.skip(f"{what} not reachable at 127.0.0.1:{port}")


Client = TestClient[Any, Any]


async def connect(client: Client, user: int = 1, agency: str = AGENCY_A) -> Any:
    return await client.ws_connect(REALTIME_PATH, headers={"X-Test-User": f"{user}@{agency}"})


async def recv(ws: Any, wait: float = 2.0) -> dict[str, Any]:
    msg = await ws.receive(timeout=wait)
    assert msg.type is WSMsgType.TEXT, msg
    value: dict[str, Any] = json.loads(msg.data)
    return value


async def subscribe(ws: Any, channels: dict[str, int | None], **extra: Any) -> dict[str, Any]:
    """Send a subscribe; return the ``subscribed`` or ``error`` reply (skipping events)."""
    await ws.send_json({"op": "subscribe", "channels": channels, **extra})
    while True:
        reply = await recv(ws)
        if reply.get("op") in ("subscribed", "error"):
            return reply


def hub_of(client: Client) -> Hub:
    """The hub of the app behind a test client."""
    app = client.app
    assert app is not None
    hub: Hub = app[HUB_KEY]
    return hub
