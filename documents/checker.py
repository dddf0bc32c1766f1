"""Checking that a PDF carries a valid signature before it is sent or when it arrives, with
:mod:`signing`.

The server's trust roots are the PEM files in ``Config.trust_dir`` (:class:`signing.trust.TrustStore`).
Validation runs on a :class:`signing.worker.VerificationWorker`: a worker process
that keeps one :class:`signing.validate.Verifier` open (HTTP session, validation context and
certificate-path verdicts reused, the cheap wins DESIGN.md measured) and rebuilds it when the set
of root files changes, so that an administrator's ``trust add`` takes effect without a restart.
The server's loop only awaits the result, so it keeps serving while a 1 MB file is checked.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from documents.errors import SignatureRejected
from signing.validate import DocumentReport
from signing.worker import VerificationWorker


class SignatureChecker(Protocol):
    async def check(self, data: bytes) -> DocumentReport:
        """Validate every signature of the PDF ``data`` (raises ``InvalidPdf`` if unusable)."""
        ...

    async def close(self) -> None: ...


class TrustDirChecker:
    """Validates against the roots in one directory, online (OCSP/CRL fetched, hard-fail).

    With no root in the directory every check raises ``signing.worker.NoTrustRoots`` (503).
    ``fast=False`` validates with stock pyHanko only (same verdicts, more CPU); by default it is
    taken from ``LIENTHONG_VALIDATION=stock`` in the environment, which only the benchmark sets
    to compare the two.
    """

    def __init__(
        self,
        trust_dir: Path,
        *,
        online: bool = True,
        max_concurrent: int = 2,
        fast: bool | None = None,
    ) -> None:
        if fast is None:
            fast = os.environ.get("LIENTHONG_VALIDATION", "") != "stock"
        self.worker = VerificationWorker(
            trust_dir, online=online, max_concurrent=max_concurrent, fast=fast
        )
        self.store = self.worker.store

    async def check(self, data: bytes) -> DocumentReport:
        return await self.worker.verify(data)

    async def close(self) -> None:
        await self.worker.close()


async def check_signed(checker: SignatureChecker, data: bytes) -> str:
    """The validator's summary when every signature is good; :class:`SignatureRejected` else.

    The one gate every main file passes, whether a clerk sends it, a peer delivers it or an
    edXML package is imported: an unsigned or badly signed document never enters a register.
    """
    report = await checker.check(data)
    if report.ok and report.signatures:
        return report.summary_vi
    reasons = [s.summary_vi for s in report.signatures if not s.ok]
    raise SignatureRejected(
        report.summary_vi,
        reasons,
        [
            {"signer": s.signer, "ok": s.ok, "problems": s.problems, "summary_vi": s.summary_vi}
            for s in report.signatures
        ],
    )
