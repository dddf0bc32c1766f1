"""Checking that a PDF carries a valid signature before it is sent, with :mod:`signing`.

The server's trust roots are the PEM files in ``Config.trust_dir`` (:class:`signing.trust.TrustStore`).
One :class:`signing.validate.Verifier` is kept open for the life of the process (its HTTP session
and validation context are reused, the cheap wins DESIGN.md measured); it is rebuilt when the
set of root files changes, so that an administrator's ``trust add`` takes effect without a restart.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Protocol

from signing.trust import TrustStore
from signing.validate import DocumentReport, Verifier


class SignatureChecker(Protocol):
    async def check(self, data: bytes) -> DocumentReport:
        """Validate every signature of the PDF ``data`` (raises ``InvalidPdf`` if unusable)."""
        ...

    async def close(self) -> None: ...


class TrustDirChecker:
    """Validates against the roots in one directory, online (OCSP/CRL fetched, hard-fail)."""

    def __init__(self, trust_dir: Path, *, online: bool = True) -> None:
        self.store = TrustStore(trust_dir)
        self.online = online
        self._verifier: Verifier | None = None
        self._stamp: tuple[tuple[str, int], ...] | None = None
        self._lock = asyncio.Lock()

    def _roots_stamp(self) -> tuple[tuple[str, int], ...]:
        directory = self.store.directory
        if not directory.is_dir():
            return ()
        return tuple(
            (p.name, p.stat().st_mtime_ns) for p in sorted(directory.glob("*.pem")) if p.is_file()
        )

    async def _current(self) -> Verifier:
        async with self._lock:
            stamp = await asyncio.to_thread(self._roots_stamp)
            if self._verifier is None or stamp != self._stamp:
                if self._verifier is not None:
                    await self._verifier.__aexit__(None, None, None)
                roots = await asyncio.to_thread(self.store.certificates)
                verifier = Verifier(roots, online=self.online)
                await verifier.__aenter__()
                self._verifier, self._stamp = verifier, stamp
            return self._verifier

    async def check(self, data: bytes) -> DocumentReport:
        verifier = await self._current()
        return await verifier.verify(data)

    async def close(self) -> None:
        if self._verifier is not None:
            await self._verifier.__aexit__(None, None, None)
            self._verifier = None
