"""What a worker's room must change to agree with the shared state: a plan, made without effects.

The room (:meth:`.shared.SharedRoom.apply`) takes a :class:`RoomView` of itself and what
:mod:`meetings.briefings.live` read, asks :func:`plan` what to change, and carries the plan out:
remote participants appear, change or leave; this worker's own participants get what the chair
changed from another worker (mutes, the floor, lowered hands); one whose row now names another
live worker was replaced there.  Nothing here touches the room, so this module does not know it.
"""

from __future__ import annotations

from dataclasses import dataclass

from meetings.briefings.live import LiveRow, LiveSnapshot, StreamInfo


@dataclass(frozen=True, slots=True)
class Member:
    """What the plan needs of one participant in this worker's room."""

    id: str
    remote: bool
    audio_muted: bool
    video_muted: bool
    muted_by_chair: bool
    hand: bool
    audio_only: bool
    streams: tuple[StreamInfo, ...] | None
    """A remote participant's streams as its stand-in peer receives them (None: no stand-in)."""
    connected: bool
    """Whether its stand-in peer counts as connected."""


@dataclass(frozen=True, slots=True)
class RoomView:
    """This worker's room as the plan is made against it."""

    loaded: bool
    """The shared state was applied before (the first time, nobody is told what changed)."""
    recording: bool
    can_record: bool
    """Recording is configured on this worker."""
    chair_is_local: bool
    spotlight: str | None
    ended: bool
    host: tuple[int, str]
    """This worker's index and epoch, as its rows name it."""
    multi: bool
    """Several media workers run (our publishers' streams go over the pipe)."""
    alive: frozenset[tuple[int, str]]
    """The (worker, epoch) pairs of the state's rows that name a running worker."""
    members: tuple[Member, ...]
    """In the room's order."""


@dataclass(frozen=True, slots=True)
class Own:
    """One of ours gets the fields the chair may have changed from another worker."""

    id: str
    muted_by_chair: bool
    hand: bool
    tell_muted: bool
    """It was muted by the chair just now: its client is told."""


@dataclass(frozen=True, slots=True)
class Replaced:
    """One of ours joined again on another live worker: this socket is the older one."""

    id: str


@dataclass(frozen=True, slots=True)
class Remote:
    """A participant of another live worker: added if new, its stand-in updated from ``row``."""

    row: LiveRow
    new_peer: bool
    """Open a fresh stand-in peer (closing any old one): it is new or its streams changed."""


Step = Own | Replaced | Remote


@dataclass(frozen=True, slots=True)
class SyncPlan:
    """What to set, open and close so that the room agrees with ``state``, in this order."""

    state: LiveSnapshot
    recording: bool | None
    """The recording flag's new value (None: unchanged)."""
    tell_recording: bool
    spotlight_changed: bool
    """The floor becomes ``state.spotlight``."""
    floor_to: str | None
    """One of ours given the floor: its client is told."""
    tell_spotlight: bool
    steps: tuple[Step, ...]
    """Row by row, in the state's order."""
    gone: tuple[str, ...]
    """Remote participants no running worker hosts any more: removed."""
    pipe_workers: tuple[int, ...] | None
    """The peer workers our publishers' audio goes to (None: no pipe)."""
    end: bool
    changed: bool
    """The slots are redone and the roster told."""


def plan(view: RoomView, state: LiveSnapshot) -> SyncPlan:
    """What ``view``'s room must change to agree with the shared ``state``."""
    first = not view.loaded
    recording: bool | None = None
    tell_recording = False
    if first:
        recording = state.recording and view.can_record
    elif state.recording != view.recording and not view.chair_is_local:
        recording, tell_recording = state.recording, True
    members = {m.id: m for m in view.members}
    spotlight_changed = state.spotlight != view.spotlight
    target = members.get(state.spotlight or "") if spotlight_changed else None
    floor_to = target.id if target is not None and not target.remote and not first else None
    steps, seen, changed = _rows(view, members, state)
    gone = tuple(m.id for m in view.members if m.remote and m.id not in seen)
    pipe_workers = None
    if view.multi:
        # audio goes to every worker of the briefing; video to those that ask (pipe.py)
        workers = {
            r.worker
            for r in state.rows
            if r.worker is not None and r.worker != view.host[0] and r.id in seen
        }
        pipe_workers = tuple(sorted(workers))
    return SyncPlan(
        state=state,
        recording=recording,
        tell_recording=tell_recording,
        spotlight_changed=spotlight_changed,
        floor_to=floor_to,
        tell_spotlight=spotlight_changed and not first,
        steps=steps,
        gone=gone,
        pipe_workers=pipe_workers,
        end=state.ended and not view.ended,
        changed=changed or spotlight_changed or bool(gone),
    )


def _rows(
    view: RoomView, members: dict[str, Member], state: LiveSnapshot
) -> tuple[tuple[Step, ...], set[str], bool]:
    """The steps for the state's rows, the remote participants seen alive, whether any changed."""
    steps: list[Step] = []
    seen: set[str] = set()
    changed = False
    for row in state.rows:
        m = members.get(row.id)
        if row.worker == view.host[0] and row.epoch == view.host[1]:
            if m is not None and not m.remote and (own := _own(m, row)) is not None:
                steps.append(own)
                changed = True
            continue
        if row.worker is None or (row.worker, row.epoch) not in view.alive:
            continue
        if m is not None and not m.remote:
            steps.append(Replaced(m.id))
            m = None
        seen.add(row.id)
        remote, differs = _remote(m, row)
        steps.append(remote)
        changed |= differs
    return tuple(steps), seen, changed


def _own(m: Member, row: LiveRow) -> Own | None:
    """Fields the chair may have changed from another worker, for a participant of ours."""
    if row.muted_by_chair == m.muted_by_chair and row.hand == m.hand:
        return None
    tell = row.muted_by_chair and not m.muted_by_chair
    return Own(m.id, row.muted_by_chair, row.hand, tell)


def _remote(m: Member | None, row: LiveRow) -> tuple[Remote, bool]:
    """The step for a participant of another worker; whether it changes what the room shows.

    The step is taken even when nothing shown changes: it keeps the row's rtt and loss.
    """
    new_peer = m is None or m.streams is None or m.streams != row.streams
    if m is None or new_peer:
        return Remote(row, new_peer), True
    fields = (row.audio_muted, row.video_muted, row.muted_by_chair, row.hand, row.audio_only)
    ours = (m.audio_muted, m.video_muted, m.muted_by_chair, m.hand, m.audio_only)
    return Remote(row, new_peer=False), m.connected != row.connected or fields != ours
