"""The other half of :class:`~.room.Room`: make a worker's room agree with the shared state.

Called with what :mod:`meetings.briefings.live` read: remote participants appear, change or
leave; this worker's own participants get what the chair changed from another worker (mutes,
the floor, lowered hands); one whose row now names another live worker was replaced there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from meetings.briefings.live import LiveRow, LiveSnapshot
from meetings.briefings.messages import server_frame
from meetings.briefings.sfu.participant import Participant, discard
from meetings.briefings.sfu.pipe import Cluster
from meetings.briefings.sfu.remote import RemotePeer

if TYPE_CHECKING:
    from meetings.briefings.sfu.room import Room


def apply_state(room: Room, state: LiveSnapshot) -> None:
    """Make this worker's ``room`` agree with the shared ``state``."""
    first = not room.loaded
    room.loaded = True
    room.snapshot = state
    cluster = room.cluster
    changed = False
    if first:
        room.recording = state.recording and room.recordings is not None
    elif state.recording != room.recording and not room.chair_is_local():
        room.recording = state.recording
        room.broadcast(server_frame("recording", on=state.recording))
    if state.spotlight != room.spotlight:
        room.spotlight = state.spotlight
        target = room.participants.get(state.spotlight or "")
        if target is not None and not target.remote and not first:
            target.send(server_frame("floor"))
        if not first:
            room.broadcast(server_frame("spotlight", id=room.spotlight))
        changed = True
    seen: set[str] = set()
    for row in state.rows:
        p = room.participants.get(row.id)
        ours = row.worker == room.host_key()[0] and row.epoch == room.host_key()[1]
        if ours:
            if p is not None and not p.remote:
                changed |= _apply_own(p, row)
            continue
        alive = cluster is not None and cluster.alive(row.worker, row.epoch)
        if p is not None and not p.remote and alive:
            # the same person joined on another worker: this socket is the older one
            del room.participants[p.id]
            room.drop_peer(p)
            p.send(server_frame("replaced"))
            changed = True
            p = None
        if alive and cluster is not None and row.worker is not None:
            seen.add(row.id)
            changed |= _apply_remote(room, p, row, cluster)
    for p in list(room.participants.values()):
        if p.remote and p.id not in seen:
            del room.participants[p.id]
            room.drop_peer(p)
            changed = True
    if cluster is not None and cluster.multi:
        workers = {
            r.worker
            for r in state.rows
            if r.worker is not None and r.worker != cluster.index and r.id in seen
        }
        # audio goes to every worker of the briefing; video to those that ask (pipe.py)
        room.pipe_dests[:] = [a for w in sorted(workers) if (a := cluster.address(w))]
    if state.ended and not room.ended:
        room.close_task(room.end())
    if changed:
        room.reassign()
        room.broadcast_roster()


def _apply_own(p: Participant, row: LiveRow) -> bool:
    """Fields the chair may have changed from another worker, for a participant of ours."""
    changed = False
    if row.muted_by_chair != p.muted_by_chair:
        p.muted_by_chair = row.muted_by_chair
        if row.muted_by_chair:
            p.send(server_frame("muted", by="chair"))
        changed = True
    if row.hand != p.hand:
        p.hand = row.hand
        changed = True
    return changed


def _apply_remote(room: Room, p: Participant | None, row: LiveRow, cluster: Cluster) -> bool:
    changed = False
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
        room.participants[p.id] = p
        changed = True
    peer = p.peer
    if not isinstance(peer, RemotePeer) or peer.streams != row.streams:
        if peer is not None:
            room.close_later(peer)
        peer = RemotePeer(p.id, row.worker or 0, row.streams, cluster)
        p.peer = peer
        changed = True
    if peer.connected != row.connected:
        peer.connected = row.connected
        changed = True
    peer.rtt_s = row.rtt_ms / 1000 if row.rtt_ms is not None else None
    fields = (
        row.audio_muted,
        row.video_muted,
        row.muted_by_chair,
        row.hand,
        row.audio_only,
    )
    if fields != (p.audio_muted, p.video_muted, p.muted_by_chair, p.hand, p.audio_only):
        p.audio_muted, p.video_muted, p.muted_by_chair, p.hand, p.audio_only = fields
        changed = True
    p.client_loss = row.loss
    return changed
