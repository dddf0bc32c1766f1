"""A participant hosted by another media worker, as this worker's room sees it.

Its streams arrive over the pipe (:mod:`.pipe`) into ordinary :class:`~.forwarder.Source`\\ s,
so selection, slot switching, key frames, NACKs from our subscribers (answered from our ring)
and voice activity work as for a local publisher.  It has no slots here: its own subscriptions
are served by the worker hosting it.
"""

from __future__ import annotations

from collections.abc import Callable

from meetings.briefings.live import StreamInfo
from meetings.briefings.sfu.forwarder import Sink, Source
from meetings.briefings.sfu.pipe import Cluster


class RemotePeer:
    """The stand-in for a :class:`~.peer.ServerPeer` of another worker."""

    def __init__(
        self,
        owner: str,
        worker: int,
        streams: tuple[StreamInfo, ...],
        cluster: Cluster,
    ) -> None:
        self.owner = owner
        self.worker = worker
        self.streams = streams
        self.cluster = cluster
        self.connected = False
        self.closed = False
        self.loss = 0.0
        self.remb: int | None = None
        self.rtt_s: float | None = None
        self.audio_sinks: list[Sink] = []
        self.video_sinks: list[Sink] = []
        self.sources: dict[int, Source] = {}
        for info in streams:
            source = Source(
                owner,
                info.kind,
                info.clock,
                info.level,
                self._keyframe(info.stream),
                codec=info.codec,
            )
            source.stream = info.stream
            # A key-frame request goes to the publishing worker by stream id; it must not wait
            # for the first packet to reveal the SSRC (browsers send key frames only when asked).
            source.ssrc = info.stream
            self.sources[info.stream] = source
            cluster.remote[info.stream] = source
            cluster.origin[info.stream] = worker

    def _keyframe(self, stream: int) -> Callable[[int], None]:
        def request(_ssrc: int) -> None:
            self.cluster.request_keyframe(self.worker, stream)

        return request

    @property
    def sinks(self) -> list[Sink]:
        return []

    def source(self, kind: str) -> Source | None:
        return next((s for s in self.sources.values() if s.kind == kind), None)

    def rtt(self) -> float | None:
        return self.rtt_s

    def uplink_loss(self) -> float:
        return 0.0

    def feed_sender_reports(self) -> None:
        """Our subscribers' sender reports come from their own peers; nothing to feed here."""

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for stream, source in self.sources.items():
            if self.cluster.remote.get(stream) is source:
                del self.cluster.remote[stream]
                self.cluster.origin.pop(stream, None)
            for sink in list(source.sinks):
                sink.detach()
