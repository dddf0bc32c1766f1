"""Who is seen and heard by whom: last-N selection into each subscriber's slots.

Each endpoint's video slots show, in order, the endpoint given the floor (spotlight), the chair,
then the most recently active speakers, preferring those in a codec the endpoint decodes
(:func:`seen_by`); its audio slots carry the chair, the floor and at most :data:`OTHER_SPEAKERS`
others with the most recent voice activity, never a muted one (:func:`heard_by`).  The hall's
wall fills its video slots by pages instead (:mod:`.wall`).  A slot keeps its source while that
source stays selected, so a new speaker takes a freed slot instead of reshuffling the wall.  A
subscriber on a weak link keeps its audio and one picture.  These functions read and switch the
participants' slots; the room decides when to call them and tells the roster.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable

from meetings.briefings.messages import ServerFrame, SlotInfo, server_frame
from meetings.briefings.sfu import codecs
from meetings.briefings.sfu.forwarder import Sink, Source
from meetings.briefings.sfu.participant import Participant
from meetings.briefings.sfu.peer import ServerPeer
from meetings.briefings.sfu.remote import RemotePeer

SPEECH_LEVEL = 127 - 55
"""Mean loudness (127 − −dBov) above which an endpoint counts as speaking (−55 dBov)."""
WEAK_LOSS = 0.08
"""Fraction lost in a subscriber's receiver report above which its link counts as weak."""
WEAK_REMB = 300_000
"""Bitrate estimate (REMB, bit/s) below which its link counts as weak."""
RECOVERY = 10.0
"""Seconds of a good link before a weak subscriber gets all its video slots back."""
WEAK_AFTER = 3.0
"""Seconds a link must stay bad before it counts as weak: one lossy report is not a weak link."""
REMB_SHORT = 0.85
"""A REMB counts as low only below this share of what is being forwarded: the browser's estimate
follows what it receives, so a quiet picture (a few hundred kbit/s) gives a low REMB on a clean
link; only an estimate below the forwarded rate says the link cannot carry it."""
STRAIN_LOSS = 0.02
STRAIN_RTT = 0.3
"""A low REMB counts only with a strained link beside it (some loss, or a round trip above
0.3 s): a busy media worker delays packets unevenly, which the browser's estimator also reads
as congestion, on a link that is in fact clean."""
AUDIO_LIMIT = 5
"""Audio sources one endpoint receives at most: the chair, the floor and three speakers."""
OTHER_SPEAKERS = 3
"""Speakers besides the chair and the floor whose audio is forwarded (most recent first)."""
ACTIVE_FOR = 5.0
"""Seconds after its last voice activity that an endpoint still counts as an active speaker."""
REMB_WARMUP = 12.0
"""Seconds after a link comes up before its bitrate estimate counts: the browser's estimate
starts below :data:`WEAK_REMB` and ramps up, which made every clean link weak for a while."""


def ranked(participants: Iterable[Participant], spotlight: str | None) -> list[Participant]:
    """Video publishers in order of who should be seen first: floor, chair, latest speakers."""
    ordered = sorted(
        participants,
        key=lambda q: (q.id != spotlight, not q.chair, -q.last_spoke, q.joined),
    )
    return [
        q
        for q in ordered
        if q.peer is not None and q.peer.connected and q.peer.source("video") is not None
    ]


def audible(p: Participant) -> bool:
    """Whether ``p``'s microphone may be forwarded: connected, sending, muted by nobody."""
    peer = p.peer
    return (
        peer is not None
        and peer.connected
        and peer.source("audio") is not None
        and not p.muted_by_chair
        and not p.audio_muted
    )


AudioOrder = tuple[list[Participant], list[Participant]]
"""Those always heard (the floor, then the chair) and the active speakers, latest first."""


def audio_order(
    participants: Iterable[Participant], spotlight: str | None, now: float | None = None
) -> AudioOrder:
    """Who is heard, once for every subscriber: see :func:`heard_by`."""
    now = time.monotonic() if now is None else now
    pinned: list[Participant] = []
    speakers: list[Participant] = []
    for q in participants:
        if not audible(q):
            continue
        if q.id == spotlight or q.chair:
            pinned.append(q)
        elif q.last_spoke and now - q.last_spoke < ACTIVE_FOR:
            speakers.append(q)
    pinned.sort(key=lambda q: (q.id != spotlight, q.joined, q.id))
    speakers.sort(key=lambda q: (-q.last_spoke, q.id))
    return pinned, speakers


def heard_by(order: AudioOrder, sub: Participant | None) -> list[Participant]:
    """Whose audio ``sub`` receives: the chair, the floor and at most :data:`OTHER_SPEAKERS`
    other active speakers (most recent voice activity first), never itself, never a muted one,
    never more than :data:`AUDIO_LIMIT`."""
    pinned, speakers = order
    chosen = [q for q in pinned if q is not sub]
    others = 0
    for q in speakers:
        if others == OTHER_SPEAKERS:
            break
        if q is not sub:
            chosen.append(q)
            others += 1
    return chosen[:AUDIO_LIMIT]


def reassign(
    participants: Collection[Participant], spotlight: str | None, walls: Collection[str] = ()
) -> set[str]:
    """Recompute every subscriber's slots and tell those whose slots changed.

    A wall's video slots are its page's (:mod:`.wall`); its audio slots are chosen here, and the
    walls whose audio slots changed are returned (to be told with their page).
    """
    told: set[str] = set()
    video = ranked(participants, spotlight)
    audio = audio_order(participants, spotlight)
    for sub in list(participants):
        peer = sub.peer
        if peer is None or not peer.connected:
            continue
        heard = [src for q in heard_by(audio, sub) if q.peer and (src := q.peer.source("audio"))]
        changed = fill(peer.audio_sinks, heard[: len(peer.audio_sinks)])
        if sub.id in walls:
            if changed:
                told.add(sub.id)
            continue  # the wall is told with its page (wall.refresh)
        count = 1 if sub.weak else len(peer.video_sinks)
        changed |= fill(peer.video_sinks, seen_by(video, sub, spotlight, count))
        if changed:
            sub.send(slots_frame(sub))
    return told


def slot_infos(sub: Participant) -> list[SlotInfo]:
    """What each of ``sub``'s slots shows now: the source, its codec, and whether ``sub`` can
    take that codec (for the room's and the wall's ``slots`` frames)."""
    peer = sub.peer
    return [
        SlotInfo(
            s.mid,
            s.kind,
            s.source.owner if s.source else None,
            s.mismatch,
            codecs.LABELS[s.source.codec] if s.source else None,
        )
        for s in (peer.sinks if peer else [])
    ]


def slots_frame(sub: Participant) -> ServerFrame:
    """What ``sub``'s slots show now, for its client to label the pictures."""
    return server_frame("slots", slots=slot_infos(sub))


def decodable(sinks: Iterable[Sink]) -> frozenset[str]:
    """The codecs a subscriber takes: those any of its slots negotiated."""
    return frozenset(codec for sink in sinks for codec in sink.pts)


def seen_by(
    video: list[Participant], sub: Participant, spotlight: str | None, count: int
) -> list[Source]:
    """The video sources ``sub``'s ``count`` slots show, from :func:`ranked` order.

    The floor and the chair keep their place whatever their codec (a slot that cannot take it
    shows who it is and why there is no picture).  The latest speakers follow, those in a codec
    ``sub`` decodes first: a slot goes to a source it cannot decode only when no other source it
    can is left (nothing is transcoded).
    """
    peer = sub.peer
    takes = decodable(peer.video_sinks) if peer is not None else frozenset()
    chosen: list[Source] = []
    undecodable: list[Source] = []
    for q in video:
        if len(chosen) >= count:
            break
        source = q.peer.source("video") if q is not sub and q.peer is not None else None
        if source is None:
            continue
        if q.id == spotlight or q.chair or source.codec in takes:
            chosen.append(source)
        elif len(undecodable) < count:
            undecodable.append(source)
    return (chosen + undecodable)[:count]


def fill(sinks: list[Sink], sources: list[Source]) -> bool:
    """Put ``sources`` into ``sinks``, leaving in place those already showing a chosen source.

    Each source left, in order, takes the first free slot that negotiated its codec, else the
    first free slot (where it is told as a codec mismatch); the slots left over are emptied.
    """
    changed = False
    wanted = list(sources)
    free: list[Sink] = []
    for sink in sinks:
        if sink.source is not None and sink.source in wanted:
            wanted.remove(sink.source)
        else:
            free.append(sink)
    for source in wanted:
        if not free:
            break
        sink = next((s for s in free if source.codec in s.pts), free[0])
        free.remove(sink)
        if sink.source is not source:
            sink.attach(source)
            changed = True
    for sink in free:
        if sink.source is not None:
            sink.attach(None)
            changed = True
    return changed


def ask_keyframes(participants: Iterable[Participant]) -> None:
    """Video slots still waiting for a key frame ask again (about once a second).

    Browsers send key frames only when asked, and one asked for may be lost, or sent
    before another worker was on the pipe: a slot must not wait for ever.
    """
    for p in participants:
        peer = p.peer
        if p.remote or peer is None or not peer.connected:
            continue
        for sink in peer.video_sinks:
            if sink.waiting and sink.source is not None:
                sink.source.request_keyframe()


def forwarded_rate(p: Participant, peer: ServerPeer | RemotePeer, now: float) -> float | None:
    """Bit/s forwarded to ``p``'s slots since the last call at least a second ago."""
    octets = sum(sink.octets for sink in peer.sinks)
    before, at = p.sent
    if now - at < 1.0 and octets >= before:
        return p.sent_rate
    p.sent_rate = (octets - before) * 8 / (now - at) if octets >= before and at else None
    p.sent = (octets, now)
    return p.sent_rate


def link_bad(p: Participant, peer: ServerPeer | RemotePeer, now: float) -> str | None:
    """What is wrong with ``p``'s downlink now: "loss" above :data:`WEAK_LOSS`, "bandwidth"
    when (once warmed up) its REMB is below :data:`WEAK_REMB` and below what is forwarded while
    the link shows strain, or None."""
    if p.link is not peer:
        p.link, p.link_since, p.bad_since = peer, now, 0.0
        p.sent, p.sent_rate = (0, 0.0), None
    rate = forwarded_rate(p, peer, now)
    remb = peer.remb
    if peer.loss > WEAK_LOSS:
        return "loss"
    if remb is None or rate is None or now - p.link_since < REMB_WARMUP:
        return None
    if remb >= WEAK_REMB or remb >= rate * REMB_SHORT:
        return None
    rtt = peer.rtt()
    strained = peer.loss > STRAIN_LOSS or (rtt is not None and rtt > STRAIN_RTT)
    return "bandwidth" if strained else None


def adapt(participants: Iterable[Participant]) -> bool:
    """Low bandwidth: a subscriber whose link is weak keeps audio and one picture (the chair).

    With hysteresis: weak once bad for :data:`WEAK_AFTER` seconds without a break, good again
    after :data:`RECOVERY` seconds clear.  Tells each subscriber whose state changed; True when
    any did (the slots must be redone).
    """
    now = time.monotonic()
    changed = False
    for p in participants:
        peer = p.peer
        if peer is None or not peer.connected or not peer.video_sinks:
            continue
        reason = link_bad(p, peer, now)
        if reason is not None:
            p.good_since = 0.0
            p.bad_since = p.bad_since or now
            if not p.weak and now - p.bad_since >= WEAK_AFTER:
                p.weak = changed = True
                figures = {"loss": round(peer.loss, 3), "remb": peer.remb}
                p.send(server_frame("weak", on=True, reason=reason, **figures))
        else:
            p.bad_since = 0.0
            if p.weak:
                p.good_since = p.good_since or now
                if now - p.good_since >= RECOVERY:
                    p.weak, changed = False, True
                    p.send(server_frame("weak", on=False))
    return changed


def loudest(participants: Iterable[Participant]) -> Participant | None:
    """The loudest of those speaking since the last call (each one's ``last_spoke`` is kept)."""
    best: tuple[float, Participant] | None = None
    now = time.monotonic()
    for p in participants:
        source = p.peer.source("audio") if p.peer else None
        level = source.take_level() if source else None
        if level is None or level < SPEECH_LEVEL or p.muted_by_chair:
            continue
        p.last_spoke = now
        if best is None or level > best[0]:
            best = (level, p)
    return best[1] if best is not None else None
