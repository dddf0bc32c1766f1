"""H.264 RTP payloads (RFC 6184, packetization mode 1) back into access units, without decoding.

The hall recorder needs whole frames: single NAL units, STAP-A aggregates and FU-A fragments of
one RTP timestamp are joined into one Annex-B access unit.  A packet lost or malformed spoils its
access unit, and nothing is given out again until an IDR frame, as a decoder would need.  The
picture size for the file header is read from the sequence parameter set (ITU-T H.264 §7.3.2.1).
"""

from __future__ import annotations

from meetings.briefings.sfu import rtp

START_CODE = b"\x00\x00\x00\x01"
HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})
"""profile_idc values whose SPS carries chroma format and bit depths."""


def nal_units(payload: bytes) -> tuple[list[bytes], tuple[int, bytes] | None] | None:
    """The NAL units of one payload, and an FU-A fragment (its flags, its bytes) if it is one.

    The flags are the FU header's start (0x80) and end (0x40) bits; the bytes of a start
    fragment begin with the rebuilt NAL header.  None when the payload is malformed.
    """
    if not payload:
        return None
    kind = payload[0] & 0x1F
    if 0 < kind < 24:
        return [payload], None
    if kind == rtp.H264_STAP_A:
        units: list[bytes] = []
        pos = 1
        while pos < len(payload):
            if pos + 2 > len(payload):
                return None
            size = (payload[pos] << 8) | payload[pos + 1]
            pos += 2
            if size == 0 or pos + size > len(payload):
                return None
            units.append(payload[pos : pos + size])
            pos += size
        return (units, None) if units else None
    if kind == rtp.H264_FU_A:
        if len(payload) < 3:
            return None
        header = payload[1]
        data = payload[2:]
        if header & 0x80:
            data = bytes(((payload[0] & 0xE0) | (header & 0x1F),)) + data
        return [], (header & 0xC0, data)
    return None  # STAP-B, MTAP, FU-B: interleaved mode, never negotiated


class AccessUnits:
    """RTP packets of one H.264 stream in arrival order; whole access units out."""

    def __init__(self) -> None:
        self._units: list[bytes] = []
        self._fragment: bytearray | None = None
        self._ts: int | None = None
        self._next_seq: int | None = None
        self._damaged = False
        self._broken = True  # until an IDR comes whole

    def push(self, packet: bytes) -> tuple[bytes, bool] | None:
        """(Annex-B access unit, is IDR) when ``packet`` completes one that can be used."""
        if len(packet) < 12:
            return None
        seq, ts = rtp.sequence(packet), rtp.timestamp(packet)
        gap = self._next_seq is not None and seq != self._next_seq
        if ts != self._ts:
            if self._ts is not None and (self._units or self._fragment is not None):
                self._broken = True  # the previous one never saw its marker
            self._units, self._fragment, self._ts, self._damaged = [], None, ts, False
            if gap:  # a whole access unit, or the first packet of this one, was lost
                self._damaged = self._broken = True
        elif gap:
            self._damaged = True
        self._next_seq = (seq + 1) & 0xFFFF
        self._add(rtp.h264_payload(packet))
        if not packet[1] & 0x80:  # no marker: more of this access unit to come
            return None
        units, self._units, self._ts = self._units, [], None
        if self._damaged or self._fragment is not None or not units:
            self._fragment, self._broken = None, True
            return None
        key = any(u[0] & 0x1F == rtp.H264_IDR for u in units)
        if self._broken and not key:
            return None
        self._broken = False
        return b"".join(START_CODE + u for u in units), key

    def _add(self, payload: bytes) -> None:
        parsed = nal_units(payload)
        if parsed is None:
            self._damaged = True
            return
        units, fragment = parsed
        self._units.extend(units)
        if fragment is None:
            if self._fragment is not None:  # a fragmented unit cut short
                self._damaged, self._fragment = True, None
            return
        flags, data = fragment
        if flags & 0x80:
            if self._fragment is not None:
                self._damaged = True
            self._fragment = bytearray(data)
        elif self._fragment is None:
            self._damaged = True
            return
        else:
            self._fragment += data
        if flags & 0x40:
            self._units.append(bytes(self._fragment))
            self._fragment = None


def units_of(access_unit: bytes) -> list[bytes]:
    """The NAL units of an Annex-B access unit as :class:`AccessUnits` writes them."""
    return [u for u in access_unit.split(START_CODE) if u]


class _Bits:
    """An RBSP read bit by bit, with exp-Golomb codes; IndexError past the end."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def bit(self) -> int:
        byte = self.data[self.pos >> 3]
        value = (byte >> (7 - (self.pos & 7))) & 1
        self.pos += 1
        return value

    def bits(self, n: int) -> int:
        value = 0
        for _ in range(n):
            value = (value << 1) | self.bit()
        return value

    def ue(self) -> int:
        zeros = 0
        while not self.bit():
            zeros += 1
            if zeros > 31:
                raise IndexError("exp-Golomb code too long")
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        code = self.ue()
        return (code + 1) // 2 if code & 1 else -(code // 2)


def _rbsp(nal: bytes) -> bytes:
    """The NAL unit's payload with emulation prevention bytes (00 00 03) removed."""
    return nal[1:].replace(b"\x00\x00\x03", b"\x00\x00")


def _skip_scaling_lists(bits: _Bits, count: int) -> None:
    for i in range(count):
        if bits.bit():  # scaling_list_present_flag
            size = 16 if i < 6 else 64
            last = next_scale = 8
            for _ in range(size):
                if next_scale:
                    next_scale = (last + bits.se() + 256) % 256
                last = next_scale or last


def picture_size(sps: bytes) -> tuple[int, int] | None:
    """Width and height of the pictures a sequence parameter set describes, or None."""
    if not sps or sps[0] & 0x1F != rtp.H264_SPS:
        return None
    bits = _Bits(_rbsp(sps))
    try:
        profile = bits.bits(8)
        bits.bits(16)  # constraint flags, level_idc
        bits.ue()  # seq_parameter_set_id
        chroma = 1
        if profile in HIGH_PROFILES:
            chroma = bits.ue()
            if chroma == 3:
                bits.bit()  # separate_colour_plane_flag
            bits.ue(), bits.ue(), bits.bit()  # bit depths, qpprime_y_zero_transform_bypass
            if bits.bit():  # seq_scaling_matrix_present_flag
                _skip_scaling_lists(bits, 8 if chroma != 3 else 12)
        bits.ue()  # log2_max_frame_num_minus4
        order = bits.ue()
        if order == 0:
            bits.ue()
        elif order == 1:
            bits.bit(), bits.se(), bits.se()
            for _ in range(bits.ue()):
                bits.se()
        bits.ue(), bits.bit()  # max_num_ref_frames, gaps_in_frame_num_value_allowed_flag
        width = (bits.ue() + 1) * 16
        map_units = bits.ue() + 1
        frame_mbs_only = bits.bit()
        height = map_units * 16 * (2 - frame_mbs_only)
        if not frame_mbs_only:
            bits.bit()  # mb_adaptive_frame_field_flag
        bits.bit()  # direct_8x8_inference_flag
        if bits.bit():  # frame_cropping_flag
            left, right, top, bottom = bits.ue(), bits.ue(), bits.ue(), bits.ue()
            unit_x = 2 if chroma in (1, 2) else 1
            unit_y = (2 if chroma == 1 else 1) * (2 - frame_mbs_only)
            width -= (left + right) * unit_x
            height -= (top + bottom) * unit_y
    except IndexError:
        return None
    return (width, height) if 0 < width <= 8192 and 0 < height <= 8192 else None


def access_unit_size(access_unit: bytes) -> tuple[int, int] | None:
    """The picture size of the access unit's SPS, or None when it holds none (or a bad one)."""
    for unit in units_of(access_unit):
        if unit[0] & 0x1F == rtp.H264_SPS:
            return picture_size(unit)
    return None
