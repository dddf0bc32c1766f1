"""Bad input gives a clear error and never leaves an output file behind."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

import pytest

from server.secret import Secret
from signing.devpki import SOFTHSM_LIB, DevPki
from signing.errors import (
    CertificateProblem,
    InvalidPdf,
    KeyNotFound,
    PinLocked,
    SigningError,
    TimestampUnavailable,
    TokenNotFound,
    WrongPin,
)
from signing.pades import Level, SignOptions, sign_file
from signing.tokens import TokenSession, _mapped_errors, list_tokens, pkcs12_signer
from tests.hsm import free_port

from .helpers import verify

pytestmark = pytest.mark.hsm


def _encrypted(sample: Path) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(sample))
    writer.encrypt("mat-khau", algorithm="AES-128")
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _deeply_nested() -> bytes:
    depth = 50_000
    deep = b"[" * depth + b"]" * depth
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Deep " + deep + b" >>",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _inputs(sample: Path) -> dict[str, bytes]:
    data = sample.read_bytes()
    return {
        "encrypted": _encrypted(sample),
        "truncated": data[: len(data) // 2],
        "garbage": bytes(range(256)) * 40,
        "not_pdf": "Quyết định số 123 (văn bản thường)".encode() * 50,
        "broken_xref": data.replace(b"startxref", b"startxref\n999999999\n%"),
        "deep_nesting": _deeply_nested(),
        "empty": b"",
    }


BAD = ["encrypted", "truncated", "garbage", "not_pdf", "broken_xref", "deep_nesting", "empty"]


def _no_output(directory: Path, out: Path) -> None:
    assert not out.exists()
    assert not [p for p in directory.iterdir() if p.name.endswith(".part")]


@pytest.mark.parametrize("kind", BAD)
def test_bad_pdf_is_refused(
    kind: str, token: TokenSession, sample_pdf: Path, tmp_path: Path, roots: list[Any]
) -> None:
    src = tmp_path / f"{kind}.pdf"
    src.write_bytes(_inputs(sample_pdf)[kind])
    out = tmp_path / "out.pdf"
    with pytest.raises(InvalidPdf) as err:
        sign_file(src, out, token.signer("clerk"), SignOptions(Level.B_B))
    assert err.value.detail_vi.startswith("Tệp PDF không dùng được")
    _no_output(tmp_path, out)
    with pytest.raises(InvalidPdf):
        verify(src, roots)


def test_expired_certificate(token: TokenSession, sample_pdf: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.pdf"
    with pytest.raises(CertificateProblem) as err:
        sign_file(sample_pdf, out, token.signer("expired"), SignOptions(Level.B_B))
    assert "hết hạn" in err.value.detail_vi
    _no_output(tmp_path, out)


@pytest.mark.parametrize("level", [Level.B_B, Level.B_LT])
def test_revoked_certificate(
    level: Level, pki: DevPki, token: TokenSession, sample_pdf: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.pdf"
    with pytest.raises(CertificateProblem) as err:
        sign_file(sample_pdf, out, token.signer("revoked"), SignOptions(level, pki.tsa_url))
    assert "thu hồi" in err.value.detail_vi
    _no_output(tmp_path, out)


def test_tsa_down(token: TokenSession, sample_pdf: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.pdf"
    dead = f"http://127.0.0.1:{free_port()}/tsa"
    with pytest.raises(TimestampUnavailable):
        sign_file(sample_pdf, out, token.signer("leader"), SignOptions(Level.B_T, dead))
    _no_output(tmp_path, out)


def test_level_needs_tsa(token: TokenSession, sample_pdf: Path, tmp_path: Path) -> None:
    with pytest.raises(SigningError):
        sign_file(sample_pdf, tmp_path / "o.pdf", token.signer("leader"), SignOptions(Level.B_T))


def test_missing_anchor(token: TokenSession, sample_pdf: Path, tmp_path: Path) -> None:
    from signing.errors import AnchorNotFound
    from signing.stamps import Role

    with pytest.raises(AnchorNotFound):
        sign_file(
            sample_pdf,
            tmp_path / "o.pdf",
            token.signer("leader"),
            SignOptions(role=Role.LEADER, anchor_text="GIÁM ĐỐC SỞ"),
        )


# -- token errors ---------------------------------------------------------------------------------
def test_list_tokens_and_keys(pki: DevPki, token: TokenSession) -> None:
    labels = {t.label for t in list_tokens(SOFTHSM_LIB)}
    assert {pki.token_label, pki.lock_token_label} <= labels
    keys = {k.label: k for k in token.list_keys()}
    assert {"leader", "agency", "clerk", "expired", "revoked"} <= set(keys)
    assert keys["leader"].subject is not None and "Nguyễn Văn An" in keys["leader"].subject


def test_find_key_by_id_and_by_certificate(pki: DevPki, token: TokenSession) -> None:
    from signing.trust import load_cert_files

    _label, key_id = token.find_key(label="agency")
    assert key_id is not None
    assert token.find_key(key_id=key_id)[0] == "agency"
    cert = load_cert_files([pki.cert("clerk")])[0]
    assert token.find_key(cert=cert)[0] == "clerk"
    signer = token.signer(cert=cert)
    assert signer.signing_cert.subject.native["common_name"] == "Trần Thị Bình"


def test_wrong_pin(pki: DevPki) -> None:
    with pytest.raises(WrongPin), TokenSession(SOFTHSM_LIB, pki.lock_token_label, Secret("000000")):
        pass


def test_missing_token() -> None:
    with pytest.raises(TokenNotFound), TokenSession(SOFTHSM_LIB, "Không có", Secret("1")):
        pass


def test_missing_library() -> None:
    from signing.errors import TokenError

    with pytest.raises(TokenError):
        list_tokens("/nonexistent/libpkcs11.so")


def test_missing_key(token: TokenSession) -> None:
    with pytest.raises(KeyNotFound):
        token.signer("khong-co")


def test_locked_pin_is_reported() -> None:
    # SoftHSM2 never locks a PIN, so the mapping is checked at the python-pkcs11 edge
    import pkcs11

    with pytest.raises(PinLocked), _mapped_errors("x"):
        raise pkcs11.exceptions.PinLocked()


def test_pkcs12_wrong_password(pki: DevPki) -> None:
    with pytest.raises(WrongPin):
        pkcs12_signer(pki.p12("clerk"), Secret("sai"))
