"""Signaling at province scale, through the real app: a join costs each participant one small
frame whatever the room's size, an idle room sends nothing, a gap or a slow reader resyncs, a
rejoin leaves no ghost, and bad frames get errors while the room goes on."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import struct
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from aiortc import RTCPeerConnection
from aiortc.rtcrtpsender import RTCRtpSender

from meetings.briefings.messages import ServerFrame
from meetings.briefings.outbox import MAX_QUEUED
from meetings.briefings.sfu.participant import REPLACED_CODE, Participant
from meetings.briefings.sfu.peer import ServerPeer
from meetings.briefings.sfu.room import Room, Rooms
from meetings.briefings.sfu.roster import SPEAKER_INTERVAL
from meetings.briefings.signaling import ROOMS_KEY
from server.auth.principal import Role
from server.demo import DEMO_PASSWORD
from tests.briefings.sfu_support import Endpoint, join, until
from tests.conftest import AGENCY_A, AGENCY_B, People, bearer
from tests.live import chromium, live_server

Client = TestClient[Any, Any]


class Peer:
    """A signaling-only client: every frame it got (with its size) and the roster it keeps."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.frames: list[tuple[dict[str, Any], int]] = []
        self.roster: dict[str, dict[str, Any]] = {}
        self.seq: int | None = None
        self.you = ""
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            self.frames.append((frame, len(msg.data.encode())))
            if frame["type"] == "welcome":
                self.you = frame["you"]
            elif frame["type"] == "roster":
                self.roster = {p["id"]: p for p in frame["participants"]}
                self.seq = frame["seq"]
            elif frame["type"] == "delta" and self.seq is not None and frame["seq"] > self.seq:
                assert frame["seq"] == self.seq + 1, "a gap in the roster's numbers"
                self.seq = frame["seq"]
                if frame["op"] == "leave":
                    self.roster.pop(frame["id"])
                else:
                    self.roster[frame["participant"]["id"]] = frame["participant"]

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [f for f, _n in self.frames if f["type"] == kind]

    async def send(self, **frame: Any) -> None:
        await self.ws.send_str(json.dumps(frame))

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()


async def _briefing(client: Client, people: People, n: int) -> tuple[int, str, list[str]]:
    """A briefing chaired by ``chutich`` with ``n`` commune endpoints; their tokens."""
    await people.add("chutich", Role.LEADER, agency=AGENCY_A, name="Chủ tịch")
    chair = await people.token("chutich")
    tokens = []
    for k in range(n):
        login = await people.add(f"xa{k:03d}", Role.ENDPOINT, agency=AGENCY_B)
        tokens.append(await people.token(login))
    body = {"title": "Giao ban tỉnh - xã", "endpoints": [AGENCY_B]}
    resp = await client.post("/api/v1/briefings", json=body, headers=bearer(chair))
    assert resp.status == 201, await resp.text()
    return int((await resp.json())["id"]), chair, tokens


async def _connect(client: Client, bid: int, token: str, device: str = "") -> Peer:
    query = f"?device={device}" if device else ""
    ws = await client.ws_connect(f"/api/v1/briefings/{bid}/signal{query}", headers=bearer(token))
    peer = Peer(ws)
    await until(lambda: peer.seq is not None, "the full roster on join")
    return peer


async def _settled(peers: list[Peer], room: Room) -> None:
    await until(lambda: all(p.seq == room.seq for p in peers), "every delta delivered")


async def _one_join(client: Client, bid: int, token: str, peers: list[Peer], room: Room) -> Peer:
    """Join one more; return it after checking each one already in got exactly one delta."""
    before = [len(p.frames) for p in peers]
    joiner = await _connect(client, bid, token)
    await _settled(peers, room)
    for p, n in zip(peers, before, strict=True):
        got = p.frames[n:]
        assert [(f["type"], f.get("op")) for f, _ in got] == [("delta", "join")], got
    assert len(joiner.roster) == len(peers) + 1
    return joiner


async def test_join_costs_one_small_frame_at_10_and_60_and_idle_costs_nothing(
    client: Client, people: People
) -> None:
    bid, chair_token, tokens = await _briefing(client, people, 62)
    peers = [await _connect(client, bid, chair_token)]
    room = client.app[ROOMS_KEY].rooms[bid]
    try:
        peers += await asyncio.gather(*(_connect(client, bid, t) for t in tokens[:9]))
        await _settled(peers, room)
        at_10 = [p.frames[-1][1] for p in peers]  # for reference below
        joiner = await _one_join(client, bid, tokens[9], peers, room)
        size_10 = {p.frames[-1][1] for p in peers}
        peers.append(joiner)
        peers += await asyncio.gather(*(_connect(client, bid, t) for t in tokens[10:60]))
        await _settled(peers, room)
        assert len(peers) == 61 and len(room.participants) == 61
        joiner = await _one_join(client, bid, tokens[60], peers, room)
        size_60 = {p.frames[-1][1] for p in peers}
        # the same one frame, and its size does not grow with the room (seq has a digit more)
        assert max(size_60) - min(size_10) <= 2, (size_10, size_60, at_10)
        assert max(size_60) < 400
        peers.append(joiner)
        # idle: the room's periodic check finds nothing to tell, and nothing is sent
        counts = [len(p.frames) for p in peers]
        room.announce()
        await asyncio.sleep(1.2)
        assert [len(p.frames) for p in peers] == counts
        # a gap (say, the client lost a frame): it asks, and gets the whole roster again
        await peers[5].send(type="resync")
        await until(lambda: len(peers[5].of("roster")) == 2, "the resync")
        again = peers[5].of("roster")[-1]
        assert again["seq"] == room.seq and len(again["participants"]) == 62
        assert {p["id"] for p in again["participants"]} == set(peers[0].roster)
        assert all(
            len(p.frames) == n for p, n in zip(peers, counts, strict=True) if p is not peers[5]
        )
        # a change of one participant is one delta to each, whatever the room's size
        seq = room.seq
        await peers[7].send(type="hand", raised=True)
        await until(lambda: room.seq > seq, "the hand is taken")
        await _settled(peers, room)
        for p, n in zip(peers, counts, strict=True):
            new = [f for f, _ in p.frames[n:] if f["type"] != "roster"]
            assert [(f["type"], f["op"]) for f in new] == [("delta", "update")], (
                peers.index(p),
                p.frames[n - 2 :],
            )
            assert p.roster[peers[7].you]["hand"] is True
    finally:
        for p in peers:
            await p.close()


async def test_rejoin_replaces_at_once_without_a_ghost(client: Client, people: People) -> None:
    bid, chair_token, tokens = await _briefing(client, people, 4)
    peers = [await _connect(client, bid, chair_token)]
    room = client.app[ROOMS_KEY].rooms[bid]
    try:
        for token in tokens[:3]:
            peers.append(await _connect(client, bid, token, device="tab-1"))
        await _settled(peers, room)
        await peers[2].send(type="hand", raised=True)
        await until(lambda: room.participants[peers[2].you].hand, "the hand is taken")
        await _settled(peers, room)
        counts = [len(p.frames) for p in peers]
        old = peers[2]
        # the network dropped: the same device opens a new socket before the old one is closed
        new = await _connect(client, bid, tokens[1], device="tab-1")
        assert (await until_frame(old, "replaced"))["reason"] == "rejoin"
        await until(lambda: old.ws.closed, "the old socket is closed")
        assert old.ws.close_code == REPLACED_CODE
        assert len(room.participants) == 4 and room.participants[new.you] is not None
        assert len(new.roster) == 4 and new.roster[new.you]["hand"] is True  # the hand carries
        await _settled([peers[0], peers[1], peers[3]], room)
        for k in (0, 1, 3):  # nobody left or joined: the entry did not change, so no frame
            assert [f["type"] for f, _ in peers[k].frames[counts[k] :]] == []
            assert len(peers[k].roster) == 4
        peers[2] = new
        # another device of the same person takes the seat over, and says so
        other = await _connect(client, bid, tokens[1], device="phone")
        assert (await until_frame(new, "replaced"))["reason"] == "other_device"
        await until(lambda: new.ws.closed, "the other device's socket is closed")
        peers[2] = other
        assert len(room.participants) == 4
        await other.send(type="ping")
        await until_frame(other, "pong")
    finally:
        for p in peers:
            await p.close()


async def until_frame(peer: Peer, kind: str) -> dict[str, Any]:
    await until(lambda: bool(peer.of(kind)), f"a {kind} frame")
    return peer.of(kind)[-1]


async def test_rejoin_with_media_tears_the_old_peer_down_in_one_update(room: Room) -> None:
    """Real aiortc peers: the old peer is closed and the others see one ``update`` (not
    connected any more), never a leave and a join."""
    watcher = Endpoint("xa-watch", audio_slots=1, video_slots=0, decode=False)
    hall = Endpoint("xa-hall", audio_slots=1, video_slots=1, decode=False)
    try:
        await join(room, watcher)
        await join(room, hall)
        old = room.participants["xa-hall"]
        old_peer = old.peer
        assert isinstance(old_peer, ServerPeer)
        closed: list[tuple[int, str]] = []
        old.close = lambda code, reason: closed.append((code, reason))
        before = len(watcher.signals)
        again = Participant(
            "xa-hall", "xa-hall", "", chair=False, endpoint=True, send=hall.signals.append
        )
        assert room.join(again) is old
        assert closed == [(REPLACED_CODE, "replaced: rejoin")]
        assert old.peer is None
        await until(lambda: old_peer.pc.connectionState == "closed", "the old peer closed")
        deltas = [f for f in watcher.signals[before:] if f.type == "delta"]
        assert [(f.data["op"], f.data["participant"]["id"]) for f in deltas] == [
            ("update", "xa-hall")
        ]
        assert deltas[0].data["participant"]["connected"] is False
        assert list(room.participants) == ["xa-watch", "xa-hall"]
    finally:
        await watcher.close()
        await hall.close()


def _raw_socket(port: int, path: str, token: str) -> socket.socket:
    """A WebSocket client that reads nothing: a tiny receive buffer, the handshake only."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def _read_frames(sock: socket.socket, until_kind: str, count: int = 1) -> list[dict[str, Any]]:
    """Read (blocking) the server's unmasked text frames up to the ``count``-th ``until_kind``."""
    out: list[dict[str, Any]] = []

    def exact(n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            assert chunk, "the server closed the socket"
            buf += chunk
        return buf

    while True:
        first, second = exact(2)
        size = second & 0x7F
        if size == 126:
            size = struct.unpack("!H", exact(2))[0]
        elif size == 127:
            size = struct.unpack("!Q", exact(8))[0]
        payload = exact(size)
        if first & 0x0F != 1:
            continue
        out.append(json.loads(payload))
        if sum(f["type"] == until_kind for f in out) == count:
            return out


async def test_a_slow_reader_resyncs_instead_of_queueing(client: Client, people: People) -> None:
    bid, chair_token, tokens = await _briefing(client, people, 2)
    chair = await _connect(client, bid, chair_token)
    room = client.app[ROOMS_KEY].rooms[bid]
    rooms: Rooms = client.app[ROOMS_KEY]
    port = client.server.port
    assert port is not None
    slow = await asyncio.to_thread(_raw_socket, port, f"/api/v1/briefings/{bid}/signal", tokens[0])
    busy = await _connect(client, bid, tokens[1])
    try:
        await until(lambda: len(rooms.outboxes) == 3, "three sockets")
        slow_p = next(p for i, p in room.participants.items() if i not in (chair.you, busy.you))
        ws, outbox = next((w, o) for w, o in rooms.outboxes.items() if o.put == slow_p.send)
        # a slow link: the kernel holds little for it (so the test need not send megabytes)
        ws.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
        me = room.participants[busy.you]
        for k in range(12000):  # churn: one delta each, to everyone (the shared copy untouched)
            me.hand = k % 2 == 0
            room.announce()
            if k % 200 == 0:
                await asyncio.sleep(0.01)
            if outbox.resyncs:
                break
        assert outbox.resyncs == 1, "the slow reader fell behind"
        assert outbox.peak <= MAX_QUEUED + 1024  # bounded: at most one frame over the bound
        for k in range(50):  # while behind, nothing more piles up
            me.hand = k % 2 == 0
            room.announce()
        assert outbox.queued <= MAX_QUEUED
        await _settled([chair, busy], room)  # the readers got every delta, no gap
        frames = await asyncio.to_thread(_read_frames, slow, "roster", 2)
        # it drains: first the deltas sent before it fell behind, then one whole roster
        rosters = [f for f in frames if f["type"] == "roster"]
        assert len(rosters) == 2  # the one of its join, and the resync
        deltas = [f["seq"] for f in frames if f["type"] == "delta"]
        assert deltas == list(range(deltas[0], deltas[0] + len(deltas)))
        assert rosters[-1]["seq"] > deltas[-1] + 1  # the dropped ones are made up for
        entry = next(p for p in rosters[-1]["participants"] if p["id"] == busy.you)
        assert len(rosters[-1]["participants"]) == 3
        me.hand = not entry["hand"]
        room.announce()
        after = await asyncio.to_thread(_read_frames, slow, "delta")
        assert after[-1]["seq"] == rosters[-1]["seq"] + 1  # deltas go on from the roster
    finally:
        slow.close()
        await chair.close()
        await busy.close()


async def _g711_offer() -> str:
    """An offer in a codec the forwarding unit does not carry (H.264 it now does)."""
    pc = RTCPeerConnection()
    t = pc.addTransceiver("audio", direction="recvonly")
    caps = RTCRtpSender.getCapabilities("audio")
    t.setCodecPreferences([c for c in caps.codecs if c.mimeType == "audio/PCMU"])
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    await pc.close()
    return str(sdp)


async def test_bad_frames_get_errors_and_the_room_goes_on(client: Client, people: People) -> None:
    bid, chair_token, tokens = await _briefing(client, people, 1)
    chair = await _connect(client, bid, chair_token)
    hall = await _connect(client, bid, tokens[0])
    room = client.app[ROOMS_KEY].rooms[bid]
    try:
        bad = [
            ("{not json", "message.json"),
            ('{"type": "explode"}', "message.type"),
            ('{"type": "hand", "raised": 1}', "message.field"),
            ('{"type": "quality", "rtt_ms": "fast", "loss": 0, "fps": 0}', "message.field"),
            (json.dumps({"type": "offer", "sdp": "x" * 200_000}), "message.too_large"),
            (json.dumps({"type": "offer", "sdp": await _g711_offer()}), "sdp.codec"),
        ]
        for raw, code in bad:
            n = len(hall.of("error"))
            await hall.ws.send_str(raw)

            def answered(n: int = n) -> bool:
                return len(hall.of("error")) > n

            await until(answered, f"an error for {code}")
            error = hall.of("error")[-1]
            assert error["code"] == code and error["detail_vi"], (raw[:40], error)
        # a flood of quality reports: the latest counts, one error a second, no frame to others
        chair_count = len(chair.frames)
        for k in range(40):
            await hall.send(type="quality", rtt_ms=float(k), loss=0.0, fps=25.0)
        await hall.send(type="ping")
        await until(lambda: bool(hall.of("pong")), "pong after the flood")
        assert room.participants[hall.you].client_rtt_ms == 39.0
        rate = [e for e in hall.of("error") if e["code"] in ("quality.rate", "message.rate")]
        assert 1 <= len(rate) <= 3
        assert len(chair.frames) == chair_count
        # a flood of resyncs is coalesced: not one full roster each
        rosters = len(hall.of("roster"))
        for _ in range(10):
            await hall.send(type="resync")
        await until(lambda: len(hall.of("roster")) > rosters, "a resync")
        await asyncio.sleep(1.3)
        assert len(hall.of("roster")) - rosters <= 2
        # a frame over the socket's limit closes that socket only (1009)
        await hall.ws.send_str("x" * (1024 * 1024 + 10))
        await until(lambda: hall.ws.closed, "the huge frame closes the socket")
        assert hall.ws.close_code == 1009
        await until(lambda: hall.you not in room.participants, "it left")
        again = await _connect(client, bid, tokens[0])
        await again.send(type="hand", raised=True)
        await until(lambda: chair.roster.get(again.you, {}).get("hand") is True, "room goes on")
        await again.close()
    finally:
        await chair.close()
        await hall.close()


MEDIA_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
]
# hand the page's own socket handler a frame, as if the server had sent it
INJECT = """(frame) => {
  const s = window.lienThongBriefing.state;
  const seq = s.seq + frame.skip;
  delete frame.skip;
  s.ws.onmessage({ data: JSON.stringify({ ...frame, seq }) });
}"""


@pytest.mark.browser
@pytest.mark.slow
def test_the_browser_applies_deltas_and_resyncs_after_a_gap(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    env = {"LIENTHONG_BRIEFINGS_ICE_ADDRESSES": "127.0.0.1"}
    with (
        live_server(tmp_path_factory.mktemp("live-signaling"), env) as server,
        chromium(args=MEDIA_ARGS) as browser,
    ):
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server.url + "/login")
        page.fill("input[name=login]", "chutich.tinh")
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(server.url + "/")
        page.goto(server.url + "/briefings")
        page.fill("input[name=title]", "Giao ban thử tín hiệu")
        page.click("form[data-testid=create-briefing] button[type=submit]")
        page.wait_for_url(re.compile(r".*/briefings/\d+$"))
        page.get_by_test_id("join").click()
        page.wait_for_function("() => window.lienThongBriefing.state.seq !== null")
        me = page.evaluate("() => window.lienThongBriefing.state.me")
        assert page.locator(f'#roster li[data-participant="{me}"]').count() == 1
        entry = {
            "id": "u999",
            "name": "Xã Thử",
            "agency_code": "",
            "chair": False,
            "endpoint": True,
            "connected": False,
            "audio_muted": False,
            "video_muted": False,
            "hand": True,
            "audio_only": False,
        }
        # the next number: applied (a new entry, its hand shown)
        page.evaluate(INJECT, {"type": "delta", "skip": 1, "op": "join", "participant": entry})
        row = page.locator('#roster li[data-participant="u999"]')
        assert row.count() == 1 and row.get_attribute("data-hand") == "true"
        # one already seen: ignored
        page.evaluate(INJECT, {"type": "delta", "skip": 0, "op": "leave", "id": "u999"})
        assert row.count() == 1
        # a gap: the client asks for the whole roster, and the server's has no u999
        page.evaluate(INJECT, {"type": "delta", "skip": 3, "op": "leave", "id": me})
        page.wait_for_function(
            "() => !document.querySelector('#roster li[data-participant=\"u999\"]')"
        )
        assert page.evaluate("() => window.lienThongBriefing.state.seq") is not None
        assert page.locator(f'#roster li[data-participant="{me}"]').count() == 1
        assert errors == []


async def test_speaker_changes_are_coalesced_latest_wins() -> None:
    room = Room(1, "Giao ban thử", on_empty=lambda _r: None)
    frames: list[ServerFrame] = []
    room.join(Participant("xa-a", "Xã A", "", chair=False, endpoint=True, send=frames.append))
    room.speaker = "xa-1"
    room.tell_speaker()
    for who in ("xa-2", "xa-3", "xa-4"):  # within the interval: nothing more is sent
        room.speaker = who
        room.tell_speaker()
    room._speaker_at -= SPEAKER_INTERVAL  # the interval is over (no waiting in a test)
    room.tell_speaker()
    room.tell_speaker()
    said = [f.data["id"] for f in frames if f.type == "speaker"]
    assert said == ["xa-1", "xa-4"]
    await room.close()
