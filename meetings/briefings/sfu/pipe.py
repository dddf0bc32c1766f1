"""Streams piped between the media workers of one node (one worker process per core).

Every worker holds one UDP socket on 127.0.0.1 (the supervisor binds them all before starting
the workers, so a restarted worker gets the same port back).  A worker sends the plain RTP of
its local publishers (SRTP already removed, extensions kept for the audio level) to the other
workers: audio to every worker hosting endpoints of the same briefing (each measures voice
activity itself), video only to the workers that have it in a subscriber's slot.  Those feed
it into a local :class:`~.forwarder.Source`, which fans out to their subscribers exactly as for
a local publisher.  Datagrams, first byte:

``R`` stream id (4 bytes) + plain RTP — media;
``K`` stream id — a key frame wanted by a subscriber on the sending worker (which therefore
wants the stream: it is sent there from now on);
``W`` stream ids (4 bytes each) — the video streams of the receiving worker that the sending
worker has in slots now, about once a second (the others stop);
``S`` briefing id (8 bytes) — the briefing's shared state changed: re-read it;
``H`` epoch — heartbeat, twice a second: a worker not heard for 2 s counts as gone.

Per packet: one ``sendmsg`` per peer worker on the way out, one ``recv`` and a dict lookup on
the way in — no parse, no serialize, no await.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable

from meetings.briefings.sfu.forwarder import Source

log = logging.getLogger(__name__)

HEARTBEAT = 0.5
"""Seconds between heartbeats."""
GONE = 2.0
"""Seconds of silence after which a peer worker counts as gone."""
BUFFER = 4 << 20
"""Socket buffers (capped by the kernel's rmem_max/wmem_max): a key frame burst never drops."""
Address = tuple[str, int]


class PipeTap:
    """A publisher source's tap that sends each plain packet to the peer workers in ``dests``."""

    __slots__ = ("dests", "dropped", "header", "sock")

    def __init__(self, sock: socket.socket, stream: int, dests: list[Address]) -> None:
        self.sock = sock
        self.header = b"R" + stream.to_bytes(4, "big")
        self.dests = dests
        """Shared with the room, which updates it in place as endpoints move."""
        self.dropped = 0

    def __call__(self, plain: bytes) -> None:
        for dest in self.dests:
            try:
                self.sock.sendmsg((self.header, plain), (), 0, dest)
            except OSError:  # a full buffer or a worker restarting: that copy is lost
                self.dropped += 1


class Cluster:
    """This process's place among the media workers: its index, its epoch and the pipe."""

    def __init__(
        self,
        index: int,
        epoch: str,
        sock: socket.socket | None = None,
        addresses: dict[int, Address] | None = None,
        *,
        shared: bool = False,
    ) -> None:
        self.index = index
        self.epoch = epoch
        """Random per process start: rows of a restarted worker's predecessor count as gone."""
        self.sock = sock
        self.addresses = dict(addresses or {})
        """Pipe address of every worker, by index (ours included)."""
        self.group = dict(self.addresses)
        """Our own group's workers (the supervisor's): kept whatever the registry says."""
        self.shared = shared
        """Other app processes' workers may join (:mod:`..registry`): always multi-worker."""
        self._known = set(self.addresses.values())
        self.local: dict[int, Source] = {}
        """Our publishers' sources by stream id (key-frame requests from peer workers)."""
        self.remote: dict[int, Source] = {}
        """Sources fed by the pipe, by stream id."""
        self.origin: dict[int, int] = {}
        """The worker publishing each of :attr:`remote`."""
        self.heard: dict[int, tuple[str, float]] = {}
        """Epoch and time of the last heartbeat of each peer worker."""
        self.wants: dict[int, set[int]] = {}
        """Our video streams each peer worker has in a slot (sent only there)."""
        self.video_taps: dict[int, PipeTap] = {}
        self.on_changed: Callable[[int], None] = lambda _bid: None
        self.received = 0
        self._beat: asyncio.Task[None] | None = None

    @property
    def multi(self) -> bool:
        return self.sock is not None and (self.shared or len(self.addresses) > 1)

    def peers(self) -> list[int]:
        return [i for i in self.addresses if i != self.index]

    def alive(self, worker: int | None, epoch: str) -> bool:
        """Whether ``worker`` runs now with this ``epoch`` (a row written by it is current)."""
        if worker is None:
            return False
        if worker == self.index:
            return epoch == self.epoch
        heard = self.heard.get(worker)
        return heard is not None and heard[0] == epoch and time.monotonic() - heard[1] < GONE

    def address(self, worker: int) -> Address | None:
        return self.addresses.get(worker)

    def set_members(self, members: dict[int, Address]) -> None:
        """The deployment's workers as the registry reads them; ours are always kept."""
        merged = {**members, **self.group}
        for worker in set(self.addresses) - set(merged):
            self.heard.pop(worker, None)
            for stream in self.wants.pop(worker, set()):
                self._route(stream)
        self.addresses = merged
        self._known = set(merged.values())

    def tap(self, stream: int, dests: list[Address]) -> PipeTap:
        """Audio: sent to ``dests``, the room's list of peer workers."""
        assert self.sock is not None
        return PipeTap(self.sock, stream, dests)

    def video_tap(self, stream: int) -> PipeTap:
        """Video: sent to the peer workers that want it."""
        assert self.sock is not None
        tap = PipeTap(self.sock, stream, [])
        self.video_taps[stream] = tap
        self._route(stream)
        return tap

    def forget(self, stream: int) -> None:
        self.local.pop(stream, None)
        self.video_taps.pop(stream, None)

    def _route(self, stream: int) -> None:
        tap = self.video_taps.get(stream)
        if tap is not None:
            tap.dests[:] = [
                self.addresses[w]
                for w, streams in sorted(self.wants.items())
                if stream in streams and w in self.addresses
            ]

    def _want(self) -> None:
        """Tell each worker which of its video streams our slots show now (any briefing)."""
        wanted: dict[int, list[int]] = {}
        for stream, source in self.remote.items():
            if source.kind == "video" and source.sinks:
                wanted.setdefault(self.origin.get(stream, -1), []).append(stream)
        for worker in self.peers():
            streams = sorted(wanted.get(worker, ()))[:300]
            self._send(b"W" + b"".join(s.to_bytes(4, "big") for s in streams), worker)

    # -- control ---------------------------------------------------------------------------

    def _send(self, data: bytes, worker: int) -> None:
        addr = self.addresses.get(worker)
        if self.sock is None or addr is None:
            return
        with contextlib.suppress(OSError):
            self.sock.sendto(data, addr)

    def notify(self, briefing_id: int) -> None:
        """Tell every peer worker that the briefing's shared state changed."""
        data = b"S" + briefing_id.to_bytes(8, "big")
        for worker in self.peers():
            self._send(data, worker)

    def request_keyframe(self, worker: int, stream: int) -> None:
        self._send(b"K" + stream.to_bytes(4, "big"), worker)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        if not self.multi:
            return
        sock = self.sock
        assert sock is not None
        sock.setblocking(False)
        for opt in (socket.SO_RCVBUF, socket.SO_SNDBUF):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, opt, BUFFER)
        loop = asyncio.get_running_loop()
        loop.add_reader(sock.fileno(), self._readable)
        self._beat = asyncio.ensure_future(self._heartbeat())

    async def _heartbeat(self) -> None:
        data = b"H" + self.epoch.encode()
        beats = 0
        while True:
            for worker in self.peers():
                self._send(data, worker)
            beats += 1
            if beats % 2 == 0:
                self._want()
            await asyncio.sleep(HEARTBEAT)

    def _readable(self) -> None:
        sock = self.sock
        assert sock is not None
        remote = self.remote
        for _ in range(256):
            try:
                data, addr = sock.recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.debug("pipe receive: %r", exc)
                return
            if addr not in self._known:  # only the deployment's workers may feed us
                continue
            kind = data[0] if data else 0
            if kind == 82:  # R: media
                source = remote.get(int.from_bytes(data[1:5], "big"))
                if source is not None:
                    self.received += 1
                    source.forward(data[5:])
            elif kind == 75:  # K
                stream = int.from_bytes(data[1:5], "big")
                local = self.local.get(stream)
                worker = self._worker_at(addr)
                if local is not None and worker is not None:
                    wanted = self.wants.setdefault(worker, set())
                    if stream not in wanted:
                        wanted.add(stream)
                        self._route(stream)
                    local.request_keyframe()
            elif kind == 87:  # W
                worker = self._worker_at(addr)
                if worker is not None:
                    streams = {
                        int.from_bytes(data[i : i + 4], "big") for i in range(1, len(data) - 3, 4)
                    }
                    old = self.wants.get(worker, set())
                    self.wants[worker] = streams
                    for stream in old ^ streams:
                        self._route(stream)
            elif kind == 83 and len(data) == 9:  # S
                self.on_changed(int.from_bytes(data[1:9], "big"))
            elif kind == 72:  # H
                worker = self._worker_at(addr)
                if worker is not None:
                    epoch = data[1:].decode(errors="replace")
                    known = self.heard.get(worker)
                    if known is not None and known[0] != epoch:  # it restarted: wants nothing
                        for stream in self.wants.pop(worker, set()):
                            self._route(stream)
                    self.heard[worker] = (epoch, time.monotonic())

    def _worker_at(self, addr: Address) -> int | None:
        for worker, known in self.addresses.items():
            if known[0] == addr[0] and known[1] == addr[1]:
                return worker
        return None

    def close(self) -> None:
        if self._beat is not None:
            self._beat.cancel()
            self._beat = None
        if self.multi and self.sock is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self.sock.fileno())
