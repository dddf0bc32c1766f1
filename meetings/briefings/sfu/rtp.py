"""RTP read and patched as bytes: no parse into objects on the forwarding path.

Offsets are RFC 3550's: byte 1 holds marker and payload type, 2–3 the sequence number, 4–7 the
timestamp, 8–11 the SSRC; CSRCs and a header extension may follow.  Each function is checked
against aiortc's own ``RtpPacket.parse``/``serialize`` in the tests.
"""

from __future__ import annotations

AUDIO_LEVEL_URI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"


def is_rtcp(data: bytes) -> bool:
    """RTCP packet types 192–223 sit where RTP has marker + payload type (RFC 5761)."""
    return len(data) >= 2 and 192 <= data[1] <= 223


def is_srtp(data: bytes) -> bool:
    """First byte 128–191: RTP version 2 (RFC 7983 demultiplexing)."""
    return len(data) >= 12 and 127 < data[0] < 192


def sequence(packet: bytes) -> int:
    return (packet[2] << 8) | packet[3]


def timestamp(packet: bytes) -> int:
    return int.from_bytes(packet[4:8], "big")


def ssrc(packet: bytes) -> int:
    return int.from_bytes(packet[8:12], "big")


def payload_offset(packet: bytes) -> int:
    """Where the payload starts (after CSRCs and the extension block); -1 when truncated."""
    offset = 12 + 4 * (packet[0] & 0x0F)
    if packet[0] & 0x10:
        if len(packet) < offset + 4:
            return -1
        offset += 4 + 4 * ((packet[offset + 2] << 8) | packet[offset + 3])
    return offset if offset <= len(packet) else -1


def strip_extensions(packet: bytes) -> bytes:
    """The packet without its header extension (and padding kept as is).

    Subscribers get no publisher extensions: the MID would name the publisher's m-line, not
    theirs; the SSRC signalled in the answer routes the packet.
    """
    if not packet[0] & 0x10:
        return packet
    start = 12 + 4 * (packet[0] & 0x0F)
    end = payload_offset(packet)
    if end < 0:
        return packet
    return bytes((packet[0] & 0xEF,)) + packet[1:start] + packet[end:]


def one_byte_extension(packet: bytes, ext_id: int) -> bytes | None:
    """The value of one-byte header extension ``ext_id`` (RFC 8285), or None."""
    if not packet[0] & 0x10:
        return None
    start = 12 + 4 * (packet[0] & 0x0F)
    if len(packet) < start + 4 or packet[start] != 0xBE or packet[start + 1] != 0xDE:
        return None
    pos = start + 4
    end = pos + 4 * ((packet[start + 2] << 8) | packet[start + 3])
    if end > len(packet):
        return None
    while pos < end:
        byte = packet[pos]
        if byte == 0:  # padding
            pos += 1
            continue
        ident, length = byte >> 4, (byte & 0x0F) + 1
        if ident == 15:
            return None
        if ident == ext_id:
            return packet[pos + 1 : pos + 1 + length]
        pos += 1 + length
    return None


def audio_level(packet: bytes, ext_id: int) -> int | None:
    """Audio level in -dBov (0 loudest, 127 silence) from RFC 6464, or None."""
    value = one_byte_extension(packet, ext_id)
    if not value:
        return None
    return value[0] & 0x7F


def vp8_keyframe(packet: bytes) -> bool:
    """True for the first packet of a VP8 key frame (RFC 7741 payload descriptor + header)."""
    pos = payload_offset(packet)
    if pos < 0 or pos >= len(packet):
        return False
    first = packet[pos]
    if not first & 0x10 or first & 0x07:  # S bit: start of partition; PID must be 0
        return False
    pos += 1
    if first & 0x80:  # X: extension byte
        if pos >= len(packet):
            return False
        ext = packet[pos]
        pos += 1
        if ext & 0x80:  # I: picture id, 7 or 15 bits
            if pos >= len(packet):
                return False
            pos += 2 if packet[pos] & 0x80 else 1
        if ext & 0x40:  # L: TL0PICIDX
            pos += 1
        if ext & 0x30:  # T or K: TID/Y/KEYIDX
            pos += 1
    if pos >= len(packet):
        return False
    return not packet[pos] & 0x01  # P bit 0: key frame


H264_IDR = 5
H264_SPS = 7
H264_STAP_A = 24
H264_FU_A = 28


def h264_payload(packet: bytes) -> bytes:
    """The H.264 payload (RFC 6184) without RTP header and padding; empty when malformed."""
    pos = payload_offset(packet)
    if pos < 0:
        return b""
    end = len(packet)
    if packet[0] & 0x20 and end > pos:  # padding: the last byte says how much
        end -= packet[-1]
    return packet[pos:end] if end > pos else b""


def h264_keyframe(packet: bytes) -> bool:
    """True for a packet where an H.264 key frame can start decoding (RFC 6184, mode 1).

    That is a packet holding an SPS (senders put SPS, PPS and IDR in order at a key frame) or
    starting an IDR slice — a single NAL unit, a STAP-A aggregate or an FU-A whose start bit is
    set — so a slot begins at the SPS when it arrives and at the IDR when the SPS was lost.
    """
    payload = h264_payload(packet)
    if not payload:
        return False
    nal = payload[0] & 0x1F
    if nal in (H264_IDR, H264_SPS):
        return True
    if nal == H264_FU_A:
        return (
            len(payload) >= 2
            and bool(payload[1] & 0x80)
            and payload[1] & 0x1F in (H264_IDR, H264_SPS)
        )
    if nal == H264_STAP_A:
        pos = 1
        while pos + 2 < len(payload):
            size = (payload[pos] << 8) | payload[pos + 1]
            if size == 0 or pos + 2 + size > len(payload):
                return False
            if payload[pos + 2] & 0x1F in (H264_IDR, H264_SPS):
                return True
            pos += 2 + size
    return False
