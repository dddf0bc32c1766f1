"""A signaling socket as the browser client reads it: frames kept, the roster rebuilt from
the last full copy and the numbered deltas after it (tests of workers and processes)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp


class Socket:
    """One endpoint's signaling socket, keeping every frame it got."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                self.frames.append(json.loads(msg.data))

    def last(self, kind: str) -> dict[str, Any] | None:
        return next((f for f in reversed(self.frames) if f["type"] == kind), None)

    async def send(self, **frame: Any) -> None:
        await self.ws.send_str(json.dumps(frame))

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()


def you(sock: Socket) -> str:
    welcome = next(f for f in sock.frames if f["type"] == "welcome")
    return str(welcome["you"])


def roster(sock: Socket) -> dict[str, dict[str, Any]]:
    """The roster as the client sees it: the last full one, then the deltas after it."""
    at = max((i for i, f in enumerate(sock.frames) if f["type"] == "roster"), default=None)
    if at is None:
        return {}
    roster = sock.frames[at]
    out = {p["id"]: p for p in roster["participants"]}
    seq = roster["seq"]
    for f in sock.frames[at + 1 :]:
        if f["type"] != "delta" or f["seq"] <= seq:
            continue
        assert f["seq"] == seq + 1, "a gap in the roster's sequence numbers"
        seq = f["seq"]
        if f["op"] == "leave":
            out.pop(f["id"], None)
        else:
            out[f["participant"]["id"]] = f["participant"]
    return out


def spotlight(sock: Socket) -> str | None:
    """The floor as the client sees it: from the last ``roster`` or ``spotlight`` frame."""
    frame = next(f for f in reversed(sock.frames) if f["type"] in ("roster", "spotlight"))
    spotlight = frame["spotlight"] if frame["type"] == "roster" else frame["id"]
    return None if spotlight is None else str(spotlight)
