"""The envelope's XML signature (issue 12): made with the agency's seal key on the token,
checked by an independent implementation (signxml), and on import checked against the trust
roots and the sender's agency code, its verdict shown beside the PDF signatures."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import XMLVerifier  # type: ignore[attr-defined]

from documents.dates import VN
from documents.edxml import (
    DS,
    EdxmlAttachment,
    EdxmlDocument,
    Organ,
    build_document,
    parse_document,
    parse_package,
)
from documents.envelope import EnvelopeKeys, EnvelopeRejected, check_envelope, sign_package
from documents.sealing import SealConfig, Seals, SealsConfig
from server.auth.principal import Role
from server.secret import Secret
from signing.devpki import DevPki, _builder, _revocation_pointers
from signing.trust import TrustStore
from tests.conftest import People, bearer
from tests.documents.conftest import PROVINCE, SignedFiles
from tests.platform.test_auth import login

XML = {"Content-Type": "application/xml"}
VPCP = "000.00.00.G22"


@dataclasses.dataclass
class KeySigner:
    """A seal held in memory (the token's part is tested with SoftHSM below)."""

    agency: str
    key: rsa.RSAPrivateKey
    certs: list[bytes]

    async def sign_raw(self, agency: str, data: bytes) -> tuple[bytes, list[bytes]] | None:
        if agency != self.agency:
            return None
        return self.key.sign(data, padding.PKCS1v15(), hashes.SHA256()), self.certs


def agency_seal(pki: DevPki, agency: str, name: str) -> KeySigner:
    """A seal certificate from the dev PKI naming the agency code in its subject (UID)."""
    inter = x509.load_pem_x509_certificate((pki.dir / "intermediate.pem").read_bytes())
    inter_key = serialization.load_pem_private_key(pki.key("intermediate").read_bytes(), None)
    assert isinstance(inter_key, rsa.RSAPrivateKey)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            x509.NameAttribute(NameOID.USER_ID, agency),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    builder = _builder(
        subject, inter.subject, key, inter_key, now - dt.timedelta(days=1), now + dt.timedelta(30)
    )
    builder = builder.add_extension(
        x509.BasicConstraints(ca=False, path_length=None), critical=True
    ).add_extension(
        x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
    )
    for ext in _revocation_pointers(pki.base_url, "intermediate"):
        builder = builder.add_extension(ext, critical=False)
    cert = builder.sign(inter_key, hashes.SHA256())
    der = serialization.Encoding.DER
    return KeySigner(agency, key, [cert.public_bytes(der), inter.public_bytes(der)])


def _message(pdf: bytes, sender: str = VPCP, subject: str = "V/v trục liên thông") -> EdxmlDocument:
    return EdxmlDocument(
        sender=Organ(sender, "Văn phòng Chính phủ"),
        to=(Organ(PROVINCE, "UBND tỉnh"),),
        code_number="812",
        code_notation="VPCP-KSTT",
        promulgation_date=dt.date(2026, 11, 30),
        subject=subject,
        attachments=(EdxmlAttachment("812.pdf", pdf, content_id="f1"),),
        sent_at=dt.datetime(2026, 11, 30, 8, 0, tzinfo=VN),
    )


async def test_the_seal_on_the_token_signs_and_signxml_verifies(
    token_pki: DevPki, tmp_path: Path
) -> None:
    seals = Seals(
        SealsConfig(
            (
                SealConfig(
                    agency=VPCP,
                    pin=Secret(token_pki.user_pin),
                    pkcs11_lib="/usr/lib/softhsm/libsofthsm2.so",
                    token=token_pki.token_label,
                    key="agency",
                ),
            )
        )
    )
    try:
        signed = await sign_package(build_document(_message(b"%PDF x")), VPCP, seals)
        again = await sign_package(build_document(_message(b"%PDF x")), VPCP, seals)
    finally:
        await seals.close()
    assert signed == again  # deterministic: a retried message keeps its digest
    root = etree.fromstring(signed)
    sig = root.find(
        f"{{{root.nsmap[None]}}}edXMLEnvelope/{{{root.nsmap[None]}}}edXMLHeader/{{{DS}}}Signature"
    )
    assert sig is not None
    info = sig.find(f"{{{DS}}}SignedInfo")
    assert info is not None
    algorithms = [n.get("Algorithm") for n in info.iter() if n.get("Algorithm")]
    assert "http://www.w3.org/2001/10/xml-exc-c14n#" in algorithms
    assert "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" in algorithms
    cert = x509.load_pem_x509_certificate(token_pki.cert("agency").read_bytes())
    # an independent implementation accepts it
    XMLVerifier().verify(signed, x509_cert=cert)
    assert parse_document(signed).subject == "V/v trục liên thông"
    # the dev token's seal names no agency code: valid, trusted, but not the sender's
    trust = tmp_path / "trust"
    TrustStore(trust).add(token_pki.root_pem.read_bytes(), "token root")
    with pytest.raises(EnvelopeRejected) as err:
        await check_envelope(EnvelopeKeys(seals, trust), signed, parse_package(signed), VPCP)
    assert "không nêu mã cơ quan" in (err.value.detail_vi or "")


async def test_import_checks_the_envelope_signature(
    client: TestClient[Any, Any], people: People, pdfs: SignedFiles, doc_pki: DevPki
) -> None:
    await people.add("vt_p", Role.CLERK, agency=PROVINCE)
    tp = await people.token("vt_p")
    headers = {**bearer(tp), **XML}
    vpcp = agency_seal(doc_pki, VPCP, "Văn phòng Chính phủ")
    other = agency_seal(doc_pki, "000.00.00.G23", "Bộ Khác")

    async def post(data: bytes) -> tuple[int, dict[str, Any]]:
        resp = await client.post("/api/v1/documents/import", data=data, headers=headers)
        return resp.status, await resp.json()

    good = await sign_package(build_document(_message(pdfs.signed)), VPCP, vpcp)
    # a signature lifted onto another envelope (the subject changed after signing)
    changed = await sign_package(
        build_document(_message(pdfs.signed, subject="V/v khác")), VPCP, vpcp
    )
    lifted_sig = etree.fromstring(good).iter(f"{{{DS}}}Signature").__next__()
    target = etree.fromstring(changed)
    old = next(target.iter(f"{{{DS}}}Signature"))
    parent = old.getparent()
    assert parent is not None
    parent.replace(old, lifted_sig)
    lifted = etree.tostring(target, xml_declaration=True, encoding="UTF-8")
    # a valid signature by another agency than the sender (its seal, the sender's From)
    by_other = await sign_package(
        build_document(_message(pdfs.signed)), VPCP, KeySigner(VPCP, other.key, other.certs)
    )
    for data, needle in ((lifted, "không hợp lệ"), (by_other, "Bộ Khác")):
        status, problem = await post(data)
        assert status == 422 and problem["code"] == "documents.envelope_signature", problem
        assert needle in problem["detail_vi"]
    inbox = await (await client.get("/api/v1/documents/inbox", headers=bearer(tp))).json()
    assert inbox["items"] == []

    status, body = await post(good)
    assert status == 201, body
    view = await (await client.get(f"/api/v1/documents/{body['id']}", headers=bearer(tp))).json()
    assert view["metadata_verified"] is True
    assert view["envelope_signature_vi"] == "Chữ ký gói tin: hợp lệ — Văn phòng Chính phủ"
    assert (await login(client, "vt_p")).status == 302
    page = await (
        await client.get(f"/documents/{body['id']}", headers={"Accept": "text/html"})
    ).text()
    assert 'data-testid="doc-envelope-signature"' in page
    assert "Chữ ký gói tin: hợp lệ — Văn phòng Chính phủ" in page
