"""Events and ready-to-write WebSocket frames.

An event is serialised to JSON once per process and wrapped in a WebSocket text frame once; that one
``bytes`` object is then written to every socket.  Server-to-client frames are never masked and we
run with ``compress=False``, so the same bytes are valid on every connection (DESIGN.md,
"Tablets": serialising once and writing the ready frame straight to an idle client made
deliveries 2.7 × cheaper).
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from server.realtime.errors import InvalidEvent

CHANNEL_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:\-]{0,199}")
"""Channel names: ``prefix:rest`` (``agency:000.00.00.H30``, ``session:12``); no spaces."""
TYPE_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:\-]{0,99}")
"""Event types: ``vote.closed``, ``agenda.changed``."""
MAX_EVENT_BYTES = 1024 * 1024
"""Largest serialised event; realtime events carry state changes, not documents."""

_OPCODE_TEXT = 0x81  # FIN + text


@dataclass(frozen=True, slots=True)
class Frame:
    """One server → client text message: its JSON ``payload`` and its frame's ``wire`` bytes."""

    payload: bytes
    wire: bytes


@dataclass(frozen=True, slots=True)
class Event:
    """A numbered event of a channel, as kept in the channel's history ring."""

    channel: str
    seq: int
    """Position in the channel, 1, 2, 3, … within the hub's epoch."""
    type: str
    frame: Frame


def text_frame(payload: bytes) -> Frame:
    """Wrap ``payload`` in an unmasked, uncompressed, final WebSocket text frame (RFC 6455 §5.2)."""
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", _OPCODE_TEXT, n)
    elif n < 65536:
        header = struct.pack("!BBH", _OPCODE_TEXT, 126, n)
    else:
        header = struct.pack("!BBQ", _OPCODE_TEXT, 127, n)
    return Frame(payload, header + payload)


def dumps(value: Any) -> str:
    """Compact JSON, UTF-8 kept as is (Vietnamese text stays short), NaN refused."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def json_frame(message: Mapping[str, Any]) -> Frame:
    """A control message (``subscribed``, ``error``, a handler's reply) as a frame."""
    return text_frame(dumps(message).encode())


def check_channel(channel: object) -> str:
    if not isinstance(channel, str) or CHANNEL_RE.fullmatch(channel) is None:
        raise InvalidEvent(f"Bad channel name {channel!r}.", detail_vi="Tên kênh không hợp lệ.")
    return channel


def encode_data(type: str, data: Mapping[str, Any]) -> str:
    """Check the event type and serialise ``data`` (the one JSON serialisation of an event)."""
    if not isinstance(type, str) or TYPE_RE.fullmatch(type) is None:
        raise InvalidEvent(f"Bad event type {type!r}.", detail_vi="Loại sự kiện không hợp lệ.")
    if not isinstance(data, Mapping):
        raise InvalidEvent("Event data must be a JSON object.", detail_vi="Dữ liệu phải là object.")
    try:
        text = dumps(data)
    except (TypeError, ValueError) as exc:
        raise InvalidEvent(
            f"Event data is not JSON-serialisable: {exc}",
            detail_vi="Dữ liệu không chuyển được JSON.",
        ) from None
    if len(text) > MAX_EVENT_BYTES:
        raise InvalidEvent(
            f"Event data is larger than {MAX_EVENT_BYTES} bytes.", detail_vi="Sự kiện quá lớn."
        )
    return text


def make_event(channel: str, seq: int, type: str, data_json: str) -> Event:
    """Build the event's frame around already-serialised ``data_json``."""
    payload = (
        f'{{"channel":{json.dumps(channel)},"seq":{seq},"type":{json.dumps(type)},'
        f'"data":{data_json}}}'
    ).encode()
    return Event(channel, seq, type, text_frame(payload))


def resync_frame(channel: str, seq: int, reason: str) -> Frame:
    """Tell the client ``channel`` cannot be caught up: reload its state, continue after ``seq``."""
    return json_frame(
        {"channel": channel, "seq": seq, "type": "resync", "data": {"reason": reason}}
    )
