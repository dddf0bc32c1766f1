"""The pipe between two media workers, on loopback sockets: heartbeats, wants and forwarding."""

from __future__ import annotations

import secrets
import socket
from collections.abc import AsyncIterator

import pytest

from meetings.briefings.live import StreamInfo
from meetings.briefings.sfu.forwarder import Source
from meetings.briefings.sfu.pipe import Cluster
from meetings.briefings.sfu.remote import RemotePeer
from tests.briefings.sfu_support import until


@pytest.fixture
async def pair() -> AsyncIterator[tuple[Cluster, Cluster]]:
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
    for sock in socks:
        sock.bind(("127.0.0.1", 0))
    addresses = {k: s.getsockname()[:2] for k, s in enumerate(socks)}
    clusters = (
        Cluster(0, secrets.token_hex(8), socks[0], addresses),
        Cluster(1, secrets.token_hex(8), socks[1], addresses),
    )
    for cluster in clusters:
        cluster.start()
    yield clusters
    for cluster in clusters:
        cluster.close()
    for sock in socks:
        sock.close()


def _packet(seq: int) -> bytes:
    header = bytes([0x80, 96]) + seq.to_bytes(2, "big") + (seq * 3000).to_bytes(4, "big")
    # VP8 descriptor (start of partition 0) and an inter frame (P bit set): no key frame
    return header + (1234).to_bytes(4, "big") + b"\x10\x01" + bytes(40)


class _WaitingSlot:
    """A subscriber's slot waiting for a key frame: it shows the stream but takes nothing yet."""

    waiting = True


async def test_video_goes_only_where_a_slot_wants_it(pair: tuple[Cluster, Cluster]) -> None:
    a, b = pair
    await until(lambda: a.alive(1, b.epoch) and b.alive(0, a.epoch), "heartbeats")
    asked: list[int] = []
    video = Source("u1", "video", 90000, None, asked.append)
    video.stream = 77
    a.local[77] = video
    video.taps.append(a.video_tap(77))
    remote = RemotePeer("u1", 0, (StreamInfo("video", 77, 90000, None),), b)
    for seq in range(5):  # nobody on worker 1 wants it yet: nothing crosses
        video.forward(_packet(seq))
    assert b.received == 0
    copy = remote.sources[77]
    copy.sinks.append(_WaitingSlot())  # type: ignore[arg-type]  # a slot shows it now
    copy.request_keyframe()  # as Sink.attach does: asks worker 0, which starts sending
    await until(lambda: bool(a.video_taps[77].dests), "the want arrives")
    video.ssrc = 1234
    for seq in range(5, 10):
        video.forward(_packet(seq))
    await until(lambda: b.received == 5, "five packets cross")
    assert copy.last_seq == 9 and copy.received == 5
    copy.sinks.clear()  # the slot moved on: the next W withdraws the want
    await until(lambda: not a.video_taps[77].dests, "the want is withdrawn", seconds=5)
    await remote.close()
    assert 77 not in b.remote
