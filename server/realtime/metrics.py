"""Prometheus metrics of the hub, created once at import on the default registry.

Creating them per :class:`~server.realtime.hub.Hub` would raise "Duplicated timeseries" as soon as a
second hub (a test, a second app in one process) exists; they are process-wide on purpose.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

CLIENTS_CONNECTED = Gauge(
    "lienthong_realtime_clients",
    "WebSocket clients currently connected to this process's realtime hub.",
)
EVENTS_PUBLISHED = Counter(
    "lienthong_realtime_events_published",
    "Events published through this process's hub (counted once per publish, not per delivery).",
)
EVENTS_DELIVERED = Counter(
    "lienthong_realtime_events_delivered",
    "Event frames handed to client sockets or their queues (fan-out deliveries).",
)
CLIENTS_DROPPED = Counter(
    "lienthong_realtime_clients_dropped",
    "Clients dropped because their queue overflowed (they stopped reading).",
)
