"""The signaling wire format: JSON text frames, one typed dataclass each, checked when built.

A client sends :data:`ClientMessage`\\ s; :func:`parse_client_message` turns a frame into one or
raises :class:`BadMessage` (the socket answers with an ``error`` frame and the room goes on).
The server's frames are plain dicts built by :func:`server_frame` from the dataclasses here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from aiortc.sdp import SessionDescription

from server import jsonstrict

MAX_FRAME = 128 * 1024
"""Bytes in one signaling frame; an SDP offer of 20 m-lines is about 15 KB."""
SOCKET_FRAME = 1024 * 1024
"""Bytes the socket reads of one frame: up to it a bigger frame gets an ``error`` frame, over it
the socket closes with 1009 (the room goes on)."""
MAX_SDP = 96 * 1024
CODEC_LABELS: frozenset[str] = frozenset({"Opus", "VP8", "H.264"})
"""Codec names a frame may carry (the labels of :data:`~.sfu.codecs.LABELS`)."""
MAX_MEDIA_SECTIONS = 32
"""Slots are bounded: the chair plus last-N videos plus a few audio slots and the uplink."""

CHAIR_ACTIONS: frozenset[str] = frozenset(
    {
        "mute",
        "mute_all",
        "spotlight",
        "unspotlight",
        "lower_hands",
        "roll_call",
        "record_start",
        "record_stop",
        "end",
        "wall",
        "wall_off",
    }
)
NEEDS_TARGET: frozenset[str] = frozenset({"mute", "spotlight", "wall", "wall_off"})
MAX_WALL_PAGE = 1000
"""Pages a wall may be asked for: 170 communes are 7 pages of 25; the room clamps to the last."""


class BadMessage(ValueError):
    """A frame that is not a valid message; ``code`` goes back to the client."""

    def __init__(self, code: str, detail: str, detail_vi: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.detail_vi = detail_vi


def check_sdp(sdp: str, sdp_type: str) -> SessionDescription:
    """Parse an offer with aiortc's own parser, refusing anything it would choke on later."""
    if len(sdp) > MAX_SDP:
        raise BadMessage("sdp.too_large", "SDP is too large.", "Mô tả phiên (SDP) quá lớn.")
    if not sdp.startswith("v=0"):
        raise BadMessage("sdp.invalid", "SDP must start with v=0.", "SDP không hợp lệ.")
    try:
        parsed = SessionDescription.parse(sdp)
    except Exception as exc:  # aiortc raises ValueError, IndexError, KeyError… on hostile input
        raise BadMessage(
            "sdp.invalid", f"SDP does not parse: {exc.__class__.__name__}", "SDP không hợp lệ."
        ) from None
    if len(parsed.media) > MAX_MEDIA_SECTIONS:
        raise BadMessage("sdp.too_many_media", "Too many m-lines.", "SDP có quá nhiều luồng.")
    for media in parsed.media:
        if media.kind not in ("audio", "video"):
            raise BadMessage(
                "sdp.media_kind", f"Media kind {media.kind!r} is not allowed.", "Loại luồng lạ."
            )
        if media.ice is None or not media.ice.usernameFragment or not media.ice.password:
            raise BadMessage("sdp.no_ice", "SDP lacks ICE credentials.", "SDP thiếu thông tin ICE.")
        if media.dtls is None or not media.dtls.fingerprints:
            raise BadMessage("sdp.no_dtls", "SDP lacks a DTLS fingerprint.", "SDP thiếu DTLS.")
    if sdp_type == "offer" and not parsed.media:
        raise BadMessage("sdp.empty", "The offer has no media.", "SDP không có luồng nào.")
    return parsed


@dataclass(frozen=True, slots=True)
class Offer:
    """A client's offer: its uplink (camera, microphone) and the slots it wants to receive."""

    sdp: str
    type: Literal["offer"] = "offer"

    def __post_init__(self) -> None:
        check_sdp(self.sdp, "offer")


@dataclass(frozen=True, slots=True)
class MuteSelf:
    """The endpoint's own microphone/camera state, shown to others (tắt mic, tắt hình)."""

    audio: bool
    video: bool
    type: Literal["mute"] = "mute"


@dataclass(frozen=True, slots=True)
class Hand:
    """Raise or lower a hand (giơ tay xin phát biểu)."""

    raised: bool
    type: Literal["hand"] = "hand"


@dataclass(frozen=True, slots=True)
class Quality:
    """What the client measured on its side, for the chair's roll call."""

    rtt_ms: float
    loss: float
    fps: float
    type: Literal["quality"] = "quality"

    def __post_init__(self) -> None:
        for name in ("rtt_ms", "loss", "fps"):
            value = getattr(self, name)
            if not 0 <= value < 1e6:
                raise BadMessage("message.field", f"{name} out of range.", "Giá trị ngoài khoảng.")


@dataclass(frozen=True, slots=True)
class Chair:
    """A chair control (điều hành): mute one or all, give the floor, lower hands, end, roll call,
    make a participant the hall's wall (``wall``) or an ordinary endpoint again (``wall_off``)."""

    action: str
    target: str = ""
    """The participant id the action applies to (``mute``, ``spotlight``)."""
    type: Literal["chair"] = "chair"

    def __post_init__(self) -> None:
        if self.action not in CHAIR_ACTIONS:
            raise BadMessage("chair.action", f"Unknown action {self.action!r}.", "Lệnh lạ.")
        if self.action in NEEDS_TARGET and not self.target:
            raise BadMessage("chair.target", "This action needs a target.", "Thiếu điểm cầu.")
        if len(self.target) > 64:
            raise BadMessage("chair.target", "target too long.", "Mã điểm cầu quá dài.")


@dataclass(frozen=True, slots=True)
class Ping:
    type: Literal["ping"] = "ping"


@dataclass(frozen=True, slots=True)
class Resync:
    """The client saw a gap in the roster's sequence numbers: send it the whole roster again."""

    type: Literal["resync"] = "resync"


@dataclass(frozen=True, slots=True)
class WallPage:
    """The page the hall's wall shows (màn hình hội trường): 1 is the first 25 communes."""

    page: int
    type: Literal["wall_page"] = "wall_page"

    def __post_init__(self) -> None:
        if not 1 <= self.page <= MAX_WALL_PAGE:
            raise BadMessage(
                "wall.page", f"page must be 1 to {MAX_WALL_PAGE}.", "Số trang không hợp lệ."
            )


ClientMessage = Offer | MuteSelf | Hand | Quality | Chair | Ping | Resync | WallPage

_FIELDS: dict[str, tuple[type[Any], dict[str, type | tuple[type, ...]]]] = {
    "offer": (Offer, {"sdp": str}),
    "mute": (MuteSelf, {"audio": bool, "video": bool}),
    "hand": (Hand, {"raised": bool}),
    "quality": (Quality, {"rtt_ms": (int, float), "loss": (int, float), "fps": (int, float)}),
    "chair": (Chair, {"action": str, "target": str}),
    "ping": (Ping, {}),
    "resync": (Resync, {}),
    "wall_page": (WallPage, {"page": int}),
}
_OPTIONAL = {("chair", "target")}


def parse_client_message(raw: str | bytes) -> ClientMessage:
    """One frame into a message; :class:`BadMessage` for anything else."""
    if len(raw) > MAX_FRAME:
        raise BadMessage("message.too_large", "Frame too large.", "Tin nhắn quá lớn.")
    try:
        data = jsonstrict.loads(raw)
    except jsonstrict.StrictJsonError as exc:
        raise BadMessage("message.json", exc.detail, exc.detail_vi) from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise BadMessage("message.type", "Frame needs a string 'type'.", "Tin nhắn thiếu loại.")
    kind = data["type"]
    if kind not in _FIELDS:
        raise BadMessage("message.type", f"Unknown type {kind[:32]!r}.", "Loại tin nhắn lạ.")
    cls, fields = _FIELDS[kind]
    kwargs: dict[str, Any] = {}
    for name, types in fields.items():
        if name not in data:
            if (kind, name) in _OPTIONAL:
                continue
            raise BadMessage("message.field", f"Missing field {name!r}.", f"Thiếu trường {name}.")
        value = data[name]
        if isinstance(value, bool) and types is not bool:
            raise BadMessage("message.field", f"Field {name!r} has a wrong type.", "Sai kiểu.")
        if not isinstance(value, types):
            raise BadMessage("message.field", f"Field {name!r} has a wrong type.", "Sai kiểu.")
        if types is not bool and types is not int and isinstance(value, int | float):
            value = float(value)
        kwargs[name] = value
    message: ClientMessage = cls(**kwargs)
    return message


@dataclass(frozen=True, slots=True)
class SlotInfo:
    """One receiving slot of a subscriber: its m-line and what it carries now."""

    mid: str
    kind: str
    source: str | None
    """The participant id whose media fills the slot, or None when empty."""
    codec_mismatch: bool = False
    """The source sends a codec this endpoint did not offer (an H.264-only tablet to a VP8-only
    endpoint): the slot stays dark and the client says why instead of showing a black tile."""
    codec: str | None = None
    """What the source sends (``VP8``, ``H.264``, ``Opus``), or None when empty."""

    def __post_init__(self) -> None:
        if self.codec is not None and self.codec not in CODEC_LABELS:
            raise ValueError(f"unknown codec {self.codec!r}")
        if self.codec_mismatch and self.source is None:
            raise ValueError("an empty slot has no codec to mismatch")


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """One participant as the roster shows it: what changes on events, never link quality
    (that changes every second; the chair asks for it with ``roll_call``)."""

    id: str
    name: str
    agency_code: str
    chair: bool
    endpoint: bool
    connected: bool
    audio_muted: bool
    video_muted: bool
    hand: bool
    audio_only: bool
    video_codec: str | None = None
    """What the participant's camera sends (``VP8`` or ``H.264``), None without video: a
    subscriber whose device lacks that codec sees the reason in the roster."""

    def __post_init__(self) -> None:
        if self.video_codec is not None and self.video_codec not in CODEC_LABELS:
            raise ValueError(f"unknown video codec {self.video_codec!r}")


@dataclass(frozen=True, slots=True)
class ParticipantInfo(RosterEntry):
    """A roster entry with its link quality, for the chair's roll call."""

    rtt_ms: float | None = None
    loss: float | None = None
    fps: float | None = None


@dataclass(frozen=True, slots=True)
class WallTile:
    """One tile of the hall's wall: a commune, the slot showing it, whether it is connected."""

    id: str
    """The participant's id, or ``agency:<code>`` for an invited commune that has not joined."""
    name: str
    agency_code: str
    connected: bool
    mid: str | None
    """The video slot showing it (None when it is not connected, or the wall has too few)."""


@dataclass(frozen=True, slots=True)
class WallState:
    """What the hall's wall shows: its page of the communes and who is not connected."""

    page: int
    pages: int
    size: int
    total: int
    tiles: list[WallTile]
    missing: list[str]
    """Names of the communes on this page that are not connected (the roll call)."""
    missing_total: int
    """Communes not connected on any page."""


ROSTER_KINDS: frozenset[str] = frozenset({"roster", "delta", "speaker", "spotlight"})
"""Frames a full ``roster`` makes up for: a client that falls behind loses these, not others."""


@dataclass(frozen=True, slots=True)
class ServerFrame:
    """Any frame the server sends: ``type`` plus fields; encoded once however many get it."""

    type: str
    data: dict[str, Any] = field(default_factory=dict)
    _text: list[str] = field(default_factory=list, compare=False, repr=False)

    def encode(self) -> str:
        if not self._text:
            self._text.append(
                jsonstrict.dumps({"type": self.type, **self.data}, ensure_ascii=False)
            )
        return self._text[0]


def server_frame(kind: str, **data: Any) -> ServerFrame:
    """Build a frame; dataclass values are turned into dicts."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, list):
            out[key] = [asdict(v) if hasattr(v, "__dataclass_fields__") else v for v in value]
        elif hasattr(value, "__dataclass_fields__"):
            out[key] = asdict(value)
        else:
            out[key] = value
    return ServerFrame(kind, out)
