"""Validation as of the signature timestamp: a signer certificate that expired *after* a valid,
trusted signature timestamp (B-T and up) still validates, at the timestamp's time; without a
timestamp (B-B) it is expired. And a missing revocation answer is ``revocation_unknown``, not
``untrusted``."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest

from server.secret import Secret
from signing.devpki import DevPki, issue_signer
from signing.pades import Level, SignOptions, sign_file
from signing.tokens import TokenSession, pkcs12_signer

from .helpers import verify

pytestmark = pytest.mark.hsm

LIFETIME = 4
"""Seconds the short-lived certificate stays valid after it is issued."""


@pytest.fixture(scope="module")
def expired_since(
    pki: DevPki, sample_pdf: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[Level, Path]:
    """Files signed while the certificate was valid, returned once it has expired."""
    directory = tmp_path_factory.mktemp("as-of")
    not_after = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=LIFETIME)
    p12 = issue_signer(pki, "Đỗ Văn Hạn", not_after, directory / "short.p12", "Phó Chủ tịch")
    signer = pkcs12_signer(p12, Secret(pki.p12_password))
    files = {}
    for level in (Level.B_B, Level.B_T, Level.B_LT):
        files[level] = directory / f"{level.value}.pdf"
        sign_file(sample_pdf, files[level], signer, SignOptions(level, pki.tsa_url))
    # past not_after plus pyHanko's one-second tolerance
    while dt.datetime.now(dt.UTC) < not_after + dt.timedelta(seconds=1.5):
        time.sleep(0.2)
    return files


@pytest.mark.parametrize(
    ("level", "online"), [(Level.B_T, True), (Level.B_LT, True), (Level.B_LT, False)]
)
def test_expired_after_timestamp_validates_as_of_the_timestamp(
    expired_since: dict[Level, Path], roots: list[Any], level: Level, online: bool
) -> None:
    report = verify(expired_since[level], roots, online=online)
    assert report.ok, report.to_json()
    sig = report.signatures[0]
    assert sig.as_of_timestamp and sig.trusted and sig.revocation == "good"
    assert sig.timestamp_ok and sig.validation_time == sig.timestamp_time
    assert "hết hạn sau thời điểm đó" in sig.summary_vi


def test_expired_without_timestamp_stays_invalid(
    expired_since: dict[Level, Path], roots: list[Any]
) -> None:
    report = verify(expired_since[Level.B_B], roots)
    sig = report.signatures[0]
    assert not report.ok and not sig.as_of_timestamp
    assert sig.problems == ["expired"]


def test_b_t_offline_is_not_rescued_without_revocation_data(
    expired_since: dict[Level, Path], roots: list[Any]
) -> None:
    # the timestamp itself cannot be checked for revocation offline: no proof of time, strict
    report = verify(expired_since[Level.B_T], roots, online=False)
    assert not report.ok
    assert "revocation_unknown" in report.signatures[0].problems


def test_missing_revocation_data_is_revocation_unknown(
    token: TokenSession, roots: list[Any], sample_pdf: Path, tmp_path: Path
) -> None:
    out = tmp_path / "bb.pdf"
    sign_file(sample_pdf, out, token.signer("clerk"), SignOptions(Level.B_B))
    sig = verify(out, roots, online=False).signatures[0]
    assert sig.problems == ["revocation_unknown"]
    assert sig.revocation == "unknown"
    assert "thu hồi" in sig.summary_vi
