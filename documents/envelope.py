"""The envelope's own signature (chữ ký số gói tin): the sending agency's XML signature in
``edXMLHeader`` (QCVN 102:2016 as the vendors of the national axis carry it).

We sign with the agency's seal key on the server's token (the key of the PDF seal,
:meth:`documents.sealing.Seals.sign_raw`), over the whole package (``URI=""``, enveloped,
exclusive canonicalisation, RSA-SHA256: :mod:`signing.xmldsig`). On arrival the signature must
verify, chain to the server's trust roots (revocation checked, hard-fail) and belong to the
sender: the certificate's subject must carry the ``From`` agency code. A package without a
signature is not refused for that (most senders do not sign yet), but its metadata then stays
unverified on a manual import; one whose signature fails any check is refused.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import aiohttp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

from documents.edxml_model import DS, E
from documents.edxml_read import ParsedPackage
from documents.edxml_write import Package
from documents.errors import DocumentError
from server.accounts.agencies import CODE_PATTERN
from signing.trust import TrustStore
from signing.xmldsig import (
    XmlSignatureInvalid,
    set_signature_value,
    signature_element,
    signed_info_c14n,
    verify_enveloped,
)

_CODE = re.compile(CODE_PATTERN)


class EnvelopeRejected(DocumentError):
    """The package's XML signature is broken, untrusted, or not the sender's."""

    status = 422
    code = "documents.envelope_signature"
    title = "Envelope signature rejected"


class RawSigner(Protocol):
    async def sign_raw(self, agency: str, data: bytes) -> tuple[bytes, list[bytes]] | None:
        """A SHA256-RSA signature over ``data`` and the certificates (DER); None: no key."""
        ...


@dataclass(frozen=True)
class EnvelopeKeys:
    """What the envelope signature needs on this server: the seal keys and the trust roots."""

    seals: RawSigner
    trust_dir: Path


async def sign_package(package: Package, agency: str, signer: RawSigner) -> bytes:
    """The package's bytes, signed in ``edXMLHeader`` with ``agency``'s seal; unsigned when
    the agency has no seal on this server. Deterministic: the same package and key give the
    same bytes (RSA PKCS#1 v1.5), so a retried message keeps its digest."""
    digest = package.c14n_sha256()
    to_sign = signed_info_c14n(signature_element(digest, []))
    signed = await signer.sign_raw(agency, to_sign)
    if signed is None:
        return package.to_bytes()
    value, certificates = signed
    sig = signature_element(digest, certificates)
    set_signature_value(sig, value)
    package.header.append(sig)
    return package.to_bytes()


@dataclass(frozen=True, slots=True)
class EnvelopeVerdict:
    """What the envelope's signature says about its sender."""

    signed: bool
    signer_name: str = ""
    """The signing certificate's organisation or common name."""

    @property
    def line_vi(self) -> str:
        """The line shown beside the PDF signatures."""
        if not self.signed:
            return "Chữ ký gói tin: không có"
        return f"Chữ ký gói tin: hợp lệ — {self.signer_name}"


def _reject(detail: str, detail_vi: str) -> EnvelopeRejected:
    return EnvelopeRejected(detail, detail_vi=detail_vi)


def _the_signature(package: ParsedPackage) -> etree._Element | None:
    found = list(package.root.iter(f"{{{DS}}}Signature"))
    if not found:
        return None
    header = package.envelope.find(E + "edXMLHeader")
    if len(found) > 1 or found[0].getparent() is not header:
        raise _reject(
            "exactly one ds:Signature is expected, in edXMLHeader",
            "Gói tin phải có đúng một chữ ký số (ds:Signature) trong edXMLHeader.",
        )
    return found[0]


def agency_codes(cert: x509.Certificate) -> set[str]:
    """Agency codes (``XXX.YY.ZZ.Lnn``) named anywhere in the certificate's subject (UID,
    serialNumber, OU or CN, as issuers write them)."""
    return {m for attr in cert.subject for m in _CODE.findall(str(attr.value))}


def _display_name(cert: x509.Certificate) -> str:
    for oid in (x509.NameOID.ORGANIZATION_NAME, x509.NameOID.COMMON_NAME):
        names = cert.subject.get_attributes_for_oid(oid)
        if names:
            return str(names[-1].value)
    return cert.subject.rfc4514_string()


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


async def _trusted(
    keys: EnvelopeKeys, cert: x509.Certificate, others: list[x509.Certificate]
) -> None:
    roots = TrustStore(keys.trust_dir).certificates()
    chain = [_asn1(c) for c in others]
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            context = ValidationContext(
                trust_roots=roots,
                other_certs=chain,
                allow_fetching=True,
                revocation_mode="hard-fail",
                fetcher_backend=AIOHttpFetcherBackend(http, per_request_timeout=20),
            )
            validator = CertificateValidator(
                _asn1(cert), intermediate_certs=chain, validation_context=context
            )
            await validator.async_validate_usage({"digital_signature"})  # type: ignore[no-untyped-call]
    except (PathBuildingError, PathValidationError) as exc:
        raise _reject(
            f"the envelope's certificate is not trusted: {exc}",
            "Chứng thư số ký gói tin không hợp lệ hoặc không thuộc hệ thống chứng thực được tin "
            "cậy (hết hạn, bị thu hồi, hoặc không chuỗi về gốc tin cậy).",
        ) from None


async def check_envelope(
    keys: EnvelopeKeys | None, data: bytes, package: ParsedPackage, sender: str
) -> EnvelopeVerdict:
    """Check the envelope's signature, if any; :class:`EnvelopeRejected` when it is there and
    fails: broken or over another package, untrusted, or made by an agency other than
    ``sender``."""
    signature = _the_signature(package)
    if signature is None:
        return EnvelopeVerdict(False)
    if keys is None:
        raise _reject(
            "this server has no trust roots to check the envelope's signature",
            "Máy chủ chưa có gốc tin cậy để kiểm tra chữ ký số của gói tin.",
        )
    try:
        verified = await asyncio.to_thread(verify_enveloped, data, signature)
    except XmlSignatureInvalid as exc:
        raise _reject(exc.detail, exc.detail_vi or exc.detail) from None
    await _trusted(keys, verified.signer, list(verified.others))
    codes = agency_codes(verified.signer)
    name = _display_name(verified.signer)
    if sender not in codes:
        named = ", ".join(sorted(codes)) or "không nêu mã cơ quan"
        raise _reject(
            f"the envelope is signed by {name} ({named}), not by the sender {sender}",
            f"Gói tin khai gửi từ {sender} nhưng chữ ký số gói tin là của {name} ({named}).",
        )
    return EnvelopeVerdict(True, name)
