"""Which codecs the forwarding unit carries, and how an m-line's codecs are chosen.

Nothing is decoded, so a picture reaches a subscriber only in the codec its publisher sends: a
publisher's video m-line keeps one codec (VP8 if offered, else H.264 constrained baseline in
packetization mode 1, as QĐ 157/QĐ-BTTTT names for state videoconferencing), while a receiving
slot keeps every forwardable codec its endpoint offers, so that one slot can show a VP8 hall now
and an H.264 tablet later (the payload type is rewritten per slot).
"""

from __future__ import annotations

from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.sdp import H264Profile, parse_h264_profile_level_id

OPUS = "opus"
VP8 = "VP8"
H264 = "H264"
VIDEO_CODECS = (VP8, H264)
"""Forwardable video codecs, in the order a publisher offering both is asked to send them."""
LABELS = {OPUS: "Opus", VP8: "VP8", H264: "H.264"}


def name_of(codec: RTCRtpCodecParameters, *, receiving: bool = False) -> str | None:
    """The forwarding name of ``codec`` (``opus``, ``VP8``, ``H264``), or None if not carried.

    H.264 must use packetization mode 1 (FU-A, STAP-A: what browsers send) and the constrained
    baseline profile.  A receiving slot may also say plain baseline: a baseline decoder decodes
    constrained baseline, which is baseline without the features WebRTC senders never use.
    """
    mime = codec.mimeType.lower()
    if mime == "audio/opus":
        return OPUS
    if mime == "video/vp8":
        return VP8
    if mime != "video/h264":
        return None
    if str(codec.parameters.get("packetization-mode", "0")) != "1":
        return None
    try:
        profile, _level = parse_h264_profile_level_id(
            str(codec.parameters.get("profile-level-id", "42e01f"))
        )
    except ValueError:
        return None
    allowed = {H264Profile.PROFILE_CONSTRAINED_BASELINE}
    if receiving:
        allowed.add(H264Profile.PROFILE_BASELINE)
    return H264 if profile in allowed else None


def for_publisher(codecs: list[RTCRtpCodecParameters]) -> list[RTCRtpCodecParameters]:
    """The one codec an uplink m-line keeps (Opus; VP8, else H.264), or none."""
    for wanted in (OPUS, *VIDEO_CODECS):
        for codec in codecs:
            if name_of(codec) == wanted:
                return [codec]
    return []


def for_slot(codecs: list[RTCRtpCodecParameters]) -> list[RTCRtpCodecParameters]:
    """Every forwardable codec a receiving m-line offers, one of each, in the offer's order."""
    kept: list[RTCRtpCodecParameters] = []
    seen: set[str] = set()
    for codec in codecs:
        name = name_of(codec, receiving=True)
        if name is not None and name not in seen:
            seen.add(name)
            kept.append(codec)
    return kept


def payload_types(codecs: list[RTCRtpCodecParameters]) -> dict[str, int]:
    """Forwarding name → payload type of a slot's negotiated codecs."""
    out: dict[str, int] = {}
    for codec in codecs:
        name = name_of(codec, receiving=True)
        if name is not None and codec.payloadType is not None:
            out.setdefault(name, codec.payloadType)
    return out
