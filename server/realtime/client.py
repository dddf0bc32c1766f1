"""One connected WebSocket: its bounded queue and its sender task.

Delivery path, cheapest first (DESIGN.md, "Tablets"):

1. the queue is empty, no send is in flight and the socket's write buffer is below the limit:
   write the ready frame to the transport right now — no task switch, no copy;
2. otherwise append it to the client's queue; the sender task writes it when the socket drains;
3. the queue is full: the client stopped reading.  Drop it — ``transport.abort()``, not a close
   handshake, which would wait to flush to a peer that does not read.

The socket's kernel send buffer is capped too, so a stalled tablet fills its queue (and is dropped)
after a few hundred kilobytes instead of after the several megabytes Linux autotuning allows.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import socket
from collections import deque
from collections.abc import Callable

from aiohttp import WSCloseCode, WSMsgType, web

from server.auth.principal import Principal
from server.realtime import metrics
from server.realtime.frames import Frame

log = logging.getLogger(__name__)

_ids = itertools.count(1)


class Client:
    """A browser (tablet, phone, wall screen) connected to ``/api/v1/realtime``."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        transport: asyncio.Transport,
        principal: Principal,
        *,
        queue_limit: int,
        send_buffer_bytes: int,
        on_drop: Callable[[Client], None],
    ) -> None:
        self.id = next(_ids)
        self.principal = principal
        self.channels: set[str] = set()
        """Channels this client is subscribed to (kept in step by the hub)."""
        self._ws = ws
        self._transport = transport
        self._queue: deque[Frame] = deque()
        self._queue_limit = queue_limit
        self._buffer_limit = send_buffer_bytes
        self._on_drop = on_drop
        self._wakeup = asyncio.Event()
        self._busy = False
        self._closed = False
        self._cap_socket(send_buffer_bytes)
        self._sender = asyncio.get_running_loop().create_task(
            self._send_loop(), name=f"realtime-sender-{self.id}"
        )

    def __repr__(self) -> str:
        return f"<Client {self.id} user={self.principal.user_id} channels={len(self.channels)}>"

    @property
    def closed(self) -> bool:
        return self._closed

    def _cap_socket(self, limit: int) -> None:
        # A small kernel buffer plus a transport high-water mark at the same size keeps what a
        # stalled tablet can swallow small, so its queue overflows and it is dropped quickly.
        with contextlib.suppress(OSError, AttributeError, TypeError, ValueError):
            self._transport.set_write_buffer_limits(high=limit)
        sock = self._transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError, AttributeError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, limit)

    def push(self, frame: Frame) -> None:
        """Deliver ``frame`` in order: write it now if the socket is idle, else queue it."""
        if self._closed:
            return
        if (
            not self._queue
            and not self._busy
            and self._transport.get_write_buffer_size() < self._buffer_limit
        ):
            if self._transport.is_closing():
                return
            self._transport.write(frame.wire)
            return
        if len(self._queue) >= self._queue_limit:
            self.drop("queue overflow")
            return
        self._queue.append(frame)
        self._wakeup.set()

    async def _send_loop(self) -> None:
        try:
            while not self._closed:
                await self._wakeup.wait()
                self._wakeup.clear()
                while self._queue and not self._closed:
                    frame = self._queue.popleft()
                    self._busy = True
                    # The public send path waits for the transport to drain (flow control).
                    await self._ws.send_frame(frame.payload, WSMsgType.TEXT)
                self._busy = False
        except (ConnectionError, RuntimeError) as exc:
            log.debug("realtime client %s: send failed: %s", self.id, exc)
            self.drop("send failed", count=False)
        finally:
            self._busy = False

    def drop(self, reason: str, *, count: bool = True) -> None:
        """Abort the connection now (no closing handshake) and forget the queued frames."""
        if self._closed:
            return
        self._closed = True
        self._queue.clear()
        self._wakeup.set()
        if count:
            metrics.CLIENTS_DROPPED.inc()
            log.info(
                "realtime client %s (user %s) dropped: %s",
                self.id,
                self.principal.user_id,
                reason,
            )
        self._transport.abort()
        self._on_drop(self)

    async def close(self, grace: float = 1.0) -> None:
        """Close politely (server going away); abort if the peer does not answer in time."""
        if not self._closed:
            self._closed = True
            self._queue.clear()
            self._wakeup.set()
            try:
                async with asyncio.timeout(grace):
                    await self._ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
            except (TimeoutError, ConnectionError, RuntimeError):
                self._transport.abort()
            self._on_drop(self)
        await self.stop()

    async def stop(self) -> None:
        """Stop the sender task (the handler calls this when the socket is gone)."""
        self._closed = True
        self._wakeup.set()
        if not self._sender.done():
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
