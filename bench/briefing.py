"""Video-briefing benchmark: our forwarding unit and Janus 1.1.2 (videoroom) side by side.

Both servers run, one after the other, in the same network namespace (``ltb-srv``, address
10.77.0.1 on a veth; Janus ignores loopback interfaces, and ours pays the same path), and the same
aiortc clients in the root namespace (10.77.0.2) talk to each: one publisher sending a pre-encoded
VP8 + Opus clip (longer than any run, a key frame each second, never looped) to N subscribers.
Subscribers count RTP in the ICE datagram callback from the clear header (they would saturate a
core decoding at N = 80): packets, frames (marker bits), sequence gaps.

Figures per server and N: server CPU per forwarded packet (utime + stime from /proc over the
measuring window, divided by the packets the subscribers received), loss, the lowest subscriber's
frames per second, and the time until all N received video.  The 3G profile puts one subscriber
in its own namespace behind a tbf-shaped veth (1 Mbit/s down, 384 kbit/s up) and a user-space
relay adding 75 ms each way and 3 % loss; it decodes, and we report its frames per second, video
freezes, audio continuity and the packets repaired by retransmission.

Needs root (network namespaces) and Debian's ``janus`` package.  ``--quick`` runs N = 10 for a
few seconds.  The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

NS = "ltb-srv"
SERVER_IP, CLIENT_IP = "10.77.0.1", "10.77.0.2"
NS3G = "ltb-3g"
SERVER_3G_IP, CLIENT_3G_IP = "10.78.0.1", "10.78.0.2"
OURS_PORT, JANUS_PORT = 8090, 8088
ROOM = 1234
CLK_TCK = os.sysconf("SC_CLK_TCK")
ROOT = Path(__file__).resolve().parent.parent
SCRIPT = str(Path(__file__).resolve())


def sh(*cmd: str, check: bool = True) -> None:
    subprocess.run(cmd, check=check, capture_output=True)


# ------------------------------------------------------------------------------ namespaces


def netns_up() -> None:
    netns_down()
    sh("ip", "netns", "add", NS)
    sh("ip", "link", "add", "ltb-h", "type", "veth", "peer", "name", "ltb-s")
    sh("ip", "link", "set", "ltb-s", "netns", NS)
    sh("ip", "addr", "add", f"{CLIENT_IP}/24", "dev", "ltb-h")
    sh("ip", "link", "set", "ltb-h", "up")
    sh("ip", "netns", "exec", NS, "ip", "addr", "add", f"{SERVER_IP}/24", "dev", "ltb-s")
    sh("ip", "netns", "exec", NS, "ip", "link", "set", "ltb-s", "up")
    sh("ip", "netns", "exec", NS, "ip", "link", "set", "lo", "up")
    # the 3G endpoint: its own namespace, its own shaped link into the server's namespace
    sh("ip", "netns", "add", NS3G)
    sh("ip", "link", "add", "ltb-3a", "type", "veth", "peer", "name", "ltb-3b")
    sh("ip", "link", "set", "ltb-3a", "netns", NS3G)
    sh("ip", "link", "set", "ltb-3b", "netns", NS)
    sh("ip", "netns", "exec", NS3G, "ip", "addr", "add", f"{CLIENT_3G_IP}/24", "dev", "ltb-3a")
    sh("ip", "netns", "exec", NS3G, "ip", "link", "set", "ltb-3a", "up")
    sh("ip", "netns", "exec", NS3G, "ip", "link", "set", "lo", "up")
    sh("ip", "netns", "exec", NS, "ip", "addr", "add", f"{SERVER_3G_IP}/24", "dev", "ltb-3b")
    sh("ip", "netns", "exec", NS, "ip", "link", "set", "ltb-3b", "up")
    tbf = ("tc", "qdisc", "add", "dev")
    sh("ip", "netns", "exec", NS, *tbf, "ltb-3b", "root", "tbf", "rate", "1mbit", "burst",
       "16kb", "latency", "400ms")  # fmt: skip
    sh("ip", "netns", "exec", NS3G, *tbf, "ltb-3a", "root", "tbf", "rate", "384kbit", "burst",
       "8kb", "latency", "400ms")  # fmt: skip


def netns_down() -> None:
    sh("ip", "link", "del", "ltb-h", check=False)
    sh("ip", "netns", "del", NS, check=False)
    sh("ip", "netns", "del", NS3G, check=False)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


# ------------------------------------------------------------------------------ servers


def janus_config(folder: Path) -> None:
    plugins = "/usr/lib/x86_64-linux-gnu/janus"
    disabled = ",".join(
        f"libjanus_{name}.so"
        for name in [
            "audiobridge",
            "duktape",
            "echotest",
            "lua",
            "nosip",
            "recordplay",
            "sip",
            "streaming",
            "textroom",
            "videocall",
            "voicemail",
        ]
    )
    (folder / "janus.jcfg").write_text(
        f"""general: {{
  configs_folder = "{folder}"
  plugins_folder = "{plugins}/plugins"
  transports_folder = "{plugins}/transports"
  events_folder = "{plugins}/events"
  loggers_folder = "{plugins}/loggers"
  debug_level = 2
  admin_secret = "bench"
}}
media: {{ rtp_port_range = "20000-40000" }}
nat: {{ ice_enforce_list = "ltb-s,ltb-3b" ignore_mdns = true }}
plugins: {{ disable = "{disabled}" }}
transports: {{ disable = "libjanus_websockets.so,libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,libjanus_rabbitmq.so" }}
loggers: {{ disable = "libjanus_jsonlog.so" }}
events: {{ broadcast = false }}
"""
    )
    (folder / "janus.transport.http.jcfg").write_text(
        f"""general: {{ json = "plain" base_path = "/janus" http = true port = {JANUS_PORT} https = false }}
admin: {{ admin_http = false }}
"""
    )
    (folder / "janus.plugin.videoroom.jcfg").write_text("general: { }\n")


@dataclass
class Server:
    kind: str
    process: subprocess.Popen[bytes]
    log: Path
    pids: list[int]
    """The server's processes (ours with several workers: all of them)."""

    @property
    def base(self) -> str:
        port = OURS_PORT if self.kind.startswith("ours") else JANUS_PORT
        return f"http://{SERVER_IP}:{port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _spawn_in_namespace(cmd: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            ["ip", "netns", "exec", NS, *cmd], stdout=out, stderr=subprocess.STDOUT, cwd=ROOT
        )


async def start_server(kind: str, workdir: Path) -> Server:
    log = workdir / f"{kind}.log"
    if kind == "janus":
        folder = workdir / "janus"
        folder.mkdir(exist_ok=True)
        janus_config(folder)
        cmd = ["janus", "-F", str(folder), "-C", str(folder / "janus.jcfg"), "-N", "-o",
               "-L", str(log)]  # fmt: skip
        url = f"http://{SERVER_IP}:{JANUS_PORT}/janus/info"
    else:
        workers = kind.removeprefix("ours").removeprefix("-w") or "1"
        cmd = [sys.executable, SCRIPT, "serve", "--workers", workers]
        url = f"http://{SERVER_IP}:{OURS_PORT}/all-stats"
    process = _spawn_in_namespace(cmd, log)
    server = Server(kind, process, log, [process.pid])
    deadline = time.monotonic() + 20
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{kind} exited: {log.read_text()[-2000:]}")
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with http.get(url) as resp:
                    if resp.status == 200:
                        if kind != "janus":  # every media worker's CPU counts
                            server.pids = list((await resp.json())["pids"])
                        return server
            await asyncio.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{kind} did not start: {log.read_text()[-2000:]}")


def _bench_room(index: int, workers: int, pipe_fd: int | None, addresses: str) -> Any:
    """A :class:`Room` as the app runs it, on media worker ``index`` of ``workers``."""
    import secrets
    import socket

    from meetings.briefings.sfu import hooks
    from meetings.briefings.sfu.pipe import Cluster
    from meetings.briefings.sfu.room import Room

    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    hooks.restrict_host_addresses([SERVER_IP, SERVER_3G_IP])
    cluster = None
    if workers > 1 and pipe_fd is not None:
        peers = {
            k: (a.rsplit(":", 1)[0], int(a.rsplit(":", 1)[1]))
            for k, a in enumerate(addresses.split(","))
        }
        cluster = Cluster(index, secrets.token_hex(8), socket.socket(fileno=pipe_fd), peers)
    return Room(1, "bench", on_empty=lambda _r: None, cluster=cluster)


def _room_routes(room: Any) -> Any:
    from aiohttp import web

    from meetings.briefings.live import LiveRow, LiveSnapshot, StreamInfo
    from meetings.briefings.sfu.participant import Participant

    routes = web.RouteTableDef()

    @routes.post("/join")
    async def join(request: web.Request) -> web.Response:
        body = await request.json()
        p = Participant(
            id=body["id"], name=body["id"], agency_code="", chair=bool(body.get("chair")),
            endpoint=not body.get("chair"), send=lambda _f: None,
        )  # fmt: skip
        room.join(p)
        answer = await room.negotiate(p, body["sdp"])
        return web.json_response({"sdp": answer})

    @routes.post("/apply")
    async def apply(request: web.Request) -> web.Response:
        """The room's shared state, pushed by worker 0 (the app keeps it in the database)."""
        rows = []
        for r in await request.json():
            streams = tuple(StreamInfo(**x) for x in r.pop("streams"))
            rows.append(LiveRow(streams=streams, **r))
        room.apply(LiveSnapshot(rows=tuple(rows)))
        return web.json_response({})

    @routes.get("/stats")
    async def stats(request: web.Request) -> web.Response:
        forwarded = sum(
            s.forwarded
            for p in room.participants.values()
            if p.peer and not p.remote
            for s in p.peer.sources.values()
        )
        return web.json_response(
            {
                "participants": len(room.participants),
                "forwarded": forwarded,
                "pids": [os.getpid()],
                "epoch": room.cluster.epoch if room.cluster else "",
                "piped": room.cluster.received if room.cluster else 0,
            }
        )

    return routes


def serve_ours(workers: int = 1) -> None:
    """Our forwarding unit behind a minimal HTTP signaling endpoint (runs inside the namespace).

    The room is :class:`meetings.briefings.sfu.room.Room`, exactly as the app runs it; the
    app's login and database sit outside the media path and are left out here.  With
    ``workers`` > 1 this process is media worker 0 and starts the others as in the app: each
    gets its pipe socket, subscribers are placed round-robin (the chair on worker 0), and the
    shared room state the app keeps in the database is pushed to the workers by this process.
    """
    import socket

    from aiohttp import web

    from meetings.briefings.live import LiveRow, LiveSnapshot, StreamInfo
    from meetings.briefings.sfu.participant import Participant

    pipes = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(workers)]
    for sock in pipes:
        sock.bind(("127.0.0.1", 0))
    addresses = ",".join(f"{h}:{p}" for h, p in (s.getsockname()[:2] for s in pipes))
    room = _bench_room(0, workers, pipes[0].fileno(), addresses)
    children = [
        subprocess.Popen(
            [sys.executable, SCRIPT, "serve-worker", str(k), str(pipes[k].fileno()), addresses],
            pass_fds=(pipes[k].fileno(),),
            cwd=ROOT,
        )
        for k in range(1, workers)
    ]
    placed: dict[str, int] = {}
    epochs: dict[int, str] = {}
    routes: web.RouteTableDef = _room_routes(room)
    http: list[aiohttp.ClientSession] = []

    def rows() -> list[dict[str, Any]]:
        out = []
        for pid, worker in placed.items():
            p = room.participants.get(pid)
            streams: list[StreamInfo] = []
            if worker == 0 and p is not None and p.peer is not None and not p.remote:
                streams = [
                    StreamInfo(s.kind, s.stream, s.clock_rate, s.level_id)
                    for s in p.peer.sources.values()
                    if s.stream
                ]
            out.append(
                {
                    "id": pid,
                    "name": pid,
                    "agency_code": "",
                    "chair": pid == "chair",
                    "endpoint": pid != "chair",
                    "worker": worker,
                    "epoch": room.cluster.epoch if worker == 0 else epochs[worker],
                    "connected": worker != 0 or bool(p and p.peer and p.peer.connected),
                    "streams": [x.to_json() for x in streams],
                    "audio_muted": False,
                    "video_muted": False,
                    "muted_by_chair": False,
                    "hand": False,
                    "audio_only": False,
                    "rtt_ms": None,
                    "loss": None,
                }
            )
        return out

    async def push() -> None:
        state = rows()
        parsed = [
            LiveRow(**{**r, "streams": tuple(StreamInfo(**x) for x in r["streams"])}) for r in state
        ]
        room.apply(LiveSnapshot(rows=tuple(parsed)))
        for k in range(1, workers):
            async with http[0].post(f"http://127.0.0.1:{OURS_PORT + k}/apply", json=state):
                pass

    @routes.post("/join-any")
    async def join_any(request: web.Request) -> web.Response:
        body = await request.json()
        worker = 0 if body.get("chair") else len(placed) % workers
        placed[body["id"]] = worker
        if worker == 0:
            p = Participant(
                id=body["id"], name=body["id"], agency_code="", chair=bool(body.get("chair")),
                endpoint=not body.get("chair"), send=lambda _f: None,
            )  # fmt: skip
            room.join(p)
            answer = {"sdp": await room.negotiate(p, body["sdp"])}
        else:
            async with http[0].post(f"http://127.0.0.1:{OURS_PORT + worker}/join", json=body) as r:
                answer = await r.json()
        if workers > 1:
            await push()
        return web.json_response(answer)

    @routes.get("/all-stats")
    async def all_stats(request: web.Request) -> web.Response:
        pids = [os.getpid(), *(c.pid for c in children)]
        return web.json_response({"pids": pids, "workers": workers})

    async def ctx(app: web.Application) -> Any:
        http.append(aiohttp.ClientSession())
        if room.cluster is not None:
            room.cluster.start()
        deadline = time.monotonic() + 20
        for k in range(1, workers):  # each worker's epoch, once it answers
            while k not in epochs and time.monotonic() < deadline:
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with http[0].get(f"http://127.0.0.1:{OURS_PORT + k}/stats") as r:
                        epochs[k] = (await r.json())["epoch"]
                        break
                await asyncio.sleep(0.2)
        yield
        await http[0].close()
        for child in children:
            child.terminate()
            child.wait(10)

    app = web.Application()
    app.add_routes(routes)
    app.cleanup_ctx.append(ctx)
    web.run_app(app, host="0.0.0.0", port=OURS_PORT, print=None, backlog=1024)


def serve_worker(index: int, pipe_fd: int, addresses: str) -> None:
    """Media worker ``index`` of the bench's multi-worker server (started by :func:`serve_ours`)."""
    from aiohttp import web

    room = _bench_room(index, len(addresses.split(",")), pipe_fd, addresses)

    async def ctx(app: web.Application) -> Any:
        room.cluster.start()
        yield

    app = web.Application()
    app.add_routes(_room_routes(room))
    app.cleanup_ctx.append(ctx)
    web.run_app(app, host="127.0.0.1", port=OURS_PORT + index, print=None, backlog=1024)


# ------------------------------------------------------------------------------ clients


@dataclass
class Counts:
    """What one subscriber received, read from the clear RTP header (no decryption, no decode)."""

    first_video: float | None = None
    packets: int = 0
    frames: int = 0
    seqs: dict[int, set[int]] = field(default_factory=dict)
    video_pts: set[int] = field(default_factory=set)

    def reset(self) -> None:
        self.packets = 0
        self.frames = 0
        self.seqs = {}

    def loss(self) -> tuple[int, int]:
        """(expected, received) over the window, per SSRC, sequence numbers unwrapped."""
        expected = received = 0
        for seqs in self.seqs.values():
            if len(seqs) < 2:
                continue
            ordered = sorted(seqs)
            # a wrap inside the window puts small numbers after 65535
            gaps = [b - a for a, b in itertools.pairwise(ordered)]
            span = ordered[-1] - ordered[0] + 1
            if gaps and max(gaps) > 30000:
                cut = gaps.index(max(gaps)) + 1
                span = (ordered[cut - 1] + 65536) - ordered[cut] + 1
            expected += span
            received += len(seqs)
        return expected, received


def _pcs() -> Any:
    from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection

    return RTCPeerConnection(
        RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
    )


def _video_pts(sdp: str) -> set[int]:
    pts: set[int] = set()
    for line in sdp.split("\r\n"):
        if line.startswith("m=video"):
            pts.update(int(x) for x in line.split()[3:])
    return pts


class Subscriber:
    def __init__(self, name: str) -> None:
        self.name = name
        self.pc = _pcs()
        self.counts = Counts()

    def hook(self) -> None:
        """Count the server's RTP at the ICE datagram callback; the rest goes to aiortc."""
        from meetings.briefings.sfu import hooks

        transceiver = self.pc.getTransceivers()[0]
        dtls = transceiver.receiver.transport
        counts = self.counts
        local = self.pc.localDescription
        remote = self.pc.remoteDescription
        counts.video_pts = _video_pts(local.sdp) | _video_pts(remote.sdp)

        def count(data: bytes) -> bool:
            if len(data) < 12 or not 127 < data[0] < 192 or 192 <= data[1] <= 223:
                return False
            pt = data[1] & 0x7F
            counts.packets += 1
            ssrc = int.from_bytes(data[8:12], "big")
            counts.seqs.setdefault(ssrc, set()).add((data[2] << 8) | data[3])
            if pt in counts.video_pts:
                if counts.first_video is None:
                    counts.first_video = time.monotonic()
                if data[1] & 0x80:
                    counts.frames += 1
            return True

        hooks.intercept_datagrams(dtls, count)


class OursClient:
    def __init__(self, base: str) -> None:
        self.base = base
        self.http = aiohttp.ClientSession()

    async def publish(self, clip: Path) -> Any:
        from aiortc import RTCSessionDescription
        from aiortc.contrib.media import MediaPlayer

        pc = _pcs()
        player = MediaPlayer(str(clip), decode=False)
        pc.addTransceiver(player.audio, direction="sendonly")
        pc.addTransceiver(player.video, direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        async with self.http.post(
            self.base + "/join-any",
            json={"id": "chair", "chair": True, "sdp": pc.localDescription.sdp},
        ) as resp:
            answer = (await resp.json())["sdp"]
        await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        return pc, player

    async def subscribe(self, sub: Subscriber) -> None:
        from aiortc import RTCSessionDescription

        sub.pc.addTransceiver("audio", direction="recvonly")
        sub.pc.addTransceiver("video", direction="recvonly")
        await sub.pc.setLocalDescription(await sub.pc.createOffer())
        async with self.http.post(
            self.base + "/join-any", json={"id": sub.name, "sdp": sub.pc.localDescription.sdp}
        ) as resp:
            answer = (await resp.json())["sdp"]
        await sub.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        sub.hook()

    async def close(self) -> None:
        await self.http.close()


class JanusClient:
    """The Janus HTTP API: one session for the publisher, one for all subscriber handles."""

    def __init__(self, base: str) -> None:
        self.base = base + "/janus"
        self.http = aiohttp.ClientSession()
        self.waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.pollers: list[asyncio.Task[None]] = []
        self.publisher_id = 0

    def _tx(self) -> str:
        return f"{random.getrandbits(48):x}"

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self.http.post(self.base + path, json=body) as resp:
            data: dict[str, Any] = await resp.json(content_type=None)
        return data

    async def session(self) -> int:
        data = await self._post("", {"janus": "create", "transaction": self._tx()})
        sid = int(data["data"]["id"])
        self.pollers.append(asyncio.ensure_future(self._poll(sid)))
        return sid

    async def _poll(self, sid: int) -> None:
        while True:
            try:
                async with self.http.get(f"{self.base}/{sid}?maxev=50") as resp:
                    events = await resp.json(content_type=None)
            except (TimeoutError, aiohttp.ClientError):
                await asyncio.sleep(0.2)
                continue
            for event in events if isinstance(events, list) else [events]:
                future = self.waiting.pop(event.get("transaction", ""), None)
                if future is not None and not future.done() and event.get("janus") != "ack":
                    future.set_result(event)

    async def attach(self, sid: int) -> int:
        data = await self._post(
            f"/{sid}",
            {"janus": "attach", "plugin": "janus.plugin.videoroom", "transaction": self._tx()},
        )
        return int(data["data"]["id"])

    async def message(
        self, sid: int, hid: int, body: dict[str, Any], jsep: dict[str, str] | None = None
    ) -> dict[str, Any]:
        tx = self._tx()
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[tx] = future
        msg: dict[str, Any] = {"janus": "message", "body": body, "transaction": tx}
        if jsep:
            msg["jsep"] = jsep
        data = await self._post(f"/{sid}/{hid}", msg)
        if data.get("janus") == "success":
            self.waiting.pop(tx, None)
            return data
        if data.get("janus") == "error":
            raise RuntimeError(str(data))
        return await asyncio.wait_for(future, 30)

    async def keepalive(self, sid: int) -> None:
        await self._post(f"/{sid}", {"janus": "keepalive", "transaction": self._tx()})

    async def publish(self, clip: Path) -> Any:
        from aiortc import RTCSessionDescription
        from aiortc.contrib.media import MediaPlayer

        self.pub_session = await self.session()
        handle = await self.attach(self.pub_session)
        await self.message(
            self.pub_session,
            handle,
            {"request": "create", "room": ROOM, "publishers": 1, "bitrate": 0,
             "audiocodec": "opus", "videocodec": "vp8", "notify_joining": False},
        )  # fmt: skip
        pc = _pcs()
        player = MediaPlayer(str(clip), decode=False)
        pc.addTransceiver(player.audio, direction="sendonly")
        pc.addTransceiver(player.video, direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        event = await self.message(
            self.pub_session,
            handle,
            {"request": "joinandconfigure", "room": ROOM, "ptype": "publisher",
             "display": "chair", "audio": True, "video": True},
            {"type": "offer", "sdp": pc.localDescription.sdp},
        )  # fmt: skip
        self.publisher_id = int(event["plugindata"]["data"]["id"])
        await pc.setRemoteDescription(RTCSessionDescription(event["jsep"]["sdp"], "answer"))
        self.sub_session = await self.session()
        return pc, player

    async def subscribe(self, sub: Subscriber) -> None:
        from aiortc import RTCSessionDescription

        handle = await self.attach(self.sub_session)
        event = await self.message(
            self.sub_session,
            handle,
            {"request": "join", "room": ROOM, "ptype": "subscriber",
             "streams": [{"feed": self.publisher_id}]},
        )  # fmt: skip
        await sub.pc.setRemoteDescription(RTCSessionDescription(event["jsep"]["sdp"], "offer"))
        # answer VP8 and Opus without RTX, as our server negotiates: aiortc clients decoded
        # nothing from Janus's RTX retransmissions under loss
        from meetings.briefings.sfu import hooks

        for t in sub.pc.getTransceivers():
            hooks.keep_codecs(t, "video/VP8" if t.kind == "video" else "audio/opus")
        await sub.pc.setLocalDescription(await sub.pc.createAnswer())
        await self.message(
            self.sub_session,
            handle,
            {"request": "start", "room": ROOM},
            {"type": "answer", "sdp": sub.pc.localDescription.sdp},
        )
        sub.hook()

    async def close(self) -> None:
        for task in self.pollers:
            task.cancel()
        await self.http.close()


# ------------------------------------------------------------------------------ one run


async def run_one(kind: str, n: int, clip: Path, window: float, workdir: Path) -> dict[str, Any]:
    from meetings.briefings.sfu import hooks

    hooks.restrict_host_addresses([CLIENT_IP])
    server = await start_server(kind, workdir)
    client: OursClient | JanusClient = (
        OursClient(server.base) if kind.startswith("ours") else JanusClient(server.base)
    )
    subs = [Subscriber(f"sub{i}") for i in range(n)]
    pub_pc = player = None
    try:
        pub_pc, player = await client.publish(clip)
        await asyncio.sleep(1.0)
        started = time.monotonic()
        gate = asyncio.Semaphore(16)

        async def one(sub: Subscriber) -> None:
            async with gate:
                await client.subscribe(sub)

        await asyncio.gather(*(one(s) for s in subs))
        deadline = started + 30
        while True:
            if time.monotonic() > deadline or all(s.counts.first_video for s in subs):
                break
            await asyncio.sleep(0.05)
        joined = [s.counts.first_video for s in subs if s.counts.first_video is not None]
        join_time = (max(joined) - started) if len(joined) == n else None
        await asyncio.sleep(1.0)
        for s in subs:
            s.counts.reset()
        cpu0s, t0 = [cpu_seconds(p) for p in server.pids], time.monotonic()
        cpu0 = sum(cpu0s)
        if isinstance(client, JanusClient):
            await client.keepalive(client.sub_session)
            await client.keepalive(client.pub_session)
        await asyncio.sleep(window)
        cpu1s, t1 = [cpu_seconds(p) for p in server.pids], time.monotonic()
        cpu1 = sum(cpu1s)
        elapsed = t1 - t0
        packets = sum(s.counts.packets for s in subs)
        expected = received = 0
        for s in subs:
            e, r = s.counts.loss()
            expected += e
            received += r
        fps = [s.counts.frames / elapsed for s in subs]
        return {
            "server": kind,
            "n": n,
            "joined": len(joined),
            "join_s": round(join_time, 2) if join_time is not None else None,
            "cpu_us_per_packet": round((cpu1 - cpu0) / packets * 1e6, 1) if packets else None,
            "cpu_cores": round((cpu1 - cpu0) / elapsed, 3),
            "cpu_cores_by_process": [
                round((b - a) / elapsed, 3) for a, b in zip(cpu0s, cpu1s, strict=True)
            ],
            "packets_per_s": round(packets / elapsed),
            "loss_pct": round(100 * (1 - received / expected), 3) if expected else None,
            "min_fps": round(min(fps), 1) if fps else None,
            "mean_fps": round(sum(fps) / len(fps), 1) if fps else None,
        }
    finally:
        for s in subs:
            with contextlib.suppress(Exception):
                await s.pc.close()
        if pub_pc is not None:
            with contextlib.suppress(Exception):
                await pub_pc.close()
        if player is not None:
            for track in (player.audio, player.video):
                if track is not None:
                    track.stop()
        await client.close()
        server.stop()


# ------------------------------------------------------------------------------ 3G endpoint


def run_3g_client(kind: str, seconds: float) -> None:
    """Inside ``ltb-3g``: one decoding subscriber behind 75 ms each way and 3 % loss."""
    asyncio.run(_client_3g(kind, seconds))


async def _client_3g(kind: str, seconds: float) -> None:
    from meetings.briefings.sfu import hooks

    hooks.restrict_host_addresses([CLIENT_3G_IP])
    base = f"http://{SERVER_3G_IP}:{OURS_PORT if kind == 'ours' else JANUS_PORT}"
    sub = Subscriber("sub3g")
    frames: dict[str, int] = {"audio": 0, "video": 0}
    gaps: list[float] = []
    last_video: list[float] = []

    def on_track(track: Any) -> None:
        async def count() -> None:
            with contextlib.suppress(Exception):
                while True:
                    await track.recv()
                    frames[track.kind] += 1
                    if track.kind == "video":
                        now = time.monotonic()
                        if last_video:
                            gaps.append(now - last_video[0])
                        last_video[:] = [now]

        tasks.append(asyncio.ensure_future(count()))

    tasks: list[asyncio.Task[None]] = []
    sub.pc.on("track", on_track)
    # the relay: every datagram in both directions is delayed 75 ms, 3 % of media dropped
    rng = random.Random(3)
    loss = float(os.environ.get("LTB_3G_LOSS", "0.03"))
    delay = float(os.environ.get("LTB_3G_DELAY", "0.075"))
    loop = asyncio.get_running_loop()
    client: OursClient | JanusClient
    if kind == "ours":
        client = OursClient(base)
        sub.pc.addTransceiver("audio", direction="recvonly")
        sub.pc.addTransceiver("video", direction="recvonly")
    else:
        client = JanusClient(base)
        client.sub_session = await client.session()
        client.publisher_id = await _janus_publisher_id(client)
    original_hook = sub.hook
    sub.hook = lambda: None  # type: ignore[method-assign]  # this subscriber decodes
    if kind == "ours":
        await client.subscribe(sub)
    else:
        await client.subscribe(sub)
    sub.hook = original_hook  # type: ignore[method-assign]
    dtls = sub.pc.getTransceivers()[0].receiver.transport
    conn = dtls.transport._connection
    receive = conn.data_received

    def lossy_receive(data: bytes, component: int) -> None:
        if data[0] >= 128 and rng.random() < loss:
            return
        loop.call_later(delay, receive, data, component)

    conn.data_received = lossy_receive
    original_sendto = conn.sendto

    async def lossy_send(data: bytes, component: int) -> None:
        if data[0] >= 128 and rng.random() < loss:
            return
        await asyncio.sleep(delay)
        await original_sendto(data, component)

    conn.sendto = lossy_send
    await asyncio.sleep(seconds)
    stats = await sub.pc.getStats()
    nacked = 0
    for s in stats.values():
        if getattr(s, "type", "") == "inbound-rtp":
            nacked += getattr(s, "packetsLost", 0) or 0
    print(
        json.dumps(
            {
                "video_fps": round(frames["video"] / seconds, 1),
                "audio_frames_per_s": round(frames["audio"] / seconds, 1),
                "video_freezes_over_500ms": sum(1 for g in gaps if g > 0.5),
                "longest_video_gap_s": round(max(gaps), 2) if gaps else None,
            }
        )
    )
    await sub.pc.close()
    await client.close()


async def _janus_publisher_id(client: JanusClient) -> int:
    handle = await client.attach(client.sub_session)
    data = await client.message(
        client.sub_session, handle, {"request": "listparticipants", "room": ROOM}
    )
    return int(data["plugindata"]["data"]["participants"][0]["id"])


async def run_3g(kind: str, clip: Path, seconds: float, workdir: Path) -> dict[str, Any]:
    from meetings.briefings.sfu import hooks

    hooks.restrict_host_addresses([CLIENT_IP])
    server = await start_server(kind, workdir)
    client: OursClient | JanusClient = (
        OursClient(server.base) if kind.startswith("ours") else JanusClient(server.base)
    )
    pub_pc = player = None
    try:
        pub_pc, player = await client.publish(clip)
        await asyncio.sleep(1.0)
        proc = await asyncio.create_subprocess_exec(
            "ip", "netns", "exec", NS3G, sys.executable, SCRIPT,
            "client3g", kind, str(seconds),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), seconds + 60)
        lines = out.decode().strip().splitlines()
        if proc.returncode != 0 or not lines:
            return {"server": kind, "error": err.decode()[-500:]}
        return {"server": kind, **json.loads(lines[-1])}
    finally:
        if pub_pc is not None:
            await pub_pc.close()
        if player is not None:
            for track in (player.audio, player.video):
                if track is not None:
                    track.stop()
        await client.close()
        server.stop()


# ------------------------------------------------------------------------------ main


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from tests.briefings.media import make_clip

    sizes = [10] if args.quick else [int(x) for x in args.n.split(",")]
    if args.only_3g:
        sizes = []
    window = 4.0 if args.quick else args.seconds
    servers = args.servers.split(",")
    if args.workers > 1 and "ours" in servers:
        servers.insert(servers.index("ours") + 1, f"ours-w{args.workers}")
    workdir = Path(tempfile.mkdtemp(prefix="ltb-"))
    clip_seconds = 20 + (10 if args.quick else 20 + window)
    clip = make_clip(workdir / "clip.webm", seconds=clip_seconds, size=(640, 360))
    netns_up()
    results: list[dict[str, Any]] = []
    try:
        for n in sizes:
            for kind in servers:  # alternate servers at each N, in the same run
                result = await run_one(kind, n, clip, window, workdir)
                print(json.dumps(result), flush=True)
                results.append(result)
        g3 = []
        if not args.skip_3g:
            for kind in servers:
                if kind.startswith("ours-w"):  # the 3G profile is about one link, not workers
                    continue
                r = await run_3g(kind, clip, 8.0 if args.quick else 15.0, workdir)
                print(json.dumps({"profile": "3g", **r}), flush=True)
                g3.append(r)
    finally:
        netns_down()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    summary: dict[str, Any] = {"runs": results, "3g": g3}
    for n in sizes:
        by = {r["server"]: r for r in results if r["n"] == n}
        for kind in (k for k in servers if k.startswith("ours")):
            if kind in by and "janus" in by and by["janus"].get("cpu_us_per_packet"):
                label = "" if kind == "ours" else kind.removeprefix("ours-") + "_"
                summary[f"cpu_ratio_{label}n{n}"] = round(
                    by[kind]["cpu_us_per_packet"] / by["janus"]["cpu_us_per_packet"], 2
                )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "command", nargs="?", default="run", choices=["run", "serve", "serve-worker", "client3g"]
    )
    parser.add_argument("args", nargs="*")
    parser.add_argument("--quick", action="store_true", help="N = 10, short windows")
    parser.add_argument("--n", default="10,40,80", help="subscriber counts")
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring window")
    parser.add_argument("--servers", default="ours,janus")
    parser.add_argument("--skip-3g", action="store_true")
    parser.add_argument("--only-3g", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="also run ours with this many media workers (streams piped between them)",
    )
    args = parser.parse_args()
    if args.command == "serve":
        serve_ours(args.workers)
        return
    if args.command == "serve-worker":
        serve_worker(int(args.args[0]), int(args.args[1]), args.args[2])
        return
    if args.command == "client3g":
        run_3g_client(args.args[0], float(args.args[1]))
        return
    if os.geteuid() != 0 or shutil.which("janus") is None:
        raise SystemExit("needs root (network namespaces) and Debian's janus package")
    summary = asyncio.run(bench(args))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
