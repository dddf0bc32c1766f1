"""One briefing's live room: who is in it, who is seen and heard by whom, the chair's controls.

Selection (last-N): each endpoint's video slots show, in order, the endpoint given the floor
(spotlight), the chair, then the most recently active speakers; its audio slots carry the chair,
the floor and the current speakers.  A slot keeps its source while that source stays selected,
so a new speaker takes a freed slot instead of reshuffling the wall.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from meetings.briefings.live import LiveRow, LiveSnapshot, LiveWriter, host_txn, read_live
from meetings.briefings.messages import ParticipantInfo, ServerFrame, SlotInfo, server_frame
from meetings.briefings.sfu.cascade import RelayPeer
from meetings.briefings.sfu.forwarder import Sink, Source
from meetings.briefings.sfu.participant import Participant, discard
from meetings.briefings.sfu.peer import ServerPeer
from meetings.briefings.sfu.pipe import Address, Cluster
from meetings.briefings.sfu.recorder import HallRecorder
from meetings.briefings.sfu.remote import RemotePeer
from meetings.briefings.sfu.sync import apply_state
from server.db import Database

log = logging.getLogger(__name__)

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
REFRESH_ROUNDS = 3
"""Ticks between re-reads of the shared state when several workers host the room (safety net)."""


class Room:
    """The live state of one briefing in this process."""

    def __init__(
        self,
        briefing_id: int,
        title: str,
        *,
        on_empty: Callable[[Room], None],
        recordings: Path | None = None,
        db: Database | None = None,
        cluster: Cluster | None = None,
    ) -> None:
        self.briefing_id = briefing_id
        self.cluster = cluster
        """The media workers (None: this process alone, as in the bench and unit tests)."""
        self.writer = LiveWriter(db, briefing_id, self._written) if db is not None else None
        """Writes the shared copy of the state (None: memory only)."""
        self._db = db
        self.loaded = False
        self._refreshing: asyncio.Task[None] | None = None
        self._dirty = False
        self.snapshot = LiveSnapshot()
        """The shared state as last read."""
        self.pipe_dests: list[Address] = []
        """Peer workers hosting endpoints of this briefing: our publishers' packets go there."""
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

    def join(self, p: Participant, row: LiveRow | None = None) -> Participant | None:
        """Add ``p``; returns the participant it replaces (the same person's older socket).

        ``row`` is the participant's shared state from before (a rejoin, maybe on another
        worker, or a server restart): the raised hand and the chair's mute carry over (the
        client tells its own mutes again when it rejoins).
        """
        old = self.participants.get(p.id)
        if old is not None:
            self.drop_peer(old)
            if not old.remote:  # a remote one is told by its own worker, which sees the move
                old.send(server_frame("replaced"))
        if row is not None:
            p.hand, p.muted_by_chair = row.hand, row.muted_by_chair
            if p.muted_by_chair:
                p.send(server_frame("muted", by="chair"))
        self.participants[p.id] = p
        if self._ticker is None:
            self._ticker = asyncio.ensure_future(self._tick())
        if not p.remote:
            self._host(p)
        self.broadcast_roster()
        return old

    def _host(self, p: Participant) -> None:
        """Write that this worker hosts ``p`` now, with everything the others need to know."""
        if self.writer is None:
            return
        cluster = self.cluster
        worker, epoch = (cluster.index, cluster.epoch) if cluster else (0, "")
        peer = p.peer
        streams = []
        if peer is not None and peer.connected:
            streams = [
                {"kind": s.kind, "stream": s.stream, "clock": s.clock_rate, "level": s.level_id}
                for s in peer.sources.values()
                if s.stream
            ]
        bid = self.briefing_id
        values = {
            "name": p.name,
            "agency_code": p.agency_code,
            "chair": p.chair,
            "endpoint": p.endpoint,
            "connected": bool(peer and peer.connected),
            "streams": json.dumps(streams),
            "audio_muted": p.audio_muted,
            "video_muted": p.video_muted,
            "muted_by_chair": p.muted_by_chair,
            "hand": p.hand,
            "audio_only": p.audio_only,
        }
        self.writer.put(lambda s: host_txn(s, bid, p.id, worker=worker, epoch=epoch, **values))

    def host_key(self) -> tuple[int, str]:
        return (self.cluster.index, self.cluster.epoch) if self.cluster else (0, "")

    def leave(self, p: Participant) -> None:
        if self.participants.get(p.id) is not p:
            return
        del self.participants[p.id]
        self.drop_peer(p)
        if not p.remote and self.writer is not None:
            self.writer.fields(
                p.id, host=self.host_key(), worker=None, connected=False, streams="[]"
            )
        self.reassign()
        self.broadcast_roster()
        if not any(not q.remote for q in self.participants.values()):
            self._stop_ticker()
            self._on_empty(self)

    async def negotiate(self, p: Participant, offer_sdp: str) -> str:
        """A new offer from ``p``: a fresh peer connection (first join, rejoin or ICE restart)."""
        self.drop_peer(p)
        peer = ServerPeer(p.id, on_connected=self._connected, on_failed=self._failed)
        p.peer = peer
        try:
            answer = await peer.accept(offer_sdp)
        except BaseException:
            if p.peer is peer:
                p.peer = None
            self.close_later(peer)
            raise
        p.audio_only = peer.source("video") is None and not peer.video_sinks
        return answer

    def add_relay(self, relay_id: str, name: str) -> RelayPeer:
        """A cascade link's participant: the upstream hall, republished here as the chair."""
        p = Participant(
            id=relay_id, name=name, agency_code="", chair=True, endpoint=False, send=discard
        )
        self.join(p)
        relay = RelayPeer(relay_id, on_connected=self._connected, on_failed=self._failed)
        p.peer = relay
        return relay

    def drop_peer(self, p: Participant) -> None:
        peer, p.peer = p.peer, None
        if peer is not None:
            self.close_later(peer)
            self.reassign()

    def close_later(self, peer: ServerPeer | RemotePeer) -> None:
        for sink in peer.sinks:
            sink.detach()
        for source in peer.sources.values():
            for sink in list(source.sinks):
                sink.detach()
            if self.cluster is not None and self.cluster.local.get(source.stream) is source:
                self.cluster.forget(source.stream)
        task = asyncio.ensure_future(peer.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _connected(self, peer: ServerPeer) -> None:
        owner = self.participants.get(peer.owner)
        if owner is not None and owner.peer is peer:
            self._publish(peer)
            self._host(owner)
        self.reassign()
        self.broadcast_roster()
        chair = self._chair()
        if self.recording and chair is not None and chair.peer is peer:
            self._record_chair()  # the chair rejoined: go on in a new file

    def _publish(self, peer: ServerPeer) -> None:
        """Name our publisher's streams on the pipe and send them to the peer workers."""
        cluster = self.cluster
        if cluster is None or not cluster.multi:
            return
        for source in peer.sources.values():
            if not source.stream:
                source.stream = secrets.randbits(31) | 1
                cluster.local[source.stream] = source
                if source.kind == "video":
                    source.taps.append(cluster.video_tap(source.stream))
                else:
                    source.taps.append(cluster.tap(source.stream, self.pipe_dests))

    # -- recording -------------------------------------------------------------------------

    def _chair(self) -> Participant | None:
        return next((p for p in self.participants.values() if p.chair), None)

    def start_recording(self) -> Path | None:
        """Record the chair's audio and video (the hall stream) to WebM; the file's path."""
        if self.recordings is None:
            return None
        self.recording = True
        if self.writer is not None:
            self.writer.room(recording=True)
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
        if self.recording and self.writer is not None:
            self.writer.room(recording=False)
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
                self.drop_peer(p)
                self._host(p)
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
                    if p.peer is not None and p.peer.connected and not p.remote:
                        p.peer.feed_sender_reports()
                if rounds % 3 == 0:
                    self._adapt()
                    self._ask_keyframes()
                if rounds % 10 == 0:
                    self.broadcast_roster()
                if self.cluster is not None and self.cluster.multi:
                    if rounds % REFRESH_ROUNDS == 0:
                        self.request_refresh()
                    if rounds % 10 == 5:
                        self._save_quality()
        except asyncio.CancelledError:
            pass

    def _ask_keyframes(self) -> None:
        """Video slots still waiting for a key frame ask again (about once a second).

        Browsers send key frames only when asked, and one asked for may be lost, or sent
        before another worker was on the pipe: a slot must not wait for ever.
        """
        for p in self.participants.values():
            peer = p.peer
            if p.remote or peer is None or not peer.connected:
                continue
            for sink in peer.video_sinks:
                if sink.waiting and sink.source is not None:
                    sink.source.request_keyframe()

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
        if self.writer is not None:
            self.writer.fields(target, muted_by_chair=True)
        self.reassign()
        self.broadcast_roster()

    def mute_all(self) -> None:
        for p in self.participants.values():
            if not p.chair:
                p.muted_by_chair = True
                p.send(server_frame("muted", by="chair"))
        if self.writer is not None:
            self.writer.everyone(except_chair=True, muted_by_chair=True)
        self.reassign()
        self.broadcast_roster()

    def give_floor(self, target: str | None) -> None:
        """Spotlight (trao quyền phát biểu): seen and heard by all, unmuted, hand lowered."""
        self.spotlight = target if target in self.participants else None
        if self.writer is not None:
            self.writer.room(spotlight=self.spotlight)
        if self.spotlight is not None:
            p = self.participants[self.spotlight]
            p.hand = False
            p.muted_by_chair = False
            p.send(server_frame("floor"))
            if self.writer is not None:
                self.writer.fields(p.id, hand=False, muted_by_chair=False)
        self.reassign()
        self.broadcast(server_frame("spotlight", id=self.spotlight))
        self.broadcast_roster()

    def lower_hands(self) -> None:
        for p in self.participants.values():
            p.hand = False
        if self.writer is not None:
            self.writer.everyone(hand=False)
        self.broadcast_roster()

    def roll_call(self) -> list[ParticipantInfo]:
        return [p.info() for p in self.participants.values()]

    def set_self_mute(self, p: Participant, audio: bool, video: bool) -> None:
        was_muted = p.muted_by_chair
        p.audio_muted, p.video_muted = audio, video
        if not audio:
            p.muted_by_chair = False
            self.reassign()
        if self.writer is not None:
            self.writer.fields(
                p.id,
                audio_muted=audio,
                video_muted=video,
                muted_by_chair=p.muted_by_chair and was_muted,
            )
        self.broadcast_roster()

    def set_hand(self, p: Participant, raised: bool) -> None:
        p.hand = raised
        if self.writer is not None:
            self.writer.fields(p.id, hand=raised)
        self.broadcast_roster()

    async def end(self) -> None:
        if self.ended:
            return
        self.ended = True
        if self.writer is not None:
            self.writer.room(ended=True)
        await self.stop_recording()
        self.broadcast(server_frame("ended"))
        for p in list(self.participants.values()):
            self.drop_peer(p)
        self._stop_ticker()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    async def close(self) -> None:
        """Shutdown: finish a recording, close every peer connection.

        The shared copy keeps the recording flag: a restarted server records on when the
        chair comes back.
        """
        recording = self.recording
        writer, self.writer = self.writer, None
        await self.stop_recording()
        self.recording = recording
        for p in list(self.participants.values()):
            self.drop_peer(p)
        self._stop_ticker()
        if self._refreshing is not None:
            self._refreshing.cancel()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        if writer is not None:
            await writer.close()

    def _stop_ticker(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    # -- shared state ----------------------------------------------------------------------

    def _written(self) -> None:
        """A batch of our writes is committed: the other workers re-read the room."""
        if self.cluster is not None and self.cluster.multi:
            self.cluster.notify(self.briefing_id)

    async def refresh(self) -> None:
        """Read the shared copy and make this worker's room agree with it."""
        if self._db is None:
            self.loaded = True
            return
        try:
            snapshot = await read_live(self._db, self.briefing_id)
        except Exception as exc:
            log.warning("live state of briefing %s not read: %r", self.briefing_id, exc)
            return
        if self.writer is not None and self.writer.pending:
            self._dirty = True  # our own writes are not in it yet: read again after them
            return
        self.apply(snapshot)

    def request_refresh(self) -> None:
        """Another worker changed the room: re-read it (coalesced)."""
        if self._refreshing is not None and not self._refreshing.done():
            self._dirty = True
            return
        self._refreshing = asyncio.ensure_future(self._refresh_loop())

    async def _refresh_loop(self) -> None:
        while True:
            self._dirty = False
            await self.refresh()
            if not self._dirty:
                return
            await asyncio.sleep(0.02)

    def apply(self, state: LiveSnapshot) -> None:
        """Make this worker's room agree with the shared ``state`` (see :mod:`.sync`)."""
        apply_state(self, state)

    def chair_is_local(self) -> bool:
        chair = self._chair()
        return chair is not None and not chair.remote

    def close_task(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _save_quality(self) -> None:
        """RTT and loss of our participants, for a chair's roll call on another worker."""
        if self.writer is None:
            return
        for p in self.participants.values():
            if p.remote or p.peer is None or not p.peer.connected:
                continue
            info = p.info()
            self.writer.fields(p.id, host=self.host_key(), rtt_ms=info.rtt_ms, loss=info.loss)

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

    def __init__(
        self,
        recordings: Path | None = None,
        *,
        db: Database | None = None,
        cluster: Cluster | None = None,
    ) -> None:
        self.db = db
        self.cluster = cluster
        if cluster is not None:
            cluster.on_changed = self._changed
        self.rooms: dict[int, Room] = {}
        self._closing: set[asyncio.Task[None]] = set()
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
            room = Room(
                briefing_id,
                title,
                on_empty=self._empty,
                recordings=folder,
                db=self.db,
                cluster=self.cluster,
            )
            self.rooms[briefing_id] = room
        return room

    def _empty(self, room: Room) -> None:
        if self.rooms.get(room.briefing_id) is room:
            del self.rooms[room.briefing_id]
            if any(p.remote for p in room.participants.values()) or room.writer is not None:
                task = asyncio.ensure_future(room.close())
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)

    def _changed(self, briefing_id: int) -> None:
        room = self.rooms.get(briefing_id)
        if room is not None:
            room.request_refresh()

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
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
