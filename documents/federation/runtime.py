"""The running exchange of one process: config, seal key, HTTP session and outbox worker."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from documents.federation.receipts import SealKey
from documents.peers import FederationConfig, Peer

PATH = "/api/v1/federation/messages"
"""Where a peer server delivers messages (the same path on every server)."""


@dataclass
class Federation:
    """The running exchange of one process: config, seal key, HTTP session, worker task."""

    config: FederationConfig
    seal: SealKey
    session: aiohttp.ClientSession | None = None
    wake_event: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    concurrency: int = 8
    _ssl: dict[str, ssl.SSLContext | bool] = field(default_factory=dict)

    def wake(self) -> None:
        """Let the outbox worker look at once (a commit queued messages)."""
        self.wake_event.set()

    def client_ssl(self, peer: Peer) -> ssl.SSLContext | bool:
        """The TLS settings towards ``peer``, built once (loading a key is not cheap)."""
        if peer.name not in self._ssl:
            self._ssl[peer.name] = self.config.client_ssl(peer)
        return self._ssl[peer.name]


FEDERATION_KEY = web.AppKey("documents_federation", Federation)
