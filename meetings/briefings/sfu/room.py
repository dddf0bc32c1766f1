"""One briefing's live room in this process, and every room of the process.

:class:`Room` is built in layers, each one concept and each calling only those below it:
:mod:`.roster` (the room's state and what everyone is told), :mod:`.chair` (the chair's
controls), :mod:`.shared` (the shared copy of the state across media workers) and, here,
membership, peer connections and the media clock (voice activity, weak links, key frames).
Who is seen and heard by whom is :mod:`.selection`.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from meetings.briefings.live import LiveRow
from meetings.briefings.messages import server_frame
from meetings.briefings.sfu import selection
from meetings.briefings.sfu.cascade import RelayPeer
from meetings.briefings.sfu.participant import Participant, discard
from meetings.briefings.sfu.peer import ServerPeer
from meetings.briefings.sfu.pipe import Cluster
from meetings.briefings.sfu.shared import SharedRoom
from server.db import Database

SPEAKER_TICK = 0.3
"""Seconds between voice-activity decisions."""
REFRESH_ROUNDS = 3
"""Ticks between re-reads of the shared state when several workers host the room (safety net)."""


class Room(SharedRoom):
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
        super().__init__(briefing_id, title, recordings=recordings, db=db, cluster=cluster)
        self._on_empty = on_empty
        self.joining = asyncio.Lock()
        """Sockets join in the order they opened (the later of one person's two wins)."""

    # -- membership -----------------------------------------------------------------------

    def join(self, p: Participant, row: LiveRow | None = None) -> Participant | None:
        """Add ``p``; returns the participant it replaces (the same person's older socket).

        A rejoin (the same device, or a device that did not say) takes over at once: the old
        socket is told ``replaced`` and closed, its peer torn down, and the others see one
        ``update`` of the same roster entry, never a leave and a join. ``row`` is the
        participant's shared state from before (a rejoin on another worker, or a server
        restart): the raised hand and the chair's mute carry over.
        """
        old = self.participants.get(p.id)
        if old is not None:
            self.drop_peer(old)
            rejoin = not old.device or not p.device or old.device == p.device
            _carry(old, p, rejoin)
            if not old.remote:  # a remote one is told by its own worker, which sees the move
                old.kick("rejoin" if rejoin else "other_device")
        elif row is not None:
            p.hand, p.muted_by_chair = row.hand, row.muted_by_chair
        if p.muted_by_chair:
            p.send(server_frame("muted", by="chair"))
        if p.id in self.walls:
            p.send(server_frame("wall", on=True))  # a wall's rejoin: still the wall
        self.participants[p.id] = p
        if self._ticker is None:
            self._ticker = asyncio.ensure_future(self._tick())
        if not p.remote:
            self._host(p)
        self.announce(exclude=p)
        p.send(self.roster_frame())
        return old

    def leave(self, p: Participant) -> None:
        if self.participants.get(p.id) is not p:
            return
        del self.participants[p.id]
        self.drop_peer(p)
        if not p.remote:
            self._unhost(p)
        self.reassign()
        self.announce()
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

    def _connected(self, peer: ServerPeer) -> None:
        owner = self.participants.get(peer.owner)
        if owner is not None and owner.peer is peer:
            self._publish(peer)
            self._host(owner)
        self.reassign()
        self.announce()
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

    def _failed(self, peer: ServerPeer) -> None:
        for p in self.participants.values():
            if p.peer is peer:
                self.drop_peer(p)
                self._host(p)
                self.announce()
                return

    # -- media clock ---------------------------------------------------------------------

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
                    if selection.adapt(self.participants.values()):
                        self.reassign()
                    selection.ask_keyframes(self.participants.values())
                if rounds % 10 == 0:
                    self.announce()
                if self.cluster is not None and self.cluster.multi:
                    if rounds % REFRESH_ROUNDS == 0:
                        self.request_refresh()
                    if rounds % 10 == 5:
                        self._save_quality()
        except asyncio.CancelledError:
            pass

    def _detect_speaker(self) -> None:
        best = selection.loudest(self.participants.values())
        if best is not None and best.id != self.speaker:
            self.speaker = best.id
            self.reassign()
        self.tell_speaker()

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


def _carry(old: Participant, new: Participant, rejoin: bool) -> None:
    """What the room knew of ``old`` goes on with ``new``; its own mutes only on a rejoin."""
    new.hand, new.muted_by_chair = old.hand, old.muted_by_chair
    if rejoin:
        new.audio_muted, new.video_muted = old.audio_muted, old.video_muted
        new.audio_only = old.audio_only


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
        self.outboxes: dict[Any, Any] = {}
        """Each open signaling socket's outbox (what waits to be sent to it)."""
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
