"""A certificate path checked once stays good until its revocation data or a certificate on it
expires (DESIGN.md, "PAdES with pyHanko").

pyHanko validates the signer's path and the timestamp authority's path from scratch for every
signature: path building over the certificates, every certificate signature, validity, key
usage, and the revocation check of each certificate against the OCSP answers and CRLs the
validation context holds. The :class:`signing.validate.Verifier` validates each file in a context
of its own, over fetchers (revocation data) shared for a few minutes; one :class:`PathCache` spans
that time. Within it, a path found for the same inputs can only stop being good when that
revocation data or a certificate expires. So a *successful* path validation is kept until the
earliest of:

* the cache's own end of life (``until``, given by the verifier),
* the ``nextUpdate`` of every CRL and OCSP answer the context holds (an answer without one is
  not cached at all),
* the ``notAfter`` of every certificate on the path.

The key is everything path validation depends on, not only the certificate being checked: the
DER of every certificate the context can build paths from (what the file embeds, the trust
roots, any fetched), the trust anchors, the revocation policy, the point in time for
point-in-time contexts, and pyHanko's PKIX parameters. Keyed on the signer's certificate alone,
a file whose embedded intermediate was altered would be answered from a path built with the
intact one: valid on a warm server, invalid on a fresh one.

Failures are never kept: a revoked, expired, untrusted or unknown-status certificate is checked
in full every time. Contexts that were not registered with :func:`register` (signing, offline
and point-in-time validation, stock pyHanko) go straight to pyHanko.

Installed by patching ``find_valid_path`` where pyHanko's CMS validation looks it up; the key
usage check pyHanko runs after it is not cached. ``tests/signing/test_speedups.py`` compares
verdicts with stock pyHanko through one reused verifier on valid and bad files alike.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.sign.validation import generic_cms
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.path import ValidationPath
from pyhanko_certvalidator.registry import SimpleTrustManager

_ORIGINAL_FIND = generic_cms.find_valid_path  # type: ignore[attr-defined]
_MAX_ENTRIES = 1024


@dataclass
class PathCache:
    """Successful path validations, shared by the contexts registered with it."""

    until: dt.datetime
    paths: dict[tuple[bytes, Any], tuple[ValidationPath, dt.datetime]] = field(default_factory=dict)


_contexts: weakref.WeakKeyDictionary[ValidationContext, PathCache] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_installed = False
hits = 0
"""Paths answered from the cache in this process (for tests and profiling)."""


def register(context: ValidationContext, cache: PathCache) -> None:
    """Answer path validations made with ``context`` from ``cache`` (and keep its successes)."""
    with _lock:
        _contexts[context] = cache


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


def _digests(certs: Any) -> list[bytes]:
    return sorted(hashlib.sha256(cert.dump()).digest() for cert in certs)


def path_key(certificate: asn1_x509.Certificate, context: ValidationContext) -> bytes | None:
    """A digest of everything validating a path for ``certificate`` in ``context`` depends on
    (see above); None when the context's trust anchors cannot be listed (then no caching)."""
    trust = context.path_builder.trust_manager
    if not isinstance(trust, SimpleTrustManager):
        return None
    timing = context.timing_params
    moment = timing.validation_time.isoformat() if timing.point_in_time_validation else "now"
    h = hashlib.sha256()
    for part in (
        [certificate.dump()],
        _digests(trust.iter_certs()),
        _digests(context.certificate_registry),
        [repr(context.revinfo_policy).encode(), moment.encode()],
    ):
        h.update(len(part).to_bytes(4, "big"))
        for item in part:
            h.update(len(item).to_bytes(4, "big") + item)
    return h.digest()


async def find_valid_path(
    certificate: asn1_x509.Certificate,
    paths: Any,
    validation_context: ValidationContext,
    pkix_validation_params: Any = None,
) -> ValidationPath:
    """pyHanko's ``find_valid_path``, answered from the cache for registered contexts."""
    global hits
    cache = _contexts.get(validation_context)
    digest = path_key(certificate, validation_context) if cache is not None else None
    key = (digest or b"", pkix_validation_params)
    try:
        hash(key)
    except TypeError:
        digest = None
    if cache is None or digest is None:
        path: ValidationPath = await _ORIGINAL_FIND(
            certificate, paths, validation_context, pkix_validation_params
        )
        return path
    now = dt.datetime.now(dt.UTC)
    found = cache.paths.get(key)
    if found is not None and now < found[1]:
        await paths.cancel()
        hits += 1
        return found[0]
    path = await _ORIGINAL_FIND(certificate, paths, validation_context, pkix_validation_params)
    expires = good_until(validation_context, path, cache.until)
    if expires > now:
        if len(cache.paths) >= _MAX_ENTRIES:
            cache.paths.clear()
        cache.paths[key] = (path, expires)
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
