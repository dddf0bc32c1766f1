"""Media workers: one process per core, started and restarted by the app's process.

The app's process owns HTTP and signaling for everything and is media worker 0; workers 1…N−1
are ``python -m meetings.briefings.worker`` processes.  An endpoint's signaling socket is
placed on the least-loaded running worker: worker 0 serves it in-process, any other gets the
socket relayed frame by frame over a loopback WebSocket (signaling is a few frames a second;
media goes straight between the endpoint and that worker's ICE sockets).  Before starting the
workers the supervisor binds every worker's pipe socket (UDP) and internal HTTP socket, and
hands them over at each (re)start, so addresses never change and a restarted worker finds the
same peers.  If a worker dies, its endpoints' sockets close (1012), the clients rejoin by
themselves (0.3–3 s) and land on a running worker; the worker is started again.

With the realtime hub on Redis, the pool is one *group* among those of every app process of the
deployment (:class:`Sharing`, :mod:`.registry`): its worker k is numbered ``base + k``
(``base`` = group × 1000) and its cluster also knows the other groups' workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
import secrets
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from meetings.briefings.registry import GROUP_SIZE, Registry
from meetings.briefings.sfu.participant import REPLACED_CODE
from meetings.briefings.sfu.pipe import Address, Cluster

log = logging.getLogger(__name__)

INTERNAL_PATH = "/internal/briefings/signal"
KEY_HEADER = "X-LienThong-Worker-Key"
SEAT_HEADER = "X-LienThong-Seat"
RESTART_DELAY = 0.5
PACK_UP_TO = 300
"""Sockets a worker takes for briefings it already hosts before one spills to another worker.

A briefing's endpoints are kept on one worker: its publishers' packets then cross no pipe and
one room does the briefing's work (a room of 171 endpoints costs about a quarter of a core),
while each new briefing starts on the least-loaded worker, so several briefings use every core.
Past this many sockets on that worker, the next endpoint goes to the least-loaded one and the
pipe joins the two halves, as before."""
READY_WITHIN = 20.0
"""Seconds the app waits at start for its media workers' first heartbeats before serving."""


@dataclass(frozen=True, slots=True)
class Seat:
    """Who a relayed signaling socket belongs to, as the app admitted them (checked when read)."""

    briefing: int
    user_id: int
    login: str
    display_name: str
    agency_code: str
    is_chair: bool
    is_endpoint: bool
    device: str = ""

    def __post_init__(self) -> None:
        if self.briefing < 1 or self.user_id < 1 or not self.login:
            raise ValueError("bad seat")

    def encode(self) -> str:
        return json.dumps(
            {
                "briefing": self.briefing,
                "user_id": self.user_id,
                "login": self.login,
                "display_name": self.display_name,
                "agency_code": self.agency_code,
                "is_chair": self.is_chair,
                "is_endpoint": self.is_endpoint,
                "device": self.device,
            },
            ensure_ascii=True,
        )

    @classmethod
    def decode(cls, raw: str) -> Seat:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("bad seat")
        return cls(
            briefing=int(data["briefing"]),
            user_id=int(data["user_id"]),
            login=str(data["login"]),
            display_name=str(data["display_name"]),
            agency_code=str(data["agency_code"]),
            is_chair=bool(data["is_chair"]),
            is_endpoint=bool(data["is_endpoint"]),
            device=str(data.get("device", ""))[:64],
        )


def _udp(host: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host, 0))
    return sock


def format_addresses(addresses: dict[int, Address]) -> str:
    """``index=host:port,…`` for a worker's command line."""
    return ",".join(f"{k}={h}:{p}" for k, (h, p) in sorted(addresses.items()))


def parse_addresses(raw: str) -> dict[int, Address]:
    out: dict[int, Address] = {}
    for item in raw.split(","):
        index, _, address = item.partition("=")
        host, _, port = address.rpartition(":")
        out[int(index)] = (host, int(port))
    return out


@dataclass(frozen=True, slots=True)
class Sharing:
    """How this process's group joins the other app processes' workers (:mod:`.registry`)."""

    redis_url: str
    prefix: str
    group: int
    host: str
    """The address our pipe sockets are bound to, which the other groups send to."""


def _listener() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    return sock


class WorkerPool:
    """The supervisor: worker processes, their sockets, placement and relaying."""

    def __init__(self, count: int, env: dict[str, str], sharing: Sharing | None = None) -> None:
        self.count = count
        self.key = secrets.token_urlsafe(24)
        self.sharing = sharing
        self.base = sharing.group * GROUP_SIZE if sharing else 0
        """Our worker k is numbered ``base + k`` in the live room rows and on the pipe."""
        extra = {"LIENTHONG_BRIEFINGS_WORKER_KEY": self.key}
        if sharing is not None:
            extra |= {"LIENTHONG_BRIEFINGS_REGISTRY": sharing.redis_url}
            extra |= {"LIENTHONG_BRIEFINGS_REGISTRY_PREFIX": sharing.prefix}
        self.env = {**os.environ, **env, **extra}
        host = sharing.host if sharing else "127.0.0.1"
        self.pipes = [_udp(host) for _ in range(count)]
        self.listeners: dict[int, socket.socket] = {k: _listener() for k in range(1, count)}
        self.addresses = {self.base + k: s.getsockname()[:2] for k, s in enumerate(self.pipes)}
        self.cluster = Cluster(
            self.base,
            secrets.token_hex(8),
            self.pipes[0],
            self.addresses,
            shared=sharing is not None,
        )
        self.registry: Registry | None = None
        if sharing is not None:
            own = {self.base: self.addresses[self.base]}
            self.registry = Registry(
                sharing.redis_url, sharing.prefix, own, self.cluster.set_members
            )
        self.procs: dict[int, asyncio.subprocess.Process] = {}
        self.load: dict[int, int] = dict.fromkeys(range(count), 0)
        """Signaling sockets placed on each worker now."""
        self.hosted: dict[tuple[int, int], int] = {}
        """Signaling sockets by (worker, briefing) now."""
        self.placement: Callable[[Seat], int] | None = None
        """Overrides the least-loaded choice (tests put endpoints on given workers)."""
        self._watchers: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._http: aiohttp.ClientSession | None = None

    def port(self, worker: int) -> int:
        return int(self.listeners[worker].getsockname()[1])

    async def start(self) -> None:
        self.cluster.start()
        if self.registry is not None:
            await self.registry.start()
        self._http = aiohttp.ClientSession()
        for k in range(1, self.count):
            await self._spawn(k)
        await self._ready()

    async def _ready(self) -> None:
        """Wait (bounded) until every worker beats: a join storm right after start is spread."""
        deadline = asyncio.get_running_loop().time() + READY_WITHIN
        while not all(self.running(k) for k in range(self.count)):
            if asyncio.get_running_loop().time() > deadline:
                log.warning("media workers not all running after %.0f s; serving", READY_WITHIN)
                return
            await asyncio.sleep(0.05)

    async def _spawn(self, k: int) -> None:
        pipe, listener = self.pipes[k], self.listeners[k]
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "meetings.briefings.worker",
            "--index",
            str(self.base + k),
            "--pipe-fd",
            str(pipe.fileno()),
            "--http-fd",
            str(listener.fileno()),
            "--addresses",
            format_addresses(self.addresses),
            "--supervisor",
            str(os.getpid()),
            pass_fds=(pipe.fileno(), listener.fileno()),
            env=self.env,
        )
        self.procs[k] = proc
        log.info("media worker %d started (pid %d)", k, proc.pid)
        watcher = asyncio.ensure_future(self._watch(k, proc))
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)

    async def _watch(self, k: int, proc: asyncio.subprocess.Process) -> None:
        code = await proc.wait()
        if self._stopping:
            return
        log.warning("media worker %d (pid %d) exited with %s; restarting", k, proc.pid, code)
        await asyncio.sleep(RESTART_DELAY)
        if not self._stopping:
            await self._spawn(k)

    def running(self, k: int) -> bool:
        if k == 0:
            return True
        proc = self.procs.get(k)
        heard = self.cluster.heard.get(self.base + k)
        return (
            proc is not None
            and proc.returncode is None
            and heard is not None
            and self.cluster.alive(self.base + k, heard[0])
        )

    def place(self, seat: Seat) -> int:
        if self.placement is not None:
            chosen = self.placement(seat)
            if self.running(chosen):
                return chosen
        live = [k for k in range(self.count) if self.running(k)]
        hosting = [
            k for k in live if self.hosted.get((k, seat.briefing)) and self.load[k] < PACK_UP_TO
        ]
        if hosting:  # keep the briefing together: no pipe copies, one room's work
            return max(hosting, key=lambda k: (self.hosted[(k, seat.briefing)], -k))
        return min(live, key=lambda k: (self.load[k], k))

    @contextlib.contextmanager
    def seated(self, worker: int, briefing: int) -> Iterator[None]:
        """Count a signaling socket on ``worker`` for ``briefing`` while it is open."""
        key = (worker, briefing)
        self.load[worker] += 1
        self.hosted[key] = self.hosted.get(key, 0) + 1
        try:
            yield
        finally:
            self.load[worker] -= 1
            self.hosted[key] -= 1
            if not self.hosted[key]:
                del self.hosted[key]

    async def relay(self, ws: web.WebSocketResponse, worker: int, seat: Seat) -> None:
        """Carry the endpoint's signaling to ``worker`` and back until either side closes."""
        assert self._http is not None
        url = f"http://127.0.0.1:{self.port(worker)}{INTERNAL_PATH}"
        headers = {KEY_HEADER: self.key, SEAT_HEADER: seat.encode()}
        with self.seated(worker, seat.briefing):
            code = await self._carry(ws, url, headers, worker)
        if not ws.closed:
            # a worker that went away: 1012 (service restart) and the client rejoins
            kept = (1000, 1001, 1009, 1013, REPLACED_CODE)
            await ws.close(code=code if code in kept else 1012)

    async def _carry(
        self, ws: web.WebSocketResponse, url: str, headers: dict[str, str], worker: int
    ) -> int | None:
        """Pump frames both ways; the inner socket's close code (None: the worker is gone)."""
        assert self._http is not None
        try:
            async with self._http.ws_connect(url, headers=headers, heartbeat=10) as inner:

                async def up() -> None:
                    async for msg in ws:
                        if msg.type == aiohttp.WSMsgType.TEXT:
                            await inner.send_str(msg.data)
                        elif msg.type == aiohttp.WSMsgType.BINARY:
                            await inner.send_bytes(msg.data)
                    await inner.close()

                pump = asyncio.ensure_future(up())
                try:
                    async for msg in inner:
                        if msg.type == aiohttp.WSMsgType.TEXT:
                            await ws.send_str(msg.data)
                finally:
                    pump.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await pump
                return inner.close_code
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            log.info("relay to media worker %d failed: %r", worker, exc)
            return None

    async def stop(self) -> None:
        self._stopping = True
        for proc in self.procs.values():
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
        for proc in self.procs.values():
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        for task in list(self._watchers):
            task.cancel()
        if self.registry is not None:
            await self.registry.close()
        self.cluster.close()
        if self._http is not None:
            await self._http.close()
        for sock in [*self.pipes, *self.listeners.values()]:
            sock.close()


def check_key(request: web.Request, key: str) -> bool:
    given = request.headers.get(KEY_HEADER, "")
    return bool(key) and hmac.compare_digest(given.encode(), key.encode())


def seat_of(request: web.Request) -> Seat | None:
    try:
        return Seat.decode(request.headers.get(SEAT_HEADER, ""))
    except (ValueError, KeyError, TypeError):
        return None
