"""Someone in a briefing's room, hosted by this media worker or (``remote``) by another."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields

from meetings.briefings.messages import ParticipantInfo, RosterEntry, ServerFrame, server_frame
from meetings.briefings.sfu import codecs
from meetings.briefings.sfu.peer import ServerPeer
from meetings.briefings.sfu.remote import RemotePeer

Send = Callable[[ServerFrame], None]
Close = Callable[[int, str], None]
REPLACED_CODE = 4001
"""Close code of a socket whose participant a newer socket of the same person took over."""


@dataclass(eq=False)
class Participant:
    """Someone in the room: an endpoint hall or an official, with one signaling socket."""

    id: str
    name: str
    agency_code: str
    chair: bool
    endpoint: bool
    send: Send
    close: Close | None = None
    """Close this participant's signaling socket (after the frames already sent to it)."""
    device: str = ""
    """The device the client says it is (kept by the browser across rejoins); "" unknown."""
    peer: ServerPeer | RemotePeer | None = None
    remote: bool = False
    """Hosted by another media worker: its state comes from the shared copy."""
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
    bad_since: float = 0.0
    """Since when the link has been bad without a break (0: it is not); weak after WEAK_AFTER."""
    link: object = None
    """The peer connection whose link is being watched, and since when (a new one warms up)."""
    link_since: float = 0.0
    sent: tuple[int, float] = (0, 0.0)
    """Octets forwarded to this subscriber's slots so far, and when they were counted."""
    sent_rate: float | None = None
    """Bit/s forwarded to it over the last interval (None until measured)."""

    def entry(self) -> RosterEntry:
        peer = self.peer
        return RosterEntry(
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
            video_codec=video_codec(peer),
        )

    def kick(self, reason: str) -> None:
        """A newer socket took over: say why (``rejoin`` or ``other_device``) and close ours."""
        self.send(server_frame("replaced", reason=reason))
        if self.close is not None:
            self.close(REPLACED_CODE, f"replaced: {reason}")

    def info(self) -> ParticipantInfo:
        peer = self.peer
        rtt = peer.rtt() if peer else None
        entry = self.entry()
        return ParticipantInfo(
            **{f.name: getattr(entry, f.name) for f in fields(entry)},
            rtt_ms=round(rtt * 1000, 1) if rtt is not None else self.client_rtt_ms,
            loss=(
                round(max(peer.loss, peer.uplink_loss()), 4)
                if peer and not self.remote
                else self.client_loss
            ),
            fps=self.client_fps,
        )


def video_codec(peer: ServerPeer | RemotePeer | None) -> str | None:
    """The label of what ``peer``'s camera sends, or None without a video uplink."""
    source = peer.source("video") if peer is not None else None
    return codecs.LABELS[source.codec] if source is not None else None


def discard(_frame: ServerFrame) -> None:
    """A relay or remote participant has no signaling socket here."""
