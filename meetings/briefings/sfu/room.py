"""One briefing's live room: who is in it, who is seen and heard by whom, the chair's controls.

Selection (last-N): each endpoint's video slots show, in order, the endpoint given the floor
(spotlight), the chair, then the most recently active speakers; its audio slots carry the chair,
the floor and the current speakers.  A slot keeps its source while that source stays selected,
so a new speaker takes a freed slot instead of reshuffling the wall.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meetings.briefings.messages import ParticipantInfo, ServerFrame, SlotInfo, server_frame
from meetings.briefings.sfu.cascade import RelayPeer
from meetings.briefings.sfu.forwarder import Sink, Source
from meetings.briefings.sfu.peer import ServerPeer
from meetings.briefings.sfu.recorder import HallRecorder

log = logging.getLogger(__name__)

Send = Callable[[ServerFrame], None]
SPEAKER_TICK = 0.3
"""Seconds between voice-activity decisions."""
SPEECH_LEVEL = 127 - 55
"""Mean loudness (127 − −dBov) above which an endpoint counts as speaking (−55 dBov)."""
WEAK_LOSS = 0.08
"""Fraction lost in a subscriber's receiver report above which its link counts as weak."""
WEAK_REMB = 300_000
"""Bitrate estimate (REMB, bit/s) below which its link counts as weak."""
RECOVERY = 10.0
"""Seconds of a good link before a weak subscriber gets all its video slots back."""


@dataclass(eq=False)
class Participant:
    """Someone in the room: an endpoint hall or an official, with one signaling socket."""

    id: str
    name: str
    agency_code: str
    chair: bool
    endpoint: bool
    send: Send
    peer: ServerPeer | None = None
    audio_muted: bool = False
    video_muted: bool = False
    muted_by_chair: bool = False
    hand: bool = False
    audio_only: bool = False
    last_spoke: float = 0.0
    joined: float = field(default_factory=time.monotonic)
    client_rtt_ms: float | None = None
    client_loss: float | None = None
    client_fps: float | None = None
    weak: bool = False
    """A weak downlink (3G): only the chair or the floor is sent as video, audio stays whole."""
    good_since: float = 0.0

    def info(self) -> ParticipantInfo:
        peer = self.peer
        rtt = peer.rtt() if peer else None
        return ParticipantInfo(
            id=self.id,
            name=self.name,
            agency_code=self.agency_code,
            chair=self.chair,
            endpoint=self.endpoint,
            connected=bool(peer and peer.connected),
            audio_muted=self.audio_muted or self.muted_by_chair,
            video_muted=self.video_muted,
            hand=self.hand,
            audio_only=self.audio_only,
            rtt_ms=round(rtt * 1000, 1) if rtt is not None else self.client_rtt_ms,
            loss=round(max(peer.loss, peer.uplink_loss()), 4) if peer else self.client_loss,
            fps=self.client_fps,
        )


class Room:
    """The live state of one briefing in this process."""

    def __init__(
        self,
        briefing_id: int,
        title: str,
        *,
        on_empty: Callable[[Room], None],
        recordings: Path | None = None,
    ) -> None:
        self.briefing_id = briefing_id
        self.recordings = recordings
        """Where this briefing's hall recordings go (None: recording is off)."""
        self.recorder: HallRecorder | None = None
        self.recording = False
        self.title = title
        self.participants: dict[str, Participant] = {}
        self.spotlight: str | None = None
        self.speaker: str | None = None
        self.ended = False
        self._on_empty = on_empty
        self._ticker: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()

    # -- membership -----------------------------------------------------------------------

    def join(self, p: Participant) -> Participant | None:
        """Add ``p``; returns the participant it replaces (the same person's older socket)."""
        old = self.participants.get(p.id)
        if old is not None:
            self._drop_peer(old)
            old.send(server_frame("replaced"))
        self.participants[p.id] = p
        if self._ticker is None:
            self._ticker = asyncio.ensure_future(self._tick())
        self.broadcast_roster()
        return old

    def leave(self, p: Participant) -> None:
        if self.participants.get(p.id) is not p:
            return
        del self.participants[p.id]
        self._drop_peer(p)
        if self.spotlight == p.id:
            self.spotlight = None
        self.reassign()
        self.broadcast_roster()
        if not self.participants:
            self._stop_ticker()
            self._on_empty(self)

    async def negotiate(self, p: Participant, offer_sdp: str) -> str:
        """A new offer from ``p``: a fresh peer connection (first join, rejoin or ICE restart)."""
        self._drop_peer(p)
        peer = ServerPeer(p.id, on_connected=self._connected, on_failed=self._failed)
        p.peer = peer
        try:
            answer = await peer.accept(offer_sdp)
        except BaseException:
            if p.peer is peer:
                p.peer = None
            self._close_later(peer)
            raise
        p.audio_only = peer.source("video") is None and not peer.video_sinks
        return answer

    def add_relay(self, relay_id: str, name: str) -> RelayPeer:
        """A cascade link's participant: the upstream hall, republished here as the chair."""
        p = Participant(
            id=relay_id, name=name, agency_code="", chair=True, endpoint=False, send=_discard
        )
        self.join(p)
        relay = RelayPeer(relay_id, on_connected=self._connected, on_failed=self._failed)
        p.peer = relay
        return relay

    def _drop_peer(self, p: Participant) -> None:
        peer, p.peer = p.peer, None
        if peer is not None:
            self._close_later(peer)
            self.reassign()

    def _close_later(self, peer: ServerPeer) -> None:
        for sink in peer.sinks:
            sink.detach()
        for source in peer.sources.values():
            for sink in list(source.sinks):
                sink.detach()
        task = asyncio.ensure_future(peer.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _connected(self, peer: ServerPeer) -> None:
        self.reassign()
        self.broadcast_roster()
        chair = self._chair()
        if self.recording and chair is not None and chair.peer is peer:
            self._record_chair()  # the chair rejoined: go on in a new file

    # -- recording -------------------------------------------------------------------------

    def _chair(self) -> Participant | None:
        return next((p for p in self.participants.values() if p.chair), None)

    def start_recording(self) -> Path | None:
        """Record the chair's audio and video (the hall stream) to WebM; the file's path."""
        if self.recordings is None:
            return None
        self.recording = True
        return self._record_chair()

    def _record_chair(self) -> Path | None:
        self._stop_recorder()
        chair = self._chair()
        if self.recordings is None or chair is None or chair.peer is None:
            return None
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        path = self.recordings / f"hall-{stamp}-{chair.peer.owner}.webm"
        recorder = HallRecorder(path)
        for source in chair.peer.sources.values():
            source.taps.append(recorder.tap(source.kind))
            if source.kind == "video":
                source.request_keyframe()  # browsers send key frames only when asked
        self.recorder = recorder
        self.broadcast(server_frame("recording", on=True))
        return path

    async def stop_recording(self) -> Path | None:
        self.recording = False
        recorder = self._stop_recorder()
        if recorder is None:
            return None
        await asyncio.get_running_loop().run_in_executor(None, recorder.stop)
        self.broadcast(server_frame("recording", on=False))
        return recorder.path

    def _stop_recorder(self) -> HallRecorder | None:
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return None
        for p in self.participants.values():
            for source in p.peer.sources.values() if p.peer else ():
                source.taps = [
                    t for t in source.taps if getattr(t, "recorder", None) is not recorder
                ]
        if self.recording:  # a rejoin: finish the old file in the background
            threading.Thread(target=recorder.stop, daemon=True).start()
        return recorder

    def _failed(self, peer: ServerPeer) -> None:
        for p in self.participants.values():
            if p.peer is peer:
                self._drop_peer(p)
                self.broadcast_roster()
                return

    # -- selection -------------------------------------------------------------------------

    def _ranked(self, kind: str) -> list[Participant]:
        """Publishers in order of who should be seen (video) or heard (audio) first."""
        now = time.monotonic()
        chosen: list[Participant] = []
        ordered = sorted(
            self.participants.values(),
            key=lambda q: (
                q.id != self.spotlight,
                not q.chair,
                -(q.last_spoke if kind == "video" or now - q.last_spoke < 2.0 else 0),
                q.joined,
            ),
        )
        for q in ordered:
            if q.peer is None or not q.peer.connected or q.peer.source(kind) is None:
                continue
            if kind == "audio" and q.muted_by_chair:
                continue
            chosen.append(q)
        return chosen

    def reassign(self) -> None:
        """Recompute every subscriber's slots and tell those whose slots changed."""
        ranked = {kind: self._ranked(kind) for kind in ("audio", "video")}
        for sub in list(self.participants.values()):
            peer = sub.peer
            if peer is None or not peer.connected:
                continue
            changed = False
            for kind, sinks in (("audio", peer.audio_sinks), ("video", peer.video_sinks)):
                sources = [
                    src
                    for q in ranked[kind]
                    if q is not sub and q.peer is not None and (src := q.peer.source(kind))
                ][: len(sinks)]
                if kind == "video" and sub.weak:
                    sources = sources[:1]
                changed |= _fill(sinks, sources)
            if changed:
                sub.send(self.slots_frame(sub))

    def slots_frame(self, sub: Participant) -> ServerFrame:
        peer = sub.peer
        slots = [
            SlotInfo(s.mid, s.kind, s.source.owner if s.source else None)
            for s in (peer.sinks if peer else [])
        ]
        return server_frame("slots", slots=slots)

    async def _tick(self) -> None:
        """Voice activity, sender reports and roster refresh, a few times a second."""
        rounds = 0
        try:
            while True:
                await asyncio.sleep(SPEAKER_TICK)
                rounds += 1
                self._detect_speaker()
                for p in self.participants.values():
                    if p.peer is not None and p.peer.connected:
                        p.peer.feed_sender_reports()
                if rounds % 3 == 0:
                    self._adapt()
                if rounds % 10 == 0:
                    self.broadcast_roster()
        except asyncio.CancelledError:
            pass

    def _adapt(self) -> None:
        """Low bandwidth: a subscriber whose link is weak keeps audio and one picture (the chair)."""
        now = time.monotonic()
        changed = False
        for p in self.participants.values():
            peer = p.peer
            if peer is None or not peer.connected or not peer.video_sinks:
                continue
            remb = peer.remb
            bad = peer.loss > WEAK_LOSS or (remb is not None and remb < WEAK_REMB)
            if bad:
                p.good_since = 0.0
                if not p.weak:
                    p.weak = changed = True
                    p.send(server_frame("weak", on=True))
            elif p.weak:
                p.good_since = p.good_since or now
                if now - p.good_since >= RECOVERY:
                    p.weak, changed = False, True
                    p.send(server_frame("weak", on=False))
        if changed:
            self.reassign()

    def _detect_speaker(self) -> None:
        best: tuple[float, Participant] | None = None
        now = time.monotonic()
        for p in self.participants.values():
            source = p.peer.source("audio") if p.peer else None
            level = source.take_level() if source else None
            if level is None or level < SPEECH_LEVEL or p.muted_by_chair:
                continue
            p.last_spoke = now
            if best is None or level > best[0]:
                best = (level, p)
        if best is not None and best[1].id != self.speaker:
            self.speaker = best[1].id
            self.broadcast(server_frame("speaker", id=self.speaker))
            self.reassign()

    # -- chair -----------------------------------------------------------------------------

    def mute(self, target: str) -> None:
        p = self.participants.get(target)
        if p is None:
            return
        p.muted_by_chair = True
        p.send(server_frame("muted", by="chair"))
        self.reassign()
        self.broadcast_roster()

    def mute_all(self) -> None:
        for p in self.participants.values():
            if not p.chair:
                p.muted_by_chair = True
                p.send(server_frame("muted", by="chair"))
        self.reassign()
        self.broadcast_roster()

    def give_floor(self, target: str | None) -> None:
        """Spotlight (trao quyền phát biểu): seen and heard by all, unmuted, hand lowered."""
        self.spotlight = target if target in self.participants else None
        if self.spotlight is not None:
            p = self.participants[self.spotlight]
            p.hand = False
            p.muted_by_chair = False
            p.send(server_frame("floor"))
        self.reassign()
        self.broadcast(server_frame("spotlight", id=self.spotlight))
        self.broadcast_roster()

    def lower_hands(self) -> None:
        for p in self.participants.values():
            p.hand = False
        self.broadcast_roster()

    def roll_call(self) -> list[ParticipantInfo]:
        return [p.info() for p in self.participants.values()]

    def set_self_mute(self, p: Participant, audio: bool, video: bool) -> None:
        p.audio_muted, p.video_muted = audio, video
        if not audio:
            p.muted_by_chair = False
            self.reassign()
        self.broadcast_roster()

    def set_hand(self, p: Participant, raised: bool) -> None:
        p.hand = raised
        self.broadcast_roster()

    async def end(self) -> None:
        self.ended = True
        await self.stop_recording()
        self.broadcast(server_frame("ended"))
        for p in list(self.participants.values()):
            self._drop_peer(p)
        self._stop_ticker()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    async def close(self) -> None:
        """Shutdown: finish a recording, close every peer connection."""
        await self.stop_recording()
        for p in list(self.participants.values()):
            self._drop_peer(p)
        self._stop_ticker()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    def _stop_ticker(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    # -- fan-out ---------------------------------------------------------------------------

    def broadcast(self, frame: ServerFrame) -> None:
        for p in self.participants.values():
            p.send(frame)

    def broadcast_roster(self) -> None:
        self.broadcast(
            server_frame(
                "roster",
                participants=[p.info() for p in self.participants.values()],
                spotlight=self.spotlight,
                speaker=self.speaker,
            )
        )


def _discard(_frame: ServerFrame) -> None:
    """A relay participant has no signaling socket."""


def _fill(sinks: list[Sink], sources: list[Source]) -> bool:
    """Put ``sources`` into ``sinks``, leaving in place those already showing a chosen source."""
    changed = False
    wanted = list(sources)
    free: list[Sink] = []
    for sink in sinks:
        if sink.source is not None and sink.source in wanted:
            wanted.remove(sink.source)
        else:
            free.append(sink)
    for sink in free:
        new = wanted.pop(0) if wanted else None
        if sink.source is not new:
            sink.attach(new)
            changed = True
    return changed


class Rooms:
    """Every live room of this process, by briefing id."""

    def __init__(self, recordings: Path | None = None) -> None:
        self.rooms: dict[int, Room] = {}
        self.links: dict[int, asyncio.Task[str]] = {}
        """Cascade links to upstream nodes, by local briefing id."""
        self.sockets: set[Any] = set()
        """Open signaling sockets, closed at shutdown."""
        self.recordings = recordings
        """Root of the hall recordings, one folder per briefing (None: off)."""

    def get(self, briefing_id: int, title: str) -> Room:
        room = self.rooms.get(briefing_id)
        if room is None:
            folder = self.recordings / str(briefing_id) if self.recordings else None
            room = Room(briefing_id, title, on_empty=self._empty, recordings=folder)
            self.rooms[briefing_id] = room
        return room

    def _empty(self, room: Room) -> None:
        if self.rooms.get(room.briefing_id) is room:
            del self.rooms[room.briefing_id]

    def stop_link(self, briefing_id: int) -> None:
        task = self.links.pop(briefing_id, None)
        if task is not None:
            task.cancel()

    async def close(self) -> None:
        for briefing_id in list(self.links):
            self.stop_link(briefing_id)
        for room in list(self.rooms.values()):
            with contextlib.suppress(Exception):
                await room.close()
        self.rooms.clear()
