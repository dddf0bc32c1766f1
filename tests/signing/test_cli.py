"""The command line: sign with a token or PKCS#12 file, verify exit statuses, trust store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from signing.cli import main
from signing.devpki import SOFTHSM_LIB, DevPki

pytestmark = pytest.mark.hsm


def _token_args(pki: DevPki, key: str) -> list[str]:
    return [
        "--pkcs11-lib",
        SOFTHSM_LIB,
        "--token",
        pki.token_label,
        "--key",
        key,
        "--pin-env",
        "LT_PIN",
    ]


def test_sign_with_token_then_verify(
    pki: DevPki,
    sample_pdf: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("LT_PIN", pki.user_pin)
    leader, sealed = tmp_path / "leader.pdf", tmp_path / "sealed.pdf"
    assert (
        main(
            [
                "sign",
                str(sample_pdf),
                str(leader),
                *_token_args(pki, "leader"),
                "--level",
                "b-t",
                "--tsa",
                pki.tsa_url,
                "--role",
                "leader",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "sign",
                str(leader),
                str(sealed),
                *_token_args(pki, "agency"),
                "--level",
                "b-lt",
                "--tsa",
                pki.tsa_url,
                "--role",
                "agency",
                "--image",
                str(pki.dir / "images" / "seal.png"),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["verify", str(sealed), "--trust", str(pki.root_pem), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and len(report["signatures"]) == 2
    assert report["signatures"][1]["signer"] == "UBND tỉnh Demo"


def test_sign_with_pkcs12_attachment(
    pki: DevPki, sample_pdf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LT_PASS", pki.p12_password)
    out = tmp_path / "att.pdf"
    assert (
        main(
            [
                "sign",
                str(sample_pdf),
                str(out),
                "--pkcs12",
                str(pki.p12("agency")),
                "--pass-env",
                "LT_PASS",
                "--role",
                "attachment",
                "--number",
                "123/UBND-VP",
            ]
        )
        == 0
    )
    assert main(["verify", str(out), "--trust", str(pki.root_pem)]) == 0


def test_verify_exit_statuses(
    pki: DevPki,
    sample_pdf: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("LT_PIN", pki.user_pin)
    signed = tmp_path / "s.pdf"
    assert main(["sign", str(sample_pdf), str(signed), *_token_args(pki, "clerk")]) == 0
    # a root that did not issue the signer: invalid
    from signing.devpki import create_dev_pki

    other = create_dev_pki(tmp_path / "other", pki.port, with_token=False)
    assert main(["verify", str(signed), "--trust", str(other.root_pem)]) == 1
    # unsigned file: invalid; garbage: unusable
    assert main(["verify", str(sample_pdf), "--trust", str(pki.root_pem)]) == 1
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"not a pdf")
    assert main(["verify", str(junk), "--trust", str(pki.root_pem)]) == 2
    out = capsys.readouterr()
    assert "không phải là tệp PDF" in out.err


def test_sign_errors_leave_nothing(
    pki: DevPki,
    sample_pdf: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("LT_PIN", "999999")
    out = tmp_path / "o.pdf"
    assert main(["sign", str(sample_pdf), str(out), *_token_args(pki, "leader")]) == 1
    assert "PIN" in capsys.readouterr().err
    assert not out.exists()
    with pytest.raises(SystemExit):
        main(["sign", str(sample_pdf), str(out), "--pkcs12", "x.p12"])  # --pass-env missing


def test_trust_add_list_remove(
    pki: DevPki, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "trust"
    assert main(["trust", "--dir", str(store), "add", str(pki.root_pem)]) == 0
    added = capsys.readouterr().out
    fingerprint = added.split()[2]
    assert len(fingerprint) == 64
    assert main(["trust", "--dir", str(store), "list"]) == 0
    assert "Liên Thông Dev Root CA" in capsys.readouterr().out
    leaf = pki.cert("leader")
    assert main(["trust", "--dir", str(store), "add", str(leaf)]) == 2  # not a CA
    assert main(["trust", "--dir", str(store), "remove", fingerprint[:16]]) == 0
    assert list(store.glob("*.pem")) == []
    assert main(["trust", "--dir", str(store), "remove", fingerprint]) == 2


def test_verify_uses_configured_trust_dir(
    pki: DevPki, sample_pdf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LT_PIN", pki.user_pin)
    monkeypatch.setenv("LIENTHONG_DATA_DIR", str(tmp_path / "data"))
    signed = tmp_path / "s.pdf"
    assert main(["sign", str(sample_pdf), str(signed), *_token_args(pki, "clerk")]) == 0
    assert main(["verify", str(signed)]) == 2  # no roots configured yet
    assert main(["trust", "add", str(pki.root_pem)]) == 0
    assert main(["verify", str(signed)]) == 0


def test_registering_the_commands_imports_no_heavy_library() -> None:
    """``add_commands`` runs for every ``lienthong`` command: pyHanko & co. load only when used."""
    import subprocess
    import sys

    code = (
        "import argparse, sys\n"
        "from signing.cli import add_commands\n"
        "add_commands(argparse.ArgumentParser().add_subparsers())\n"
        "heavy = ('pyhanko', 'pyhanko_certvalidator', 'pkcs11', 'asn1crypto', 'pypdf', 'aiohttp')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
