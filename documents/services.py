"""What the document operations need, owned by the application: one container, low in the package.

Every operation (sending, handling, amending, importing, the exchange with other servers) takes
a :class:`Services`; nothing here decides anything, so any module may import it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asn1crypto import x509 as asn1_x509

from documents.checker import SignatureChecker
from documents.envelope import EnvelopeKeys
from documents.files import FileStore
from documents.peers import FederationConfig
from server.db import Database
from server.realtime import BackendUnavailable, Hub

log = logging.getLogger(__name__)

Events = list[tuple[str, str, dict[str, Any]]]
"""Realtime notices ``(channel, type, data)`` to publish once a transaction has committed."""


@dataclass
class Services:
    """What the document services need, owned by the application."""

    db: Database
    store: FileStore
    checker: SignatureChecker
    hub: Hub | None = None
    federation: FederationConfig | None = None
    """Peers this server exchanges with; None when it exchanges within itself only."""
    wake: Callable[[], None] | None = None
    """Wakes the outbox worker after a commit that queued messages."""
    seal_cert: asn1_x509.Certificate | None = None
    """This server's seal certificate (signs receipts), for evidence bundles."""
    envelope: EnvelopeKeys | None = None
    """The agencies' seal keys and the trust roots, for the edXML envelope's XML signature."""

    def wake_outbox(self) -> None:
        """Let the outbox worker look at once instead of at its next poll."""
        if self.wake is not None:
            self.wake()

    async def publish(self, events: Events) -> None:
        """Realtime notices after a commit.

        A backend that is down (:class:`BackendUnavailable`) never undoes the committed step:
        the notice is logged and dropped, and clients catch up when they reload. Anything else
        (a bad channel or event: a programming error) is logged and raised.
        """
        if self.hub is None:
            return
        for channel, kind, data in events:
            try:
                await self.hub.publish(channel, kind, data)
            except BackendUnavailable as exc:
                log.warning("realtime publish to %s failed: %s", channel, exc)
            except Exception:
                log.exception("realtime publish of %s to %s failed", kind, channel)
                raise
