"""How events travel between server processes.

Each process's :class:`~server.realtime.hub.Hub` holds its own sockets; a backend carries every
published event to every process's hub (including the publisher's own), in one order, and says how
events are numbered:

``memory``    one process; the hub numbers events as they are published.
``postgres``  ``NOTIFY`` on one channel; every hub numbers events in arrival order (see
              :mod:`.pg` for why that order is the same in every process).
``redis``     a Lua script does ``INCR`` (the number), ``RPUSH``/``LTRIM`` (a capped history list
              per channel) and ``PUBLISH`` atomically; hubs take the number from the message.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol


class Sink(Protocol):
    """What a backend calls on its hub (the hub implements it)."""

    def ingest(self, channel: str, seq: int | None, type: str, data_json: str) -> int:
        """Take one event in backend order; ``seq=None`` means "the next number in this channel".
        Returns the event's number."""

    def seqs(self) -> dict[str, int]:
        """The current number of every channel this hub knows."""

    def channels(self) -> Iterable[str]:
        """The channels this hub knows (for a backend re-syncing after a reconnect)."""

    def reset(self, epoch: str, seqs: Mapping[str, int]) -> None:
        """The backend lost events (reconnect) or joined a numbering: adopt ``epoch`` and ``seqs``,
        forget histories, and tell subscribed clients to resync."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A channel's state as the shared store holds it (Redis only)."""

    seq: int
    events: list[tuple[int, str, str]]
    """Kept history, oldest first: ``(seq, type, data_json)``."""


class Backend(abc.ABC):
    """Carries events between processes.  One instance per hub."""

    name: str = "backend"
    remote_history: bool = False
    """True when :meth:`fetch` can answer from a shared store (the hub then asks it on a miss)."""

    @abc.abstractmethod
    async def start(self, sink: Sink) -> str:
        """Connect, start fanning events into ``sink``; return the epoch of the numbering."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Disconnect; safe to call twice or without :meth:`start`."""

    @abc.abstractmethod
    async def publish(self, channel: str, type: str, data_json: str) -> int:
        """Send one event to every hub; return its number once known."""

    async def fetch(self, channel: str) -> Snapshot | None:
        """The shared store's view of ``channel``; None when the hub's own state is authoritative
        (memory, postgres)."""
        return None
