"""The hall's wall (màn hình hội trường): every commune, a page of 25 tiles at a time.

A participant the chair makes the wall (:meth:`~.chair.ChairedRoom.set_wall`) gets, in its video
slots, the communes of the room's current page, tile ``i`` in slot ``i``, in a stable order
(agency code, then name).  A commune that is not on the page fills none of the wall's slots, so
nothing of it is forwarded to the wall.  The communes are the endpoints in the room plus the
invited halls that have not joined yet (shown, not connected, for the roll call).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, MutableMapping
from dataclasses import dataclass

from meetings.briefings.messages import (
    ServerFrame,
    WallState,
    WallTile,
    server_frame,
)
from meetings.briefings.sfu.forwarder import Source
from meetings.briefings.sfu.participant import Participant
from meetings.briefings.sfu.selection import slot_infos

WALL_SIZE = 25
"""Tiles on one page of the wall (5 × 5 on a 1920 × 1080 screen)."""
MAX_WALLS = 4
"""Walls one room may have (a hall with a few screens); each gets the page's video."""


@dataclass(frozen=True, slots=True)
class Commune:
    """One tile's commune: a participant in the room, or an invited hall not yet joined."""

    id: str
    name: str
    agency_code: str
    participant: Participant | None

    def video(self) -> Source | None:
        """Its camera's stream when it is connected and sends one."""
        p = self.participant
        peer = p.peer if p is not None else None
        if peer is None or not peer.connected:
            return None
        return peer.source("video")

    @property
    def connected(self) -> bool:
        p = self.participant
        return bool(p is not None and p.peer is not None and p.peer.connected)


def communes(
    participants: Iterable[Participant], invited: Mapping[str, str], walls: Collection[str]
) -> list[Commune]:
    """Every commune of the briefing, in the wall's order (agency code, name, id)."""
    people = list(participants)
    out = [
        Commune(p.id, p.name, p.agency_code, p)
        for p in people
        if p.endpoint and not p.chair and p.id not in walls
    ]
    here = {p.agency_code for p in people if p.endpoint or p.chair or p.id in walls}
    out += [
        Commune(f"agency:{code}", name, code, None)
        for code, name in invited.items()
        if code not in here
    ]
    out.sort(key=lambda c: (c.agency_code, c.name, c.id))
    return out


def page_of(entries: list[Commune], page: int, size: int) -> tuple[int, int, list[Commune]]:
    """The page (clamped to the last one), the number of pages, and the page's communes."""
    size = max(1, size)
    pages = max(1, -(-len(entries) // size))
    page = min(max(1, page), pages)
    return page, pages, entries[(page - 1) * size : page * size]


def fill(sub: Participant, entries: list[Commune], page: int) -> tuple[bool, WallState | None]:
    """Put the page's communes into ``sub``'s video slots, tile ``i`` in slot ``i``.

    Slots past the page (a wall that negotiated more than :data:`WALL_SIZE`) stay empty.
    Returns whether a slot changed, and what the wall shows now (None without a peer).
    """
    peer = sub.peer
    if peer is None:
        return False, None
    sinks = peer.video_sinks
    size = min(WALL_SIZE, len(sinks)) or WALL_SIZE
    page, pages, shown = page_of(entries, page, size)
    changed = False
    tiles: list[WallTile] = []
    for i, sink in enumerate(sinks):
        commune = shown[i] if i < len(shown) and i < size else None
        source = commune.video() if commune is not None else None
        if sink.source is not source:
            sink.attach(source)
            changed = True
        if commune is not None:
            mid = sink.mid if source is not None else None
            tiles.append(
                WallTile(commune.id, commune.name, commune.agency_code, commune.connected, mid)
            )
    for commune in shown[len(tiles) :]:  # no peer slots yet: the names still show
        tiles.append(
            WallTile(commune.id, commune.name, commune.agency_code, commune.connected, None)
        )
    state = WallState(
        page=page,
        pages=pages,
        size=size,
        total=len(entries),
        tiles=tiles,
        missing=[t.name for t in tiles if not t.connected],
        missing_total=sum(1 for c in entries if not c.connected),
    )
    return changed, state


def refresh(
    participants: Collection[Participant],
    walls: MutableMapping[str, WallState | None],
    page: int,
    invited: Mapping[str, str],
    told: Collection[str] = (),
) -> None:
    """Redo every wall's slots; tell a wall whose slots (or audio slots, ``told``) or page
    state changed."""
    if not walls:
        return
    entries = communes(participants, invited, walls)
    for sub in participants:
        if sub.id not in walls or sub.remote:
            continue  # a wall of another worker is filled and told there
        changed, state = fill(sub, entries, page)
        if state is None:
            continue
        if changed or sub.id in told or state != walls[sub.id]:
            walls[sub.id] = state
            sub.send(slots_frame(sub, state))


def slots_frame(sub: Participant, state: WallState | None) -> ServerFrame:
    """The wall's ``slots`` frame: its slots and, with them, the page it shows.

    A slot showing a commune in a codec the wall did not offer (an H.264 tablet to a browser
    without H.264) says so, as in the room: its tile names the codec instead of a black picture.
    """
    return server_frame("slots", slots=slot_infos(sub), wall=state)
