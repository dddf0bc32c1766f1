"""A certificate path checked once stays good until its revocation data or a certificate on it
expires (DESIGN.md, "PAdES with pyHanko").

pyHanko validates the signer's path and the timestamp authority's path from scratch for every
signature: path building over the certificates, every certificate signature, validity, key
usage, and the revocation check of each certificate against the OCSP answers and CRLs the
validation context holds. Within one long-lived context (the :class:`signing.validate.Verifier`'s
online context, itself rebuilt every few minutes so reissued CRLs are picked up), the answer for
the same certificate can only change when that revocation data or a certificate expires. So a
*successful* path validation is kept, for that context only, until the earliest of:

* the context's own end of life (``until``, given by the verifier),
* the ``nextUpdate`` of every CRL and OCSP answer the context holds (an answer without one is
  not cached at all),
* the ``notAfter`` of every certificate on the path.

Failures are never kept: a revoked, expired, untrusted or unknown-status certificate is checked
in full every time. Contexts that were not registered with :func:`register` (signing, offline
and point-in-time validation, stock pyHanko) go straight to pyHanko.

Installed by patching ``find_valid_path`` where pyHanko's CMS validation looks it up; the key
usage check pyHanko runs after it is not cached. ``tests/signing/test_speedups.py`` compares
verdicts with stock pyHanko through one reused verifier on valid and bad files alike.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.sign.validation import generic_cms
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.path import ValidationPath

_ORIGINAL_FIND = generic_cms.find_valid_path  # type: ignore[attr-defined]
_MAX_ENTRIES = 1024


@dataclass
class _Entries:
    until: dt.datetime
    paths: dict[tuple[bytes, Any], tuple[ValidationPath, dt.datetime]] = field(default_factory=dict)


_contexts: weakref.WeakKeyDictionary[ValidationContext, _Entries] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_installed = False
hits = 0
"""Paths answered from the cache in this process (for tests and profiling)."""


def register(context: ValidationContext, until: dt.datetime) -> None:
    """Cache successful path validations made with ``context`` until ``until`` at the latest."""
    with _lock:
        _contexts[context] = _Entries(until)


def _next_updates(context: ValidationContext) -> list[dt.datetime | None]:
    out: list[dt.datetime | None] = []
    for crl in context.crls:
        out.append(crl["tbs_cert_list"]["next_update"].native)
    for response in context.ocsps:
        basic = response["response_bytes"]["response"].parsed
        for single in basic["tbs_response_data"]["responses"]:
            out.append(single["next_update"].native)
    return out


def good_until(context: ValidationContext, path: ValidationPath, until: dt.datetime) -> dt.datetime:
    """How long a successful validation of ``path`` in ``context`` stays good (see above)."""
    limits = [until]
    for moment in _next_updates(context):
        if moment is None:
            return dt.datetime.min.replace(tzinfo=dt.UTC)  # no promise of freshness: no caching
        limits.append(moment)
    for cert in path.iter_certs(include_root=True):
        limits.append(cert["tbs_certificate"]["validity"]["not_after"].native)
    return min(limits)


async def find_valid_path(
    certificate: asn1_x509.Certificate,
    paths: Any,
    validation_context: ValidationContext,
    pkix_validation_params: Any = None,
) -> ValidationPath:
    """pyHanko's ``find_valid_path``, answered from the cache for registered contexts."""
    global hits
    entries = _contexts.get(validation_context)
    try:
        key = (certificate.dump(), pkix_validation_params)
        hash(key)
    except TypeError:
        entries = None
    if entries is None:
        path: ValidationPath = await _ORIGINAL_FIND(
            certificate, paths, validation_context, pkix_validation_params
        )
        return path
    now = dt.datetime.now(dt.UTC)
    found = entries.paths.get(key)
    if found is not None and now < found[1]:
        await paths.cancel()
        hits += 1
        return found[0]
    path = await _ORIGINAL_FIND(certificate, paths, validation_context, pkix_validation_params)
    expires = good_until(validation_context, path, entries.until)
    if expires > now:
        if len(entries.paths) >= _MAX_ENTRIES:
            entries.paths.clear()
        entries.paths[key] = (path, expires)
    return path


def install() -> None:
    """Route pyHanko's CMS validation through the cache (idempotent)."""
    global _installed
    with _lock:
        if not _installed:
            generic_cms.find_valid_path = find_valid_path  # type: ignore[attr-defined]
            _installed = True


def uninstall() -> None:
    global _installed
    with _lock:
        generic_cms.find_valid_path = _ORIGINAL_FIND  # type: ignore[attr-defined]
        _installed = False
