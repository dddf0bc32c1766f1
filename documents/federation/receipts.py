"""Signed receipts (biên nhận): a lean detached CMS SignedData over the SHA-256 of a message.

DESIGN.md measured pyHanko's generic CMS signer at 50–170 ms per receipt; this builds the same
structure directly (content-type, message-digest and signing-time as signed attributes, RSA
PKCS#1 v1.5 with SHA-256, the seal certificate included, no encapsulated content) with a key
loaded once, so a receipt costs one RSA signature. Verification checks the digest attribute, the
signature over the DER of the signed attributes, and that the certificate is the pinned one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import algos, cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from documents.errors import DocumentError


class ReceiptError(DocumentError):
    code = "documents.receipt"
    title = "Bad receipt"


@dataclass(frozen=True)
class SealKey:
    """The server's seal key and certificate, loaded once at start-up."""

    key: rsa.RSAPrivateKey
    cert: asn1_x509.Certificate

    @classmethod
    def from_pkcs12(cls, path: Path, password: str) -> SealKey:
        try:
            key, cert, _extra = pkcs12.load_key_and_certificates(
                path.read_bytes(), password.encode()
            )
        except (OSError, ValueError) as exc:
            raise ReceiptError(
                f"cannot load the seal key {path}: {exc}",
                detail_vi=f"Không nạp được khoá con dấu máy chủ {path}.",
            ) from None
        if not isinstance(key, rsa.RSAPrivateKey) or cert is None:
            raise ReceiptError(
                "the seal key must be RSA with its certificate",
                detail_vi="Khoá con dấu phải là RSA kèm chứng thư.",
            )
        der = cert.public_bytes(serialization.Encoding.DER)
        return cls(key, asn1_x509.Certificate.load(der))


def _signed_attrs_der(attrs: cms.CMSAttributes) -> bytes:
    raw: bytes = attrs.dump()
    # signed with the universal SET OF tag, carried with the implicit [0] tag (RFC 5652 §5.4)
    return b"\x31" + raw[1:]


def sign_receipt(
    seal: SealKey, body: bytes, *, when: dt.datetime | None = None, body_sha256: str | None = None
) -> bytes:
    """A detached CMS over ``sha256(body)`` (DER); ``body_sha256``: that digest (hex) when the
    caller already computed it over exactly ``body``."""
    digest = bytes.fromhex(body_sha256) if body_sha256 else hashlib.sha256(body).digest()
    moment = (when or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    attrs = cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
            cms.CMSAttribute({"type": "message_digest", "values": [digest]}),
            cms.CMSAttribute({"type": "signing_time", "values": [cms.Time({"utc_time": moment})]}),
        ]
    )
    signature = seal.key.sign(_signed_attrs_der(attrs), padding.PKCS1v15(), hashes.SHA256())
    sid = cms.SignerIdentifier(
        {
            "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                {"issuer": seal.cert.issuer, "serial_number": seal.cert.serial_number}
            )
        }
    )
    signer = cms.SignerInfo(
        {
            "version": "v1",
            "sid": sid,
            "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
            "signed_attrs": attrs,
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"}),
            "signature": signature,
        }
    )
    signed = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
            "encap_content_info": {"content_type": "data"},
            "certificates": [seal.cert],
            "signer_infos": [signer],
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump())


@dataclass(frozen=True, slots=True)
class ReceiptInfo:
    digest: str
    signed_at: dt.datetime | None
    signer: str


def verify_receipt(receipt: bytes, body_digest: str, pinned: asn1_x509.Certificate) -> ReceiptInfo:
    """Check a receipt covers ``body_digest`` (hex) and is signed by the ``pinned`` certificate."""
    try:
        info = cms.ContentInfo.load(receipt)
        signed = info["content"]
        signer = signed["signer_infos"][0]
        certs = [c.chosen for c in signed["certificates"]]
        attrs = signer["signed_attrs"]
        values = {a["type"].native: a["values"][0].native for a in attrs}
        signature = signer["signature"].native
        to_check = _signed_attrs_der(attrs)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        # how asn1crypto fails on bytes that are not a CMS SignedData of the expected shape
        raise ReceiptError(
            f"unreadable receipt: {exc}", detail_vi="Biên nhận không đọc được."
        ) from None
    if not any(c.dump() == pinned.dump() for c in certs):
        raise ReceiptError(
            "the receipt is not signed by the peer's pinned seal",
            detail_vi="Biên nhận không được ký bằng con dấu đã đăng ký của máy chủ đối tác.",
        )
    if values.get("message_digest", b"").hex() != body_digest:
        raise ReceiptError(
            "the receipt covers another message", detail_vi="Biên nhận không khớp thông điệp."
        )
    public = x509.load_der_x509_certificate(pinned.dump()).public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise ReceiptError("the seal is not RSA", detail_vi="Con dấu không phải khoá RSA.")
    try:
        public.verify(signature, to_check, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise ReceiptError(
            "the receipt signature is invalid", detail_vi="Chữ ký trên biên nhận không hợp lệ."
        ) from None
    signed_at = values.get("signing_time")
    subject = pinned.subject.native.get("common_name", pinned.subject.human_friendly)
    return ReceiptInfo(
        body_digest, signed_at if isinstance(signed_at, dt.datetime) else None, str(subject)
    )
