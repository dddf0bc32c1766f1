"""Validation off the server's event loop: one thread with its own event loop owns a
:class:`~signing.validate.Verifier` over the server's trust roots.

pyHanko's validation is mostly CPU work (digests over the signed ranges, RSA checks, difference
analysis of every incremental update, path building) written as coroutines; run on the server's
loop it would stall every other request for tens to hundreds of milliseconds per file. Here the
coroutine runs on the worker's loop (its OCSP/CRL fetches on that loop's HTTP session), and the
server's loop only waits on a future. At most ``max_concurrent`` files are validated at once.

The verifier (HTTP session + validation context caching revocation data) is kept between calls and
rebuilt when the set of root files changes, so that an administrator's change to the trust roots
(page, API or ``lienthong trust``) takes effect on the next validation without a restart.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from signing.errors import SigningError
from signing.trust import TrustStore
from signing.validate import DocumentReport, Verifier

T = TypeVar("T")


class NoTrustRoots(SigningError):
    status = 503
    code = "signing.no_trust_roots"
    title = "No trust roots"

    def __init__(self) -> None:
        super().__init__(
            "No trust root is configured on this server; an administrator must add one.",
            detail_vi="Máy chủ chưa có gốc tin cậy nào nên chưa kiểm tra được chữ ký. "
            "Quản trị viên cần thêm chứng thư gốc (Quản trị → Gốc tin cậy).",
        )


class VerificationWorker:
    """``await worker.verify(pdf_bytes)`` from any event loop; ``await worker.close()`` at the end."""

    def __init__(
        self, trust_dir: Path, *, online: bool = True, max_concurrent: int = 2, fast: bool = True
    ) -> None:
        self.store = TrustStore(trust_dir)
        self.online = online
        self.fast = fast
        """Use the fast paths of :class:`~signing.validate.Verifier` (False: stock pyHanko)."""
        self.max_concurrent = max_concurrent
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        # owned by the worker loop:
        self._verifier: Verifier | None = None
        self._stamp: tuple[tuple[str, int], ...] | None = None
        self._roots = 0

    # -- the worker thread --------------------------------------------------------------------
    def _ensure_started(self) -> asyncio.AbstractEventLoop:
        with self._start_lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                thread = threading.Thread(target=run, name="lienthong-verify", daemon=True)
                thread.start()
                ready.wait()
                self._loop, self._thread = loop, thread
            return self._loop

    async def _submit(self, coro: Coroutine[Any, Any, T]) -> T:
        loop = self._ensure_started()
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        # cancelling the caller (client gone) cancels the validation on the worker loop too
        return await asyncio.wrap_future(future)

    # -- on the worker loop --------------------------------------------------------------------
    def _roots_stamp(self) -> tuple[tuple[str, int], ...]:
        directory = self.store.directory
        if not directory.is_dir():
            return ()
        return tuple(
            (p.name, p.stat().st_mtime_ns) for p in sorted(directory.glob("*.pem")) if p.is_file()
        )

    async def _current(self) -> Verifier:
        stamp = self._roots_stamp()
        if self._verifier is None or stamp != self._stamp:
            if self._verifier is not None:
                await self._verifier.__aexit__(None, None, None)
                self._verifier = None
            roots = self.store.certificates()
            verifier = Verifier(roots, online=self.online, fast=self.fast)
            await verifier.__aenter__()
            self._verifier, self._stamp, self._roots = verifier, stamp, len(roots)
        return self._verifier

    async def _verify(self, data: bytes) -> DocumentReport:
        verifier = await self._current()
        if self._roots == 0:
            raise NoTrustRoots()
        return await verifier.verify(data)

    async def _shutdown(self) -> None:
        if self._verifier is not None:
            await self._verifier.__aexit__(None, None, None)
            self._verifier = None
        await asyncio.get_running_loop().shutdown_default_executor()

    # -- public ---------------------------------------------------------------------------------
    async def verify(self, data: bytes) -> DocumentReport:
        """Validate every signature of the PDF ``data`` against the roots in the trust directory.

        Raises :class:`~signing.errors.InvalidPdf` for unusable input and :class:`NoTrustRoots`
        when the directory holds no root.
        """
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_concurrent)
        async with self._slots:
            return await self._submit(self._verify(data))

    async def close(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._shutdown(), loop))
        loop.call_soon_threadsafe(loop.stop)
        await asyncio.to_thread(thread.join, 10)
        loop.close()
        self._loop = self._thread = None
