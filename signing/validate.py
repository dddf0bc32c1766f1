"""Validating the signatures of a PDF: integrity, chain to the pinned trust roots, validity and
revocation of the signer's certificate, timestamps, and what changed after each signature.

A :class:`Verifier` is opened once and reused: it owns one HTTP session for OCSP/CRL fetches and
pyHanko's fetchers (which cache fetched revocation data), rebuilt every ``context_ttl`` seconds so
that reissued CRLs are picked up. Each file gets a validation context of its own over them, so
that nothing a file embeds (certificates) decides another file's verdict. Offline, only what the file embeds
(DSS, revocation data archived in the signature) is used. Trust comes only from the roots given:
never the operating system's store.

The verdict is strict: a signature is ``ok`` only when it is intact, cryptographically valid,
trusted, not revoked, its timestamp (if any) is valid and trusted, and nothing but signatures,
form filling or validation data was added after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import (
    DocumentSecurityStore,
    async_validate_pdf_signature,
    async_validate_pdf_timestamp,
)
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import (
    ExpiredError,
    InsufficientRevinfoError,
    NotYetValidError,
    PathError,
    RevokedError,
)
from pyhanko_certvalidator.errors import ValidationError as CertValidationError
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
from pyhanko_certvalidator.fetchers.api import Fetchers
from pyhanko_certvalidator.validate import async_validate_path

from signing import pathcache, speedups
from signing.library_errors import PDF_READ_ERRORS, SIGNATURE_ERRORS
from signing.pdfinput import open_reader, read_pdf_file
from signing.report import DocumentReport, SignatureReport, error_report, summary_vi
from signing.stamps import iso_vietnam

__all__ = ["DocumentReport", "SignatureReport", "Verifier", "verify_file"]
"""The reports are :mod:`signing.report`'s, named here too for the modules that validate."""

_ALLOWED_AFTER = (
    ModificationLevel.NONE,
    ModificationLevel.LTA_UPDATES,
    ModificationLevel.FORM_FILLING,
)
"""What may follow a signature: nothing, validation data/timestamps, more signatures."""


def _cn(cert: asn1_x509.Certificate | None) -> tuple[str, str]:
    if cert is None:
        return "?", "?"
    native = cert.subject.native
    return str(native.get("common_name", cert.subject.human_friendly)), cert.subject.human_friendly


def _modification(level: ModificationLevel | None) -> str:
    return {
        None: "unknown",
        ModificationLevel.NONE: "none",
        ModificationLevel.LTA_UPDATES: "validation_data",
        ModificationLevel.FORM_FILLING: "signatures_or_forms",
        ModificationLevel.ANNOTATIONS: "annotations",
        ModificationLevel.OTHER: "other",
    }[level]


def _revocation(status: Any, trust: list[str]) -> str:
    if "revoked" in trust or getattr(status, "revoked", False):
        return "revoked"
    if status.trusted:
        return "good"
    return "unknown"


async def _trust_problems(status: Any, vc: ValidationContext) -> list[str]:
    """Why the signer's chain is not trusted (empty when it is).

    pyHanko folds a missing or unusable OCSP/CRL answer (hard-fail) into the generic
    ``CERTIFICATE_CHAIN_GENERAL_FAILURE`` indication, like any other path error; to tell
    "revocation unknown" from "untrusted" the path it built is validated once more here (only on
    failure) and the certvalidator exception decides.
    """
    if status.trusted:
        return []
    indic = str(getattr(status, "trust_problem_indic", "") or "")
    if getattr(status, "revoked", False) or "REVOKED" in indic:
        return ["revoked"]
    if "TRY_LATER" in indic or "REVOCATION_OUT_OF_BOUNDS" in indic:
        return ["revocation_unknown"]
    if "OUT_OF_BOUNDS" in indic or "EXPIRED" in indic:
        return ["expired"]
    path = getattr(status, "validation_path", None)
    if path is not None:
        try:
            await async_validate_path(vc, path)
        except InsufficientRevinfoError:  # StaleRevinfoError included
            return ["revocation_unknown"]
        except RevokedError as exc:
            # a revoked OCSP responder certificate says nothing about the signer's own status
            return ["revocation_unknown" if exc.is_side_validation else "revoked"]
        except ExpiredError:
            return ["expired"]
        except NotYetValidError:
            return ["not_yet_valid"]
        except (PathError, CertValidationError):  # constraints, usage, no path…: untrusted
            return ["untrusted"]
    return ["untrusted"]


def _vn(moment: dt.datetime | None) -> str | None:
    return iso_vietnam(moment) if moment is not None else None


class Verifier:
    """Reusable validator (context manager): ``async with Verifier(roots) as v: await v.verify(b)``."""

    def __init__(
        self,
        trust_roots: Sequence[asn1_x509.Certificate],
        *,
        online: bool = True,
        context_ttl: float = 300.0,
        http_timeout: float = 10.0,
        fast: bool = True,
    ) -> None:
        """``fast``: use :mod:`signing.speedups` (same answers as stock pyHanko, less CPU) and keep
        successful certificate-path validations of the online context (:mod:`signing.pathcache`)
        until its revocation data expires."""
        if fast:
            speedups.install()
            pathcache.install()
        self.fast = fast
        self.trust_roots = list(trust_roots)
        self.online = online
        self.context_ttl = context_ttl
        self.http_timeout = http_timeout
        self._session: aiohttp.ClientSession | None = None
        self._fetchers: Fetchers | None = None
        self._fetchers_born = 0.0
        self._paths: pathcache.PathCache | None = None

    async def __aenter__(self) -> Verifier:
        if self.online:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.http_timeout)
            )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "trust_roots": self.trust_roots,
            "revocation_mode": "hard-fail",
            "allow_fetching": self.online,
        }
        if self.online:
            assert self._session is not None, "use the Verifier as an async context manager"
            kwargs["fetcher_backend"] = AIOHttpFetcherBackend(
                self._session, per_request_timeout=self.http_timeout
            )
        return kwargs

    def _context(self, reader: Any) -> ValidationContext:
        """The context one file is validated in: online, a fresh one over the shared fetchers
        (their OCSP/CRL caches rebuilt every ``context_ttl`` seconds); offline, one made of what
        the file embeds.

        Fresh per file because pyHanko adds every certificate a signature embeds to the context's
        registry and builds paths from all of it: a shared context would let one file's
        intermediate certificate vouch for another file's signer, so a warm server and a fresh
        check (a peer's) would disagree on the same file."""
        if self.online:
            now = time.monotonic()
            if self._fetchers is None or now - self._fetchers_born > self.context_ttl:
                assert self._session is not None, "use the Verifier as an async context manager"
                backend = AIOHttpFetcherBackend(
                    self._session, per_request_timeout=self.http_timeout
                )
                self._fetchers, self._fetchers_born = backend.get_fetchers(), now
                if self.fast:
                    until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.context_ttl)
                    self._paths = pathcache.PathCache(until)
            vc = ValidationContext(
                trust_roots=self.trust_roots,
                revocation_mode="hard-fail",
                allow_fetching=True,
                fetchers=self._fetchers,
            )
            if self._paths is not None:
                pathcache.register(vc, self._paths)
            return vc
        try:
            return DocumentSecurityStore.read_dss(reader).as_validation_context(self._kwargs())
        except NoDSSFoundError:
            # nothing embedded: the certificates cannot be checked for revocation (hard-fail)
            return ValidationContext(**self._kwargs(), crls=[], ocsps=[])

    def _context_at(self, reader: Any, moment: dt.datetime) -> ValidationContext:
        """A context validating at ``moment`` (point in time) with what the file embeds (DSS) and,
        online, what the responders answer. Revocation data must still be usable *at* that time:
        pyHanko rejects OCSP/CRL answers issued after it (``retroactive_revinfo`` stays off), so a
        B-T file relies on a CRL or OCSP answer published before the timestamp, a B-LT/B-LTA file
        on the answers embedded at signing time."""
        kwargs = {**self._kwargs(), "moment": moment}
        try:
            return DocumentSecurityStore.read_dss(reader).as_validation_context(kwargs)
        except NoDSSFoundError:
            if self.online:
                return ValidationContext(**kwargs)
            return ValidationContext(**kwargs, crls=[], ocsps=[])

    async def verify(self, data: bytes) -> DocumentReport:
        """Validate every signature of the PDF in ``data``; raises InvalidPdf if unusable."""
        reader = await asyncio.to_thread(open_reader, data)
        try:
            embedded = list(reader.embedded_signatures)
        except SIGNATURE_ERRORS as exc:  # e.g. a /Contents that is not CMS: a verdict, not a crash
            report = error_report("?", "signature", "?", "?", exc)
            return DocumentReport([report], False, report.summary_vi)
        if not embedded:
            return DocumentReport([], False, "Tệp không có chữ ký số nào.")
        vc = self._context(reader)
        reports = [await self._one(sig, vc, embedded) for sig in embedded]
        ok = all(r.ok for r in reports)
        bad = sum(1 for r in reports if not r.ok)
        summary = (
            f"Tất cả {len(reports)} chữ ký/dấu thời gian đều hợp lệ."
            if ok
            else f"{bad}/{len(reports)} chữ ký/dấu thời gian KHÔNG hợp lệ."
        )
        return DocumentReport(reports, ok, summary)

    async def verify_file(self, path: Path) -> DocumentReport:
        return await self.verify(await asyncio.to_thread(read_pdf_file, path))

    async def _one(self, sig: Any, vc: ValidationContext, all_sigs: list[Any]) -> SignatureReport:
        kind = "document_timestamp" if sig.sig_object_type == "/DocTimeStamp" else "signature"
        try:
            name = str(sig.field_name)
        except PDF_READ_ERRORS:
            name = "?"
        try:
            if kind == "signature":
                status: Any = await async_validate_pdf_signature(sig, vc)
            else:
                status = await async_validate_pdf_timestamp(sig, vc)
        except SIGNATURE_ERRORS as exc:  # a broken signature is a verdict, not a crash
            signer, subject = "?", "?"
            with contextlib.suppress(*SIGNATURE_ERRORS):
                signer, subject = _cn(sig.signer_cert)
            return error_report(name, kind, signer, subject, exc)
        check = _Checked(status, await _trust_problems(status, vc), dt.datetime.now(dt.UTC))
        if kind == "signature" and check.trust == ["expired"] and status.intact and status.valid:
            check = await self._as_of_timestamp(sig, check, vc)
        return _report(sig, kind, name, check, all_sigs)

    async def _as_of_timestamp(self, sig: Any, check: _Checked, vc: ValidationContext) -> _Checked:
        """The certificate has expired since: a valid, trusted signature timestamp proves the
        signature existed at its time, so the chain is validated as of that time instead."""
        tsv = check.status.timestamp_validity
        if tsv is None or not (tsv.intact and tsv.valid and tsv.trusted):
            return check
        moment = tsv.timestamp
        vc_then = self._context_at(sig.reader, moment)
        then: Any = await async_validate_pdf_signature(sig, vc_then, vc)
        trust_then = await _trust_problems(then, vc_then)
        if not trust_then and then.intact and then.valid:
            return _Checked(then, [], moment, as_of=True)
        trust = ["expired", *(p for p in trust_then if p != "expired")]
        return _Checked(check.status, trust, check.validated_at)


@dataclass(frozen=True, slots=True)
class _Checked:
    """pyHanko's status of one signature, why its chain is not trusted, and as of when."""

    status: Any
    trust: list[str]
    validated_at: dt.datetime
    as_of: bool = False


def _timestamp_of(kind: str, status: Any, problems: list[str]) -> tuple[Any, Any, bool | None]:
    """Signing time, timestamp time and whether the timestamp is good (None: there is none);
    appends ``timestamp_invalid`` to ``problems`` for a bad signature timestamp."""
    if kind == "document_timestamp":
        return status.timestamp, status.timestamp, bool(status.valid and status.trusted)
    tsv = status.timestamp_validity
    if tsv is None:
        return status.signer_reported_dt, None, None
    ts_ok = bool(tsv.intact and tsv.valid and tsv.trusted)
    if not ts_ok:
        problems.append("timestamp_invalid")
    return status.signer_reported_dt, tsv.timestamp, ts_ok


def _report(
    sig: Any, kind: str, name: str, check: _Checked, all_sigs: list[Any]
) -> SignatureReport:
    """The verdict on one signature pyHanko could process."""
    status, trust = check.status, check.trust
    signer, subject = _cn(status.signing_cert)
    problems: list[str] = []
    if not status.intact:
        problems.append("not_intact")
    elif not status.valid:
        problems.append("invalid")
    problems += trust
    if status.modification_level == ModificationLevel.ANNOTATIONS:
        problems.append("annotations_added")
    elif status.modification_level not in _ALLOWED_AFTER or status.docmdp_ok is False:
        problems.append("page_modified")
    signing_time, ts_time, ts_ok = _timestamp_of(kind, status, problems)
    ok = not problems
    return SignatureReport(
        field_name=name,
        kind=kind,
        signer=signer,
        signer_subject=subject,
        ok=ok,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        revocation=_revocation(status, trust),
        modification=_modification(status.modification_level),
        covers_whole_file=str(status.coverage) == str(status.coverage.__class__.ENTIRE_FILE),
        level=_level(sig, kind, ts_time is not None, all_sigs),
        signing_time=_vn(signing_time),
        timestamp_time=_vn(ts_time),
        timestamp_ok=ts_ok,
        validation_time=iso_vietnam(check.validated_at),
        as_of_timestamp=check.as_of,
        problems=problems,
        summary_vi=summary_vi(
            kind, signer, ok, problems, _vn(ts_time or signing_time), check.as_of
        ),
    )


def _level(sig: Any, kind: str, timestamped: bool, all_sigs: list[Any]) -> str:
    if kind == "document_timestamp":
        return "doc-ts"
    if not timestamped:
        return "b-b"
    later = all_sigs[all_sigs.index(sig) + 1 :]
    try:
        has_dss = "/DSS" in sig.reader.root
    except PDF_READ_ERRORS:
        has_dss = False
    if not has_dss:
        return "b-t"
    if any(s.sig_object_type == "/DocTimeStamp" for s in later):
        return "b-lta"
    return "b-lt"


async def verify_file(
    path: Path, trust_roots: Sequence[asn1_x509.Certificate], *, online: bool = True
) -> DocumentReport:
    """One-shot validation of a file (opens and closes its own Verifier)."""
    async with Verifier(trust_roots, online=online) as verifier:
        return await verifier.verify_file(path)
