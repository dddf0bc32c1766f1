"""Validation off the server's process: at most ``max_concurrent`` child processes, each owning a
:class:`~signing.validate.Verifier` over the server's trust roots (:mod:`signing.verifyproc`).

pyHanko's validation is CPU work (parsing, digests over the signed ranges, RSA checks, difference
analysis of every incremental update, path building) on bytes any logged-in user sends. In a
thread it could neither be bounded nor stopped; in a child process it is both:

* **Budget.** A check that has not answered after ``budget`` seconds has its process killed and
  answers :class:`CheckTooCostly` (422); the next check starts a fresh process. Together with the
  structural limits of :mod:`signing.pdfinput` (pages, objects, nesting) this bounds what one file
  can cost.
* **Cancellation.** When the caller's task is cancelled (the client left: see
  :func:`signing.service.unless_client_leaves`; shutdown), a check still waiting for a process is
  dropped without running, and one running has its process killed.
* **Per-user limit.** A caller naming an ``owner`` has at most ``per_user`` checks waiting or
  running; more answer :class:`TooManyChecks` (429 with ``Retry-After``), and at most ``max_queued``
  checks wait in all (:class:`ChecksBusy`, 503). These counts are per server process: behind
  several processes a user may have ``per_user`` checks in each.

A process lives across checks, keeping its HTTP session, validation context and certificate-path
cache, and rebuilds its verifier when the set of root files changes, so that an administrator's
change to the trust roots (page, API or ``lienthong trust``) takes effect on the next validation
without a restart. Processes come from a ``forkserver`` that has imported pyHanko once, so starting
one costs a fork, not an import.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import socket
import threading
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

from signing.errors import SigningError, SigningErrorCode
from signing.report import DocumentReport
from signing.trust import TrustStore
from signing.verifyproc import (
    CheckCrashed,
    NoTrustRoots,
    child_main,
    encode,
    read_frame,
    rebuild_error,
)

__all__ = [
    "CheckCrashed",
    "CheckTooCostly",
    "ChecksBusy",
    "NoTrustRoots",
    "TooManyChecks",
    "VerificationWorker",
]

DEFAULT_BUDGET = 60.0
"""Seconds one check may take (a signed 50 MB file with OCSP/CRL fetches takes a few)."""
PER_USER = 2
"""Checks one user may have waiting or running at once (per server process)."""
MAX_QUEUED = 32
"""Checks waiting or running in all (per worker), beyond which the server answers busy."""
RETRY_AFTER = 5


class CheckTooCostly(SigningError):
    """The check ran out of its time budget or its process died: the file is refused."""

    code = SigningErrorCode.CHECK_TOO_COSTLY
    title = "PDF too costly to check"

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"the signature check was stopped: {reason}",
            detail_vi="Tệp PDF quá phức tạp, không kiểm tra được chữ ký trong thời gian cho phép; "
            "máy chủ đã dừng việc kiểm tra tệp này.",
        )


class TooManyChecks(SigningError):
    status = 429
    code = SigningErrorCode.TOO_MANY_CHECKS
    title = "Too many signature checks"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"you already have {limit} signature checks in progress",
            detail_vi=f"Bạn đang có {limit} lần kiểm tra chữ ký chưa xong; "
            "hãy đợi chúng xong rồi thử lại.",
            extra={"retry_after": RETRY_AFTER},
        )


class ChecksBusy(SigningError):
    status = 503
    code = SigningErrorCode.BUSY
    title = "Signature checks busy"

    def __init__(self) -> None:
        super().__init__(
            "too many signature checks are waiting; try again shortly",
            detail_vi="Máy chủ đang kiểm tra nhiều tệp; hãy thử lại sau ít phút.",
            extra={"retry_after": RETRY_AFTER},
        )


@dataclass(frozen=True, slots=True)
class RunInfo:
    """Where the last check ran (for tests and profiling)."""

    pid: int
    fast: bool


_mp_lock = threading.Lock()
_mp: BaseContext | None = None


def _mp_context() -> BaseContext:
    """A ``forkserver`` that has imported the verifier (a fork of it starts in milliseconds; a
    fork of the server itself would copy its threads' locks in whatever state they are)."""
    global _mp
    with _mp_lock:
        if _mp is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["signing.verifyproc"])
            _mp = ctx
        return _mp


def _kill(process: Any) -> None:
    """Kill a child process if it was started; one that has already ended is left as it is."""
    if process.pid is None:
        return  # never started
    with contextlib.suppress(ProcessLookupError, ValueError):  # gone, or already closed
        process.kill()


class _Child:
    def __init__(
        self, process: Any, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.process, self.reader, self.writer = process, reader, writer

    async def run(self, data: bytes) -> tuple[Any, ...]:
        self.writer.write(encode(data))
        await self.writer.drain()
        outcome: tuple[Any, ...] = await read_frame(self.reader)
        return outcome

    def kill(self) -> None:
        self.writer.close()
        _kill(self.process)


class VerificationWorker:
    """``await worker.verify(pdf_bytes, owner=...)`` from the server's loop; ``await
    worker.close()`` at the end."""

    def __init__(
        self,
        trust_dir: Path,
        *,
        online: bool = True,
        max_concurrent: int = 2,
        fast: bool = True,
        budget: float = DEFAULT_BUDGET,
        per_user: int = PER_USER,
        max_queued: int = MAX_QUEUED,
    ) -> None:
        self.store = TrustStore(trust_dir)
        self.online = online
        self.fast = fast
        """Use the fast paths of :class:`~signing.validate.Verifier` (False: stock pyHanko)."""
        self.max_concurrent = max_concurrent
        self.budget = budget
        self.per_user = per_user
        self.max_queued = max_queued
        self.last_run: RunInfo | None = None
        self._slots: asyncio.Semaphore | None = None
        self._idle: list[_Child] = []
        self._busy: set[_Child] = set()
        self._reapers: set[asyncio.Task[None]] = set()
        self._in_flight = 0
        self._by_owner: dict[str, int] = {}

    # -- admission --------------------------------------------------------------------------------
    def _admit(self, owner: str | None) -> None:
        if owner is not None and self._by_owner.get(owner, 0) >= self.per_user:
            raise TooManyChecks(self.per_user)
        if self._in_flight >= self.max_queued:
            raise ChecksBusy()
        self._in_flight += 1
        if owner is not None:
            self._by_owner[owner] = self._by_owner.get(owner, 0) + 1

    def _leave(self, owner: str | None) -> None:
        self._in_flight -= 1
        if owner is not None:
            left = self._by_owner.pop(owner) - 1
            if left:
                self._by_owner[owner] = left

    def in_flight(self, owner: str | None = None) -> int:
        """Checks waiting or running, of ``owner`` or in all."""
        return self._in_flight if owner is None else self._by_owner.get(owner, 0)

    def running(self) -> int:
        """Checks running in a process now."""
        return len(self._busy)

    def pids(self) -> list[int]:
        """The worker's processes, idle or busy (for tests and operators)."""
        return [c.process.pid for c in [*self._idle, *self._busy] if c.process.pid is not None]

    # -- processes --------------------------------------------------------------------------------
    async def _spawn(self) -> _Child:
        ours, theirs = socket.socketpair()
        process = _mp_context().Process(  # type: ignore[attr-defined]
            target=child_main,
            args=(theirs, self.store.directory, self.online, self.fast),
            name="lienthong-verify",
            daemon=True,
        )
        started = asyncio.get_running_loop().run_in_executor(None, process.start)
        try:
            await asyncio.shield(started)
        except BaseException:

            def abandon(_: object) -> None:  # cancelled while starting: stop it once started
                theirs.close()
                ours.close()
                _kill(process)

            started.add_done_callback(abandon)
            raise
        theirs.close()
        reader, writer = await asyncio.open_connection(sock=ours, limit=1 << 20)
        return _Child(process, reader, writer)

    def _discard(self, child: _Child) -> None:
        """Kill ``child`` now and reap it in the background."""
        child.kill()
        task = asyncio.get_running_loop().create_task(asyncio.to_thread(child.process.join, 10))
        self._reapers.add(task)
        task.add_done_callback(self._reapers.discard)

    async def _run(self, data: bytes) -> tuple[Any, ...]:
        child = self._idle.pop() if self._idle else await self._spawn()
        self._busy.add(child)
        try:
            async with asyncio.timeout(self.budget):
                outcome = await child.run(data)
        except TimeoutError:
            self._discard(child)
            raise CheckTooCostly(f"no answer within {self.budget:g} s") from None
        except (asyncio.IncompleteReadError, ConnectionError):
            self._discard(child)
            raise CheckTooCostly("the checking process ended") from None
        except BaseException:  # cancelled: the client left, or shutdown
            self._discard(child)
            raise
        finally:
            self._busy.discard(child)
        self._idle.append(child)
        return outcome

    # -- public -----------------------------------------------------------------------------------
    async def verify(self, data: bytes, *, owner: str | None = None) -> DocumentReport:
        """Validate every signature of the PDF ``data`` against the roots in the trust directory,
        in a child process, within the budget and the per-``owner`` limit (see the module).

        Raises :class:`~signing.errors.InvalidPdf` for unusable input, :class:`NoTrustRoots`
        when the directory holds no root, :class:`CheckTooCostly`, :class:`TooManyChecks` and
        :class:`ChecksBusy`.
        """
        self._admit(owner)
        try:
            if self._slots is None:
                self._slots = asyncio.Semaphore(self.max_concurrent)
            async with self._slots:  # cancelled while waiting: never runs
                outcome = await self._run(data)
        finally:
            self._leave(owner)
        if outcome[0] == "ok":
            self.last_run = RunInfo(**outcome[2])
            report: DocumentReport = outcome[1]
            return report
        if outcome[0] == "error":
            raise rebuild_error(*outcome[1:])
        # a bug, not a verdict: logged and answered 500 (a check that fails never says "fine")
        raise CheckCrashed(f"signature check failed in the worker process:\n{outcome[1]}")

    async def close(self) -> None:
        """Stop every process (an idle one finishes cleanly: its socket closes)."""
        for child in self._idle:
            child.writer.close()
        for child in list(self._busy):
            self._discard(child)
        idle, self._idle = self._idle, []
        for child in idle:
            await asyncio.to_thread(child.process.join, 10)
            if child.process.is_alive():
                child.process.kill()
        if self._reapers:
            await asyncio.gather(*self._reapers, return_exceptions=True)
