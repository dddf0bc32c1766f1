"""Browser-like endpoints of the as-deployed briefing bench (:mod:`bench.briefing_app`).

Each endpoint does what ``web/static/briefings/room.js`` does: with its session cookie it loads the
room page and the briefing's state (``GET /briefings/{id}``, ``GET /api/v1/briefings/{id}``), opens
the signaling WebSocket with the same-origin ``Origin`` and its ``?device=`` id, offers one peer
connection (the chair: its clip sendonly; everyone: 5 audio and 5 video recvonly slots, the
browser's shape), applies the answer, sends a quality report every 2 s and a ping every 15 s, and
rejoins with a fresh offer when the socket drops.  RTP is counted in the ICE datagram callback as
:class:`bench.briefing.Subscriber` does (no decryption, no decode); the signaling bytes the socket
receives are counted too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.briefing import Subscriber

AUDIO_SLOTS = VIDEO_SLOTS = 5
REJOIN_DELAY = 0.3


class Endpoint:
    """One endpoint (điểm cầu) or the chair, as the browser client drives the app."""

    def __init__(
        self,
        name: str,
        base: str,
        http: aiohttp.ClientSession,
        bid: int,
        headers: dict[str, str],
        clip: Path | None = None,
    ) -> None:
        self.name, self.base, self.http, self.bid = name, base, http, bid
        self.headers = headers
        self.clip = clip
        self.sub = Subscriber(name)
        self.player: Any = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.bytes = 0
        """Signaling bytes received (text frames)."""
        self.frames = 0
        self.reconnects = 0
        self.errors: list[str] = []
        self.started: float | None = None
        self.answered: float | None = None
        self.marks: dict[str, float] = {}
        """Seconds from the start of the (first) join to each step: page, socket, offer."""
        """When the (first) answer came: the signaling part of the join is over."""
        self._answer: asyncio.Future[str] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.closing = False
        """Set when the bench ends the room: a dropped socket is not rejoined."""
        self._chatting = False

    async def join(self) -> None:
        """Load the page and its state, open the socket, offer, apply the answer."""
        self.started = self.started or time.monotonic()
        for path in (f"/briefings/{self.bid}", f"/api/v1/briefings/{self.bid}"):
            accept = "text/html" if path.startswith("/briefings") else "application/json"
            async with self.http.get(
                self.base + path, headers={**self.headers, "Accept": accept}
            ) as resp:
                await resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"{self.name}: {path} answered {resp.status}")
        self._mark("page")
        self.ws = await self.http.ws_connect(
            f"{self.base}/api/v1/briefings/{self.bid}/signal?device={self.name}",
            headers={**self.headers, "Origin": self.base},
            compress=0,
            heartbeat=None,
            max_msg_size=0,
        )
        self._mark("socket")
        self._answer = asyncio.get_running_loop().create_future()
        self._tasks.append(asyncio.ensure_future(self._listen(self.ws)))
        await self._negotiate()
        if not self._chatting:
            self._chatting = True
            self._tasks.append(asyncio.ensure_future(self._chatter()))

    async def _negotiate(self) -> None:
        from aiortc import RTCSessionDescription
        from aiortc.contrib.media import MediaPlayer

        pc = self.sub.pc
        if self.clip is not None:
            self.player = MediaPlayer(str(self.clip), decode=False)
            pc.addTransceiver(self.player.audio, direction="sendonly")
            pc.addTransceiver(self.player.video, direction="sendonly")
        for _ in range(AUDIO_SLOTS):
            pc.addTransceiver("audio", direction="recvonly")
        for _ in range(VIDEO_SLOTS):
            pc.addTransceiver("video", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        assert self.ws is not None and self._answer is not None
        self._mark("offer")
        await self.ws.send_str(json.dumps({"type": "offer", "sdp": pc.localDescription.sdp}))
        sdp = await asyncio.wait_for(self._answer, 60)
        self.answered = self.answered or time.monotonic()
        await pc.setRemoteDescription(RTCSessionDescription(sdp, "answer"))
        self.sub.hook()

    def _mark(self, step: str) -> None:
        if self.started is not None:
            self.marks.setdefault(step, time.monotonic() - self.started)

    async def _listen(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                continue
            self.bytes += len(msg.data.encode())
            self.frames += 1
            frame = json.loads(msg.data)
            kind = frame.get("type")
            if kind == "answer" and self._answer is not None and not self._answer.done():
                self._answer.set_result(frame["sdp"])
            elif kind == "error":
                self.errors.append(str(frame.get("code")))
        if not self.closing and ws is self.ws:
            self._tasks.append(asyncio.ensure_future(self._rejoin()))

    async def _rejoin(self) -> None:
        """The socket dropped: a new peer connection and a new offer, as ``room.js`` does."""
        self.reconnects += 1
        counts = self.sub.counts
        with contextlib.suppress(Exception):
            await self.sub.pc.close()
        self._stop_player()
        await asyncio.sleep(REJOIN_DELAY)
        self.sub = Subscriber(self.name)
        self.sub.counts = counts
        try:
            await self.join()
        except (aiohttp.ClientError, OSError, RuntimeError, TimeoutError) as exc:
            self.errors.append(f"rejoin: {exc!r}")

    async def _chatter(self) -> None:
        """What the browser client sends by itself: quality every 2 s, ping every 15 s."""
        rounds = 0
        while not self.closing:
            await asyncio.sleep(2)
            rounds += 1
            quality = {"type": "quality", "rtt_ms": 2.0 + rounds % 3, "loss": 0.0, "fps": 30.0}
            with contextlib.suppress(Exception):
                if self.ws is not None and not self.ws.closed:
                    await self.ws.send_str(json.dumps(quality))
                    if rounds % 8 == 0:
                        await self.ws.send_str('{"type": "ping"}')

    async def send(self, **frame: Any) -> None:
        if self.ws is not None:
            await self.ws.send_str(json.dumps(frame))

    def _stop_player(self) -> None:
        if self.player is not None:
            for track in (self.player.audio, self.player.video):
                if track is not None:
                    track.stop()
            self.player = None

    async def close(self) -> None:
        self.closing = True
        for task in self._tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.sub.pc.close(), 10)
        self._stop_player()
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()


async def create_briefing(
    base: str, http: aiohttp.ClientSession, chair_token: str, title: str, agency: str
) -> int:
    resp = await http.post(
        f"{base}/api/v1/briefings",
        json={"title": title, "endpoints": [agency]},
        headers={"Authorization": f"Bearer {chair_token}"},
    )
    if resp.status != 201:
        raise RuntimeError(f"creating the briefing: {resp.status} {await resp.text()}")
    return int((await resp.json())["id"])


def cookie(value: str) -> dict[str, str]:
    return {"Cookie": f"lt_session={value}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
