"""Test endpoints: real aiortc peers that publish a pre-encoded clip and count what they receive."""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import math
import random
import struct
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiortc import (
    AudioStreamTrack,
    MediaStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaPlayer
from aiortc.rtcrtpparameters import RTCRtpCodecCapability
from av import AudioFrame

from meetings.briefings.messages import ServerFrame
from meetings.briefings.sfu.participant import Participant
from meetings.briefings.sfu.room import Room


class Tone(AudioStreamTrack):
    """A 20 ms Opus-sized tone (loud) or silence; aiortc encodes it with the audio level."""

    def __init__(self, loud: bool) -> None:
        super().__init__()
        self.loud = loud
        self._samples = 0
        self._origin: float | None = None

    async def recv(self) -> AudioFrame:
        rate, n = 48000, 960
        if self._origin is None:
            self._origin = time.time()
        wait = self._origin + self._samples / rate - time.time()
        if wait > 0:
            await asyncio.sleep(wait)
        amp = 12000 if self.loud else 0
        pcm = b"".join(
            struct.pack("<h", int(amp * math.sin(2 * math.pi * 330 * (self._samples + k) / rate)))
            for k in range(n)
        )
        frame = AudioFrame(format="s16", layout="mono", samples=n)
        frame.planes[0].update(pcm)
        frame.sample_rate = rate
        frame.pts = self._samples
        frame.time_base = fractions.Fraction(1, rate)
        self._samples += n
        return frame


class Endpoint:
    """One test endpoint (điểm cầu): its peer connection, what it publishes and what it counts."""

    def __init__(
        self,
        name: str,
        *,
        clip: Path | None = None,
        audio: MediaStreamTrack | None = None,
        audio_slots: int = 1,
        video_slots: int = 1,
        decode: bool = True,
        video_codec: str | None = None,
    ) -> None:
        """``video_codec`` ("VP8" or "H264") limits every video m-line to that codec, as a
        device that has only one would offer (None: aiortc's VP8 and H.264)."""
        self.name = name
        # MAX_BUNDLE: with the default BALANCED policy aiortc 1.16 leaves a second m-line of
        # the same kind on a transport it then discards when it applies BUNDLE.
        self.pc = RTCPeerConnection(
            RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        )
        self.player = MediaPlayer(str(clip), decode=False) if clip else None
        if self.player is not None:
            uplink = audio or self.player.audio
            assert uplink is not None and self.player.video is not None
            self.pc.addTransceiver(uplink, direction="sendonly")
            self.pc.addTransceiver(self.player.video, direction="sendonly")
        elif audio is not None:
            self.pc.addTransceiver(audio, direction="sendonly")
        for _ in range(audio_slots):
            self.pc.addTransceiver("audio", direction="recvonly")
        for _ in range(video_slots):
            self.pc.addTransceiver("video", direction="recvonly")
        if video_codec is not None:
            only = only_codec(video_codec)
            for t in self.pc.getTransceivers():
                if t.kind == "video":
                    t.setCodecPreferences(only)
        self.frames: Counter[str] = Counter()
        """Decoded frames by the receiving m-line's mid."""
        self.first_frame: dict[str, float] = {}
        self.rtp: dict[str, list[tuple[int, int]]] = {}
        """(sequence, timestamp) of every RTP packet received, by mid."""
        self.signals: list[ServerFrame] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.decode = decode
        self.pc.on("track", self._on_track)

    def _on_track(self, track: MediaStreamTrack) -> None:
        transceiver = next(t for t in self.pc.getTransceivers() if t.receiver.track is track)
        mid = transceiver.mid or "?"
        receiver: Any = transceiver.receiver
        original = receiver._handle_rtp_packet
        log = self.rtp.setdefault(mid, [])

        async def spy(packet: Any, arrival_time_ms: int) -> None:
            log.append((packet.sequence_number, packet.timestamp))
            await original(packet, arrival_time_ms)

        receiver._handle_rtp_packet = spy
        if self.decode:
            self._tasks.append(asyncio.ensure_future(self._count(track, mid)))

    async def _count(self, track: MediaStreamTrack, mid: str) -> None:
        with contextlib.suppress(Exception):
            while True:
                await track.recv()
                self.frames[mid] += 1
                self.first_frame.setdefault(mid, time.monotonic())

    def mids(self, kind: str) -> list[str]:
        return [
            t.mid or ""
            for t in self.pc.getTransceivers()
            if t.kind == kind and t.direction == "recvonly"
        ]

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        local = self.pc.localDescription
        assert local is not None
        return str(local.sdp)

    async def accept(self, answer: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await self.pc.close()
        if self.player is not None:
            for track in (self.player.audio, self.player.video):
                if track is not None:
                    track.stop()


def only_codec(name: str) -> list[RTCRtpCodecCapability]:
    """aiortc's capabilities for one video codec; H.264 in constrained baseline, mode 1 only."""
    caps = RTCRtpSender.getCapabilities("video")
    assert caps is not None
    return [
        c
        for c in caps.codecs
        if c.name == name
        and (
            name != "H264"
            or (
                c.parameters.get("packetization-mode") == "1"
                and str(c.parameters.get("profile-level-id")).lower() == "42e01f"
            )
        )
    ]


async def join(
    room: Room,
    endpoint: Endpoint,
    *,
    chair: bool = False,
    relay: UdpRelay | None = None,
) -> Participant:
    """Join ``endpoint`` to ``room`` the way the signaling socket does, and wait until connected."""
    p = Participant(
        id=endpoint.name,
        name=endpoint.name,
        agency_code="000.00.00.H98",
        chair=chair,
        endpoint=not chair,
        send=endpoint.signals.append,
    )
    room.join(p)
    answer = await room.negotiate(p, await endpoint.offer())
    if relay is not None:
        answer = await relay.rewrite(answer)
    await endpoint.accept(answer)
    await until(lambda: bool(p.peer and p.peer.connected), f"{endpoint.name} connects")
    return p


async def until(condition: Callable[[], bool], what: str, seconds: float = 10) -> None:
    """Wait for ``condition`` to hold (polled), failing the test after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        if condition():
            return
        assert time.monotonic() < deadline, f"timed out waiting: {what}"
        await asyncio.sleep(0.02)


FRAMES_WITHIN = 30.0
"""How long a count of frames may take to come in.  Generous on purpose: a test counts what
arrives (whole, in order, undecoded on the server), never how fast, so a loaded machine is slow,
not red.  Rates are the benchmark's job (bench/briefing.py)."""


async def frames_reach(ep: Endpoint, wanted: dict[str, int], what: str) -> None:
    """Wait until ``ep`` has decoded at least ``wanted[mid]`` frames on each mid."""
    await until(
        lambda: all(ep.frames[mid] >= n for mid, n in wanted.items()),
        f"{ep.name}: {what} ({dict(ep.frames)} of {wanted})",
        FRAMES_WITHIN,
    )


class _Side(asyncio.DatagramProtocol):
    def __init__(self, on_data: Any) -> None:
        self.on_data = on_data
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.on_data(data, addr)


async def _bind(loop: asyncio.AbstractEventLoop, on_data: Any) -> _Side:
    side = _Side(on_data)
    await loop.create_datagram_endpoint(lambda: side, local_addr=("127.0.0.1", 0))
    return side


class UdpRelay:
    """A user-space UDP relay in front of the server's candidate: drops and delays datagrams.

    The kernel here has no netem; this relay stands in for a lossy link.  ``down_loss`` drops
    server→endpoint datagrams, ``up_loss`` endpoint→server, both after ``delay`` seconds.
    """

    def __init__(
        self, *, down_loss: float = 0.0, up_loss: float = 0.0, delay: float = 0.0, seed: int = 7
    ) -> None:
        self.down_loss = down_loss
        self.up_loss = up_loss
        self.delay = delay
        self.random = random.Random(seed)
        self.dropped = Counter[str]()
        self._front: _Side | None = None
        self._back: _Side | None = None
        self._client: tuple[str, int] | None = None
        self._server: tuple[str, int] | None = None

    async def rewrite(self, answer: str) -> str:
        """Point the answer's candidate at the relay; remember where the server really is."""
        loop = asyncio.get_running_loop()
        lines = answer.split("\r\n")
        out = []
        for line in lines:
            if line.startswith("a=candidate:") and " udp " in line.lower():
                parts = line.split(" ")
                if self._server is None:
                    self._server = (parts[4], int(parts[5]))
                    self._front = await _bind(loop, self._from_client)
                    self._back = await _bind(loop, self._from_server)
                if (parts[4], int(parts[5])) != self._server:
                    continue
                assert self._front is not None and self._front.transport is not None
                host, port = self._front.transport.get_extra_info("sockname")[:2]
                parts[4], parts[5] = host, str(port)
                line = " ".join(parts)
            out.append(line)
        return "\r\n".join(out)

    def _pass(self, loss: float, direction: str) -> bool:
        if loss and self.random.random() < loss:
            self.dropped[direction] += 1
            return False
        return True

    def _from_client(self, data: bytes, addr: tuple[str, int]) -> None:
        self._client = addr
        # STUN keeps going so that ICE does not give up; media datagrams take the loss
        if data[0] >= 128 and not self._pass(self.up_loss, "up"):
            return
        self._later(self._back, data, self._server)

    def _from_server(self, data: bytes, addr: tuple[str, int]) -> None:
        if data[0] >= 128 and not self._pass(self.down_loss, "down"):
            return
        self._later(self._front, data, self._client)

    def _later(self, side: _Side | None, data: bytes, addr: tuple[str, int] | None) -> None:
        if side is None or side.transport is None or addr is None:
            return
        transport = side.transport
        if self.delay:
            asyncio.get_running_loop().call_later(self.delay, transport.sendto, data, addr)
        else:
            transport.sendto(data, addr)

    def close(self) -> None:
        for side in (self._front, self._back):
            if side is not None and side.transport is not None:
                side.transport.close()


def keyframe_requests(ep: Endpoint) -> list[int]:
    """Count what the publisher's video sender is asked for (PLI/FIR relayed by the server)."""
    asked = [0]
    sender: Any = next(t.sender for t in ep.pc.getTransceivers() if t.kind == "video")
    original = sender._send_keyframe

    def spy() -> None:
        asked[0] += 1
        original()

    sender._send_keyframe = spy
    return asked
