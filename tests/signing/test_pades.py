"""PAdES signing on a real SoftHSM2 token at every level, checked by our validator and pdfsig."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from signing.devpki import DevPki
from signing.pades import Level, SignOptions, sign_file
from signing.stamps import Role, iso_vietnam
from signing.tokens import TokenSession

from .helpers import pdfsig, verify

pytestmark = pytest.mark.hsm


@pytest.mark.parametrize("level", list(Level))
def test_every_level_signs_and_validates(
    level: Level,
    pki: DevPki,
    token: TokenSession,
    roots: list[Any],
    sample_pdf: Path,
    tmp_path: Path,
) -> None:
    out = tmp_path / f"{level}.pdf"
    result = sign_file(
        sample_pdf,
        out,
        token.signer("leader"),
        SignOptions(level=level, tsa_url=pki.tsa_url, role=Role.LEADER),
    )
    assert result.level is level
    report = verify(out, roots)
    assert report.ok, report.to_json()
    sig = report.signatures[0]
    assert sig.signer == "Nguyễn Văn An"
    assert sig.level == level.value
    assert sig.revocation == "good"
    if level.timestamped:
        assert sig.timestamp_ok is True
    if level is Level.B_LTA:
        assert report.signatures[-1].kind == "document_timestamp"
    # the independent validator agrees on the signature itself (it cannot check doc timestamps)
    text = pdfsig(out)
    assert "Signature is Valid" in text
    assert "Nguyễn Văn An" in text


def test_leader_then_seal_then_certified_copy_all_stay_valid(
    pki: DevPki, token: TokenSession, roots: list[Any], sample_pdf: Path, tmp_path: Path
) -> None:
    leader, seal, copy = tmp_path / "1.pdf", tmp_path / "2.pdf", tmp_path / "3.pdf"
    sign_file(
        sample_pdf, leader, token.signer("leader"), SignOptions(Level.B_T, pki.tsa_url, Role.LEADER)
    )
    sign_file(
        leader, seal, token.signer("agency"), SignOptions(Level.B_LT, pki.tsa_url, Role.AGENCY)
    )
    sign_file(seal, copy, token.signer("clerk"), SignOptions(Level.B_LTA, pki.tsa_url))
    report = verify(copy, roots)
    assert report.ok, report.to_json()
    signers = [s.signer for s in report.signatures if s.kind == "signature"]
    assert signers == ["Nguyễn Văn An", "UBND tỉnh Demo", "Trần Thị Bình"]
    assert report.signatures[0].modification == "signatures_or_forms"
    assert pdfsig(copy).count("Signature is Valid") == 3
    # every earlier revision is still a valid document on its own
    assert verify(seal, roots).ok


def test_attachment_stamp_text(
    pki: DevPki, token: TokenSession, roots: list[Any], sample_pdf: Path, tmp_path: Path
) -> None:
    out = tmp_path / "phu-luc.pdf"
    result = sign_file(
        sample_pdf,
        out,
        token.signer("agency"),
        SignOptions(Level.B_T, pki.tsa_url, Role.ATTACHMENT, number="123/UBND-VP"),
    )
    assert result.stamp_text == f"123/UBND-VP\n{iso_vietnam(result.signed_at)}"
    assert result.stamp_text.endswith("+07:00")
    assert result.page == 0 and result.box is not None and result.box[3] > 780
    assert verify(out, roots).ok


def test_iso_vietnam_format() -> None:
    import datetime as dt

    moment = dt.datetime(2026, 11, 23, 2, 15, 2, 123, tzinfo=dt.UTC)
    assert iso_vietnam(moment) == "2026-11-23T09:15:02+07:00"


def test_pkcs12_signer(pki: DevPki, roots: list[Any], sample_pdf: Path, tmp_path: Path) -> None:
    from server.secret import Secret
    from signing.tokens import pkcs12_signer

    out = tmp_path / "p12.pdf"
    signer = pkcs12_signer(pki.p12("clerk"), Secret(pki.p12_password))
    sign_file(sample_pdf, out, signer, SignOptions(Level.B_B))
    report = verify(out, roots)
    assert report.ok and report.signatures[0].signer == "Trần Thị Bình"


@pytest.mark.parametrize("level", [Level.B_LT, Level.B_LTA])
def test_long_term_files_validate_offline(
    level: Level,
    pki: DevPki,
    token: TokenSession,
    roots: list[Any],
    sample_pdf: Path,
    tmp_path: Path,
) -> None:
    out = tmp_path / "lt.pdf"
    sign_file(sample_pdf, out, token.signer("agency"), SignOptions(level, pki.tsa_url))
    report = verify(out, roots, online=False)
    assert report.ok, report.to_json()


def test_b_b_offline_has_no_revocation_data(
    token: TokenSession, roots: list[Any], sample_pdf: Path, tmp_path: Path
) -> None:
    out = tmp_path / "bb.pdf"
    sign_file(sample_pdf, out, token.signer("agency"), SignOptions(Level.B_B))
    report = verify(out, roots, online=False)
    assert not report.ok
    assert report.signatures[0].revocation == "unknown"
