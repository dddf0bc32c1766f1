"""A briefing's room and the shared copy of its state: our rows written, the others' read back.

Each worker writes the rows of the participants it hosts (:meth:`SharedRoom._host`) and their link
quality; when another worker changed the room it re-reads the copy (coalesced) and makes its own
room agree: :func:`.sync.plan` decides what to change, :meth:`SharedRoom.apply_plan` changes it.
"""

from __future__ import annotations

import asyncio
import json
import logging

from meetings.briefings.live import LiveRow, LiveSnapshot, host_txn, read_live
from meetings.briefings.messages import server_frame
from meetings.briefings.sfu import sync
from meetings.briefings.sfu.chair import ChairedRoom
from meetings.briefings.sfu.participant import Participant, discard
from meetings.briefings.sfu.pipe import Cluster
from meetings.briefings.sfu.remote import RemotePeer

log = logging.getLogger(__name__)


class SharedRoom(ChairedRoom):
    """A room kept in agreement with the shared copy of its state."""

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
                {
                    "kind": s.kind,
                    "stream": s.stream,
                    "clock": s.clock_rate,
                    "level": s.level_id,
                    "codec": s.codec,
                }
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

    def _unhost(self, p: Participant) -> None:
        """Write that ``p`` left this worker (its row stays: a rejoin finds its hand and mute)."""
        if self.writer is not None:
            self.writer.fields(
                p.id, host=self.host_key(), worker=None, connected=False, streams="[]"
            )

    def _save_quality(self) -> None:
        """RTT and loss of our participants, for a chair's roll call on another worker."""
        if self.writer is None:
            return
        for p in self.participants.values():
            if p.remote or p.peer is None or not p.peer.connected:
                continue
            info = p.info()
            self.writer.quality(p.id, self.host_key(), info.rtt_ms, info.loss)

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
        self.apply_plan(sync.plan(self.view(state), state))
        self._apply_walls(state)

    def _apply_walls(self, state: LiveSnapshot) -> None:
        """The chair chose the walls or their page on another worker: ours follow."""
        changed = False
        for pid in set(self.walls) ^ set(state.walls):
            on = pid in state.walls
            if on:
                self.walls[pid] = None
            else:
                del self.walls[pid]
            p = self.participants.get(pid)
            if p is not None:
                p.send(server_frame("wall", on=on))
            changed = True
        if state.wall_page != self.wall_page:
            self.wall_page, changed = state.wall_page, True
        if changed:
            self.reassign()

    def view(self, state: LiveSnapshot) -> sync.RoomView:
        """This room as :func:`.sync.plan` sees it, with the liveness of ``state``'s workers."""
        cluster = self.cluster
        alive = frozenset(
            (r.worker, r.epoch)
            for r in state.rows
            if r.worker is not None and cluster is not None and cluster.alive(r.worker, r.epoch)
        )
        return sync.RoomView(
            loaded=self.loaded,
            recording=self.recording,
            can_record=self.recordings is not None,
            chair_is_local=self.chair_is_local(),
            spotlight=self.spotlight,
            ended=self.ended,
            host=self.host_key(),
            multi=cluster is not None and cluster.multi,
            alive=alive,
            members=tuple(_member(p) for p in self.participants.values()),
        )

    def apply_plan(self, plan: sync.SyncPlan) -> None:
        """Carry out what :func:`.sync.plan` decided, in its order."""
        self.loaded = True
        self.snapshot = plan.state
        if plan.recording is not None:
            self.recording = plan.recording
        if plan.tell_recording:
            self.broadcast(server_frame("recording", on=self.recording))
        if plan.spotlight_changed:
            self.spotlight = plan.state.spotlight
            target = self.participants.get(plan.floor_to or "")
            if target is not None:
                target.send(server_frame("floor"))
            if plan.tell_spotlight:
                self.broadcast(server_frame("spotlight", id=self.spotlight))
        for step in plan.steps:
            self._apply_step(step)
        for pid in plan.gone:
            if (p := self.participants.get(pid)) is not None:
                self._remove(p)
        if plan.pipe_workers is not None and self.cluster is not None:
            addresses = (self.cluster.address(w) for w in plan.pipe_workers)
            self.pipe_dests[:] = [a for a in addresses if a]
        if plan.end:
            self.close_task(self.end())
        if plan.changed:
            self.reassign()
            self.announce()

    def _apply_step(self, step: sync.Step) -> None:
        if isinstance(step, sync.Remote):
            if self.cluster is not None:
                self._apply_remote(step.row, step.new_peer, self.cluster)
            return
        p = self.participants.get(step.id)
        if p is None:
            return
        if isinstance(step, sync.Own):
            p.muted_by_chair = step.muted_by_chair
            if step.tell_muted:
                p.send(server_frame("muted", by="chair"))
            p.hand = step.hand
        else:
            self._remove(p)
            p.kick("rejoin")  # it came back through another worker

    def _remove(self, p: Participant) -> None:
        del self.participants[p.id]
        self.drop_peer(p)

    def _apply_remote(self, row: LiveRow, new_peer: bool, cluster: Cluster) -> None:
        """Add or update the stand-in of a participant hosted by another worker."""
        p = self.participants.get(row.id)
        if p is None:
            p = Participant(
                id=row.id,
                name=row.name,
                agency_code=row.agency_code,
                chair=row.chair,
                endpoint=row.endpoint,
                send=discard,
                remote=True,
            )
            self.participants[p.id] = p
        peer = p.peer
        if new_peer or not isinstance(peer, RemotePeer):
            if peer is not None:
                self.close_later(peer)
            peer = p.peer = RemotePeer(p.id, row.worker or 0, row.streams, cluster)
        peer.connected = row.connected
        peer.rtt_s = row.rtt_ms / 1000 if row.rtt_ms is not None else None
        p.audio_muted, p.video_muted = row.audio_muted, row.video_muted
        p.muted_by_chair, p.hand, p.audio_only = row.muted_by_chair, row.hand, row.audio_only
        p.client_loss = row.loss


def _member(p: Participant) -> sync.Member:
    """What :func:`.sync.plan` needs of ``p``."""
    peer = p.peer
    return sync.Member(
        id=p.id,
        remote=p.remote,
        audio_muted=p.audio_muted,
        video_muted=p.video_muted,
        muted_by_chair=p.muted_by_chair,
        hand=p.hand,
        audio_only=p.audio_only,
        streams=peer.streams if isinstance(peer, RemotePeer) else None,
        connected=bool(peer and peer.connected),
    )
