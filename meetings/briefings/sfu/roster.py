"""The state of one briefing's live room and what everyone in it is told.

:class:`Roster` is the bottom of :class:`~.room.Room`: every field of the room, the fan-out of
frames to its participants, the redoing of slots (:mod:`.selection`) and the closing of peers.
The layers above it each add one concept: the chair's controls (:mod:`.chair`), the shared copy
of the state (:mod:`.shared`), membership and the media clock (:mod:`.room`).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from meetings.briefings.live import LiveSnapshot, LiveWriter
from meetings.briefings.messages import (
    ParticipantInfo,
    RosterEntry,
    ServerFrame,
    WallState,
    server_frame,
)
from meetings.briefings.sfu import selection, wall
from meetings.briefings.sfu.participant import Participant
from meetings.briefings.sfu.peer import ServerPeer
from meetings.briefings.sfu.pipe import Address, Cluster
from meetings.briefings.sfu.recorder import HallRecorder
from meetings.briefings.sfu.remote import RemotePeer
from server.db import Database

SPEAKER_INTERVAL = 1.0
"""Seconds between two ``speaker`` frames of a room: changes in between are coalesced."""


class Roster:
    """Who is in one briefing's room in this process, the room's state, and the fan-out."""

    def __init__(
        self,
        briefing_id: int,
        title: str,
        *,
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
        self.walls: dict[str, WallState | None] = {}
        """The hall's walls (màn hình hội trường) by participant id, with what each was last told;
        kept across a wall's rejoin.  This worker's own state: not in the shared copy."""
        self.wall_page = 1
        """The page every wall shows (1: the first :data:`~.wall.WALL_SIZE` communes)."""
        self.invited: dict[str, str] = {}
        """Invited communes' halls, agency code to name: the wall shows those not joined too."""
        self.seq = 0
        """The roster's sequence number: one more for each ``delta`` frame."""
        self._announced: dict[str, RosterEntry] = {}
        """The roster as the last ``delta`` left it (what a full ``roster`` frame shows)."""
        self._speaker_told: str | None = None
        self._speaker_at = -SPEAKER_INTERVAL
        self._ticker: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()

    def _written(self) -> None:
        """A batch of our writes is committed: the other workers re-read the room."""
        if self.cluster is not None and self.cluster.multi:
            self.cluster.notify(self.briefing_id)

    def host_key(self) -> tuple[int, str]:
        """This worker's index and epoch, as the rows of the participants it hosts name it."""
        return (self.cluster.index, self.cluster.epoch) if self.cluster else (0, "")

    def _chair(self) -> Participant | None:
        return next((p for p in self.participants.values() if p.chair), None)

    def chair_is_local(self) -> bool:
        """Whether this worker hosts the chair (its word on the recording is the final one)."""
        chair = self._chair()
        return chair is not None and not chair.remote

    def roll_call(self) -> list[ParticipantInfo]:
        return [p.info() for p in self.participants.values()]

    # -- fan-out ---------------------------------------------------------------------------

    def broadcast(self, frame: ServerFrame) -> None:
        for p in self.participants.values():
            p.send(frame)

    def announce(self, exclude: Participant | None = None) -> None:
        """Tell everyone (but ``exclude``) what changed in the roster, one ``delta`` each.

        Whatever called it, only participants whose entry changed since the last call are sent,
        so a frame costs the same whether the room holds 10 endpoints or 170.
        """
        current = {pid: p.entry() for pid, p in self.participants.items()}
        frames: list[ServerFrame] = []
        for pid in [pid for pid in self._announced if pid not in current]:
            self.seq += 1
            frames.append(server_frame("delta", seq=self.seq, op="leave", id=pid))
        for pid, entry in current.items():
            before = self._announced.get(pid)
            if before != entry:
                self.seq += 1
                op = "join" if before is None else "update"
                frames.append(server_frame("delta", seq=self.seq, op=op, participant=entry))
        self._announced = current
        for frame in frames:
            for p in self.participants.values():
                if p is not exclude:
                    p.send(frame)
        if frames and self.walls:
            self.refresh_walls()  # who is connected changed what the walls show

    def roster_frame(self) -> ServerFrame:
        """The whole roster at the current sequence number (on join and on resync)."""
        self.announce()
        return server_frame(
            "roster",
            seq=self.seq,
            participants=list(self._announced.values()),
            spotlight=self.spotlight,
            speaker=self.speaker,
        )

    def tell_speaker(self) -> None:
        """Send the active speaker if it changed, at most once per :data:`SPEAKER_INTERVAL`."""
        now = time.monotonic()
        if self.speaker == self._speaker_told or now - self._speaker_at < SPEAKER_INTERVAL:
            return
        self._speaker_told, self._speaker_at = self.speaker, now
        self.broadcast(server_frame("speaker", id=self.speaker))

    def reassign(self) -> None:
        """Recompute every subscriber's slots and tell those whose slots changed."""
        told = selection.reassign(self.participants.values(), self.spotlight, self.walls)
        self.refresh_walls(told)

    def refresh_walls(self, told: set[str] | None = None) -> None:
        """Redo the walls' pages (a page chosen, a commune connected or gone)."""
        wall.refresh(
            self.participants.values(), self.walls, self.wall_page, self.invited, told or ()
        )

    def slots_frame(self, sub: Participant) -> ServerFrame:
        if sub.id in self.walls:
            return wall.slots_frame(sub, self.walls[sub.id])
        return selection.slots_frame(sub)

    def expect(self, invited: dict[str, str]) -> None:
        """The briefing's invited halls (agency code to name), for the walls' roll call."""
        if invited != self.invited:
            self.invited = dict(invited)
            self.refresh_walls()

    # -- peers -----------------------------------------------------------------------------

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

    def close_task(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _stop_ticker(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
