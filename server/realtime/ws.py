"""``GET /api/v1/realtime``: the WebSocket endpoint and its message protocol.

The receive loop never lets a client's bad input end the connection: each malformed, forbidden or
failing message is answered with an ``error`` frame and the loop goes on (aiortc's habit: drop the
bad packet, keep the peer).  Only aiohttp itself closes the socket, for an over-size message.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from server import jsonstrict
from server.auth.principal import Principal, require_principal
from server.errors import BadRequest, LienThongError
from server.realtime.client import Client
from server.realtime.errors import BadMessage
from server.realtime.frames import json_frame
from server.realtime.hub import Hub

log = logging.getLogger(__name__)

PrincipalFromRequest = Callable[[web.Request], Principal]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Subscribe:
    """``{"op": "subscribe", "channels": {name: last seq seen | null}, "epoch"?: str}``."""

    since: dict[str, int | None]
    epoch: str | None

    @classmethod
    def parse(cls, message: Mapping[str, Any]) -> Subscribe:
        channels = message.get("channels")
        if not isinstance(channels, dict) or not channels:
            raise BadMessage(
                "'channels' must be a non-empty object {channel: last seq or null}.",
                detail_vi="Trường 'channels' phải là object {kênh: số thứ tự cuối hoặc null}.",
            )
        since: dict[str, int | None] = {}
        for name, seq in channels.items():
            if seq is not None and (isinstance(seq, bool) or not isinstance(seq, int) or seq < 0):
                raise BadMessage(
                    f"The last seq of {name!r} must be a non-negative integer or null.",
                    detail_vi=f"Số thứ tự của kênh {name!r} phải là số nguyên không âm hoặc null.",
                )
            since[name] = seq
        epoch = message.get("epoch")
        if epoch is not None and not isinstance(epoch, str):
            raise BadMessage("'epoch' must be a string.", detail_vi="'epoch' phải là chuỗi.")
        return cls(since, epoch)


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    """``{"op": "unsubscribe", "channels": [name, …]}``."""

    channels: list[str]

    @classmethod
    def parse(cls, message: Mapping[str, Any]) -> Unsubscribe:
        channels = message.get("channels")
        if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
            raise BadMessage(
                "'channels' must be a list of channel names.",
                detail_vi="Trường 'channels' phải là danh sách tên kênh.",
            )
        return cls(channels)


def _ref(message: Mapping[str, Any]) -> dict[str, Any]:
    """The client's correlation id, echoed in the reply when it is a short string or an integer."""
    ref = message.get("ref")
    if (isinstance(ref, str) and len(ref) <= 100) or (
        isinstance(ref, int) and not isinstance(ref, bool)
    ):
        return {"ref": ref}
    return {}


def error_message(exc: LienThongError, ref: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "op": "error",
        "code": exc.code,
        "detail": exc.detail,
        "detail_vi": exc.detail_vi,
        **ref,
    }


async def handle_message(hub: Hub, client: Client, text: str) -> None:
    """Parse and act on one client text frame; answer errors to the client."""
    ref: dict[str, Any] = {}
    try:
        try:
            message = jsonstrict.loads(text)
        except jsonstrict.StrictJsonError as exc:
            raise BadMessage(exc.detail, detail_vi=exc.detail_vi) from None
        if not isinstance(message, dict) or not isinstance(message.get("op"), str):
            raise BadMessage(
                'A message is a JSON object with a string "op".',
                detail_vi='Thông điệp phải là object JSON có trường "op".',
            )
        ref = _ref(message)
        op = message["op"]
        if op == "subscribe":
            sub = Subscribe.parse(message)
            seqs = await hub.subscribe(client, sub.since, sub.since, epoch=sub.epoch)
            client.push(
                json_frame({"op": "subscribed", "channels": seqs, "epoch": hub.epoch, **ref})
            )
        elif op == "unsubscribe":
            removed = hub.unsubscribe(client, Unsubscribe.parse(message).channels)
            client.push(json_frame({"op": "unsubscribed", "channels": removed, **ref}))
        elif op == "ping":
            client.push(json_frame({"op": "pong", **ref}))
        else:
            handler = hub.message_handler(op)
            if handler is None:
                raise BadMessage(
                    f"Unknown op {op!r}.",
                    detail_vi=f"Thao tác {op!r} không được hỗ trợ.",
                    code="realtime.unknown_op",
                )
            reply = await handler(client.principal, message)
            if reply is not None:
                client.push(json_frame({**reply, **ref}))
    except LienThongError as exc:
        client.push(json_frame(error_message(exc, ref)))
    except Exception:
        log.exception("realtime: handling a message from user %s failed", client.principal.user_id)
        client.push(
            json_frame(
                {
                    "op": "error",
                    "code": "internal",
                    "detail": "Internal error.",
                    "detail_vi": "Lỗi hệ thống, vui lòng thử lại.",
                    **ref,
                }
            )
        )


def make_websocket_handler(
    hub: Hub | None = None, principal_from_request: PrincipalFromRequest = require_principal
) -> Handler:
    """The handler of ``GET /api/v1/realtime``.

    ``hub`` defaults to ``request.app[HUB_KEY]``; ``principal_from_request`` must raise
    :class:`~server.errors.Unauthorized` for anonymous callers (401 before any upgrade).
    """

    async def websocket_handler(request: web.Request) -> web.StreamResponse:
        from server.realtime import HUB_KEY

        principal = principal_from_request(request)
        the_hub = hub if hub is not None else request.app[HUB_KEY]
        ws = web.WebSocketResponse(
            heartbeat=the_hub.heartbeat,
            compress=False,
            max_msg_size=the_hub.max_message_bytes,
        )
        if not ws.can_prepare(request).ok:
            raise BadRequest(
                "This endpoint speaks WebSocket only.",
                detail_vi="Địa chỉ này chỉ dùng cho WebSocket.",
                code="realtime.not_websocket",
            )
        await ws.prepare(request)
        transport = request.transport
        if transport is None:  # the peer left during the handshake
            return ws
        client = the_hub.connect(ws, transport, principal)
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await handle_message(the_hub, client, msg.data)
                elif msg.type is WSMsgType.BINARY:
                    client.push(
                        json_frame(
                            error_message(
                                BadMessage(
                                    "Send JSON text frames.",
                                    detail_vi="Hãy gửi thông điệp JSON dạng văn bản.",
                                ),
                                {},
                            )
                        )
                    )
                elif msg.type is WSMsgType.ERROR:
                    log.debug("realtime client %s: %s", client.id, ws.exception())
        finally:
            await the_hub.disconnect(client)
        return ws

    return websocket_handler


websocket_handler = make_websocket_handler()
"""The handler using ``request.app[HUB_KEY]`` and :func:`require_principal`."""
