"""One signaling socket's frames on their way out, bounded: a client that falls behind resyncs.

aiohttp's WebSocket has no queue limit of its own: ``send_str`` waits while the transport's
buffer is full, so frames for a client that stops reading would pile up in memory.  Frames
wait here instead, counted in bytes.  Over the bound the client is *behind*: the frames that a
full roster makes up for (``delta``, ``roster``, ``speaker``, ``spotlight``) are dropped, more of
them are not queued, and when the queue has drained the client gets one ``roster`` frame with
the current sequence number.  If the frames that cannot be dropped (answers, slots, errors…)
alone pass the bound, the socket is closed (1013, try again later) and the client rejoins.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable

from aiohttp import web

from meetings.briefings.messages import ROSTER_KINDS, ServerFrame

log = logging.getLogger(__name__)

MAX_QUEUED = 256 * 1024
"""Bytes of frames waiting for one client before it is behind."""
SLOW_CODE = 1013


class Outbox:
    """The frames waiting for one client, and whether it fell behind."""

    def __init__(
        self,
        resync: Callable[[], ServerFrame],
        limit: int = MAX_QUEUED,
        on_stuck: Callable[[], None] | None = None,
    ) -> None:
        self._resync = resync
        self._on_stuck = on_stuck
        """Drops the connection of a client that reads nothing (its send is stuck)."""
        self.limit = limit
        self._frames: deque[ServerFrame] = deque()
        self.queued = 0
        """Bytes waiting now."""
        self.peak = 0
        """Most bytes ever waiting (the bound holds: tests read it)."""
        self.behind = False
        self.resyncs = 0
        """Times the client fell behind and was sent the whole roster again."""
        self.closing: tuple[int, str] | None = None
        self._wake = asyncio.Event()

    def put(self, frame: ServerFrame) -> None:
        if self.closing is not None or (self.behind and frame.type in ROSTER_KINDS):
            return
        self._frames.append(frame)
        self.queued += len(frame.encode())
        if self.queued > self.limit:
            self._fall_behind()
        self.peak = max(self.peak, self.queued)
        self._wake.set()

    def _fall_behind(self) -> None:
        if not self.behind:
            self.resyncs += 1
            log.info("signaling client behind (%d bytes queued): resync when drained", self.queued)
        self.behind = True
        self._frames = deque(f for f in self._frames if f.type not in ROSTER_KINDS)
        self.queued = sum(len(f.encode()) for f in self._frames)
        if self.queued > self.limit:
            self.close(SLOW_CODE, "client too slow", drop=True)

    def resync(self) -> None:
        """Send the whole roster once the queue drains (the client asked, or saw a gap)."""
        if not self.behind:
            self.behind = True
            self._frames = deque(f for f in self._frames if f.type not in ROSTER_KINDS)
            self.queued = sum(len(f.encode()) for f in self._frames)
        self._wake.set()

    def close(self, code: int, reason: str, *, drop: bool = False) -> None:
        """Close the socket after the frames queued (or at once, ``drop``)."""
        if self.closing is None:
            self.closing = (code, reason)
        if drop:
            self._frames.clear()
            self.queued = 0
            if self._on_stuck is not None:
                self._on_stuck()
        self._wake.set()

    async def get(self) -> ServerFrame | None:
        """The next frame to send; None when the socket is to close."""
        while True:
            if self._frames:
                frame = self._frames.popleft()
                self.queued -= len(frame.encode())
                return frame
            if self.closing is not None:
                return None
            if self.behind:
                self.behind = False
                return self._resync()
            self._wake.clear()
            await self._wake.wait()


async def write(ws: web.WebSocketResponse, outbox: Outbox) -> None:
    """Send the outbox's frames until it closes or the socket fails, then close the socket."""
    while True:
        frame = await outbox.get()
        if frame is None:
            break
        try:
            await ws.send_str(frame.encode())
        except (ConnectionError, RuntimeError) as exc:
            log.info("signaling send failed: %r", exc)
            break
    if not ws.closed:
        code, reason = outbox.closing or (1000, "")
        await ws.close(code=code, message=reason.encode())
