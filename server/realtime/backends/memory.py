"""The in-process backend: one server process, events numbered as they are published."""

from __future__ import annotations

import secrets

from server.realtime.backends import Backend, Sink
from server.realtime.errors import BackendUnavailable


class MemoryBackend(Backend):
    """Fan-out within one process; a restart starts a new epoch (clients resync)."""

    name = "memory"

    def __init__(self) -> None:
        self._sink: Sink | None = None

    async def start(self, sink: Sink) -> str:
        self._sink = sink
        return secrets.token_hex(8)

    async def close(self) -> None:
        self._sink = None

    async def publish(self, channel: str, type: str, data_json: str) -> int:
        if self._sink is None:
            raise BackendUnavailable(
                "The realtime hub is not started.", detail_vi="Kênh thời gian thực chưa chạy."
            )
        return self._sink.ingest(channel, None, type, data_json)
