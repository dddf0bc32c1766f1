"""XML-DSig enveloped signatures (``ds:Signature``) as edXML packages carry them: exclusive
canonicalisation, RSA-SHA256, one reference ``URI=""`` (the whole document minus the
signature), the signer's certificate in ``KeyInfo/X509Data``.

Signing is split in two because the key stays on the token: :func:`signature_element` builds the
``ds:Signature`` with its ``SignedInfo`` from the document's digest, :func:`signed_info_c14n`
gives the bytes the token signs (CKM_SHA256_RSA_PKCS hashes them), :func:`set_signature_value`
puts the value in. Verification is signxml's (a maintained implementation, so our structure is
checked by someone else's reading of the standard), restricted to what we expect: RSA-SHA256 or
stronger, SHA-256 or stronger digests, exactly one reference, to the whole document.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography import x509
from lxml import etree
from signxml import SignatureConfiguration, XMLVerifier  # type: ignore[attr-defined]
from signxml.exceptions import InvalidInput, InvalidSignature

from signing.errors import SigningError

DS = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"

_D = f"{{{DS}}}"
# the file's base64 is one text node: libxml2 caps those at 10 MB unless huge_tree; entities are
# never expanded (and the edXML reader refuses a DOCTYPE before this runs)
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


class XmlSignatureInvalid(SigningError):
    """The package's XML signature does not verify (or is not one we accept)."""

    status = 422
    code = "signing.xml_signature_invalid"
    title = "Invalid XML signature"


def _sub(parent: etree._Element, name: str, **attrs: str) -> etree._Element:
    node = etree.SubElement(parent, _D + name)
    for key, value in attrs.items():
        node.set(key, value)
    return node


def signature_element(digest: bytes, certificates: list[bytes]) -> etree._Element:
    """``ds:Signature`` over a document whose exclusive canonical form (without the signature)
    has SHA-256 ``digest``; ``certificates``: DER, the signer's first. No SignatureValue yet."""
    sig = etree.Element(_D + "Signature", nsmap={"ds": DS})
    info = _sub(sig, "SignedInfo")
    _sub(info, "CanonicalizationMethod", Algorithm=EXC_C14N)
    _sub(info, "SignatureMethod", Algorithm=RSA_SHA256)
    ref = _sub(info, "Reference", URI="")
    transforms = _sub(ref, "Transforms")
    _sub(transforms, "Transform", Algorithm=ENVELOPED)
    _sub(transforms, "Transform", Algorithm=EXC_C14N)
    _sub(ref, "DigestMethod", Algorithm=SHA256)
    _sub(ref, "DigestValue").text = base64.b64encode(digest).decode("ascii")
    _sub(sig, "SignatureValue")
    data = _sub(_sub(sig, "KeyInfo"), "X509Data")
    for der in certificates:
        _sub(data, "X509Certificate").text = base64.b64encode(der).decode("ascii")
    return sig


def signed_info_c14n(signature: etree._Element) -> bytes:
    """The bytes the key signs: ``SignedInfo`` in exclusive canonical form."""
    info = signature.find(_D + "SignedInfo")
    if info is None:
        raise ValueError("no SignedInfo")
    return bytes(etree.tostring(info, method="c14n", exclusive=True, with_comments=False))


def set_signature_value(signature: etree._Element, value: bytes) -> None:
    """Put the token's signature into ``SignatureValue``."""
    node = signature.find(_D + "SignatureValue")
    if node is None:
        raise ValueError("no SignatureValue")
    node.text = base64.b64encode(value).decode("ascii")


@dataclass(frozen=True)
class VerifiedXmlSignature:
    """An enveloped signature whose value and digest verified (trust is the caller's to check)."""

    signer: x509.Certificate
    others: tuple[x509.Certificate, ...]
    """Further certificates from ``KeyInfo`` (the issuing chain, when the signer put it in)."""


def _invalid(detail: str, detail_vi: str) -> XmlSignatureInvalid:
    return XmlSignatureInvalid(detail, detail_vi=detail_vi)


def key_info_certificates(signature: etree._Element) -> list[x509.Certificate]:
    """The certificates of ``KeyInfo/X509Data``, in order (the signer's first)."""
    out = []
    for node in signature.iterfind(f"{_D}KeyInfo/{_D}X509Data/{_D}X509Certificate"):
        try:
            out.append(
                x509.load_der_x509_certificate(base64.b64decode("".join((node.text or "").split())))
            )
        except ValueError:
            raise _invalid(
                "a KeyInfo certificate cannot be read",
                "Chứng thư số trong chữ ký gói tin không đọc được.",
            ) from None
    return out


def verify_enveloped(data: bytes, signature: etree._Element) -> VerifiedXmlSignature:
    """Verify the one enveloped signature of the document ``data`` (``signature`` is that
    element as the caller found it, to read its certificates); :class:`XmlSignatureInvalid`
    says why not."""
    certs = key_info_certificates(signature)
    if not certs:
        raise _invalid(
            "the signature carries no certificate", "Chữ ký gói tin không kèm chứng thư số."
        )
    refs = signature.findall(f"{_D}SignedInfo/{_D}Reference")
    if len(refs) != 1 or refs[0].get("URI") != "":
        raise _invalid(
            'the signature does not cover the whole package (one reference URI="" expected)',
            "Chữ ký gói tin không phủ toàn bộ gói tin.",
        )
    config = SignatureConfiguration(require_x509=True, expect_references=1)
    try:
        XMLVerifier().verify(data, x509_cert=certs[0], parser=_PARSER, expect_config=config)
    except (InvalidSignature, InvalidInput) as exc:
        raise _invalid(
            f"the XML signature does not verify: {exc}",
            "Chữ ký số của gói tin không hợp lệ (gói tin đã bị sửa sau khi ký, "
            "hoặc chữ ký không phải của gói tin này).",
        ) from None
    return VerifiedXmlSignature(certs[0], tuple(certs[1:]))
