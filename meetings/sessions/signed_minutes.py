"""Signed minutes: the secretariat signs the minutes PDF with their own token (through the sign
agent, as for any document) and uploads it; the server keeps it only if ``signing`` finds every
signature valid against the trust roots in ``Config.trust_dir``.  The server never holds the
secretariat's key.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from meetings.sessions.errors import BadInput
from server.files import write_atomic
from signing.errors import SigningError
from signing.trust import TrustStore
from signing.validate import DocumentReport, Verifier


class MinutesRefused(BadInput):
    code = "sessions.minutes_refused"


async def verify_minutes(data: bytes, trust_dir: Path, *, online: bool = True) -> DocumentReport:
    """Every signature of ``data`` checked; :class:`MinutesRefused` with signing's own words if not."""
    roots = await asyncio.to_thread(TrustStore(trust_dir).certificates)
    try:
        async with Verifier(roots, online=online) as verifier:
            report = await verifier.verify(data)
    except SigningError as exc:
        raise MinutesRefused(str(exc), detail_vi=exc.detail_vi) from None
    if not report.ok:
        raise MinutesRefused(
            "The minutes are not validly signed.",
            detail_vi=f"Biên bản chưa được ký số hợp lệ: {report.summary_vi}",
            extra={"report": report.to_dict()},
        )
    return report


def signer_of(report: DocumentReport) -> str:
    return ", ".join(s.signer for s in report.signatures)


def store(directory: Path, data: bytes) -> tuple[str, Path]:
    """Write the file once under its SHA-256 (blocking)."""
    digest = hashlib.sha256(data).hexdigest()
    path = directory / f"{digest}.pdf"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
    return digest, path
