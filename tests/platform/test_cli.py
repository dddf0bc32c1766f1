"""The ``lienthong`` command as scripts and the acceptance check use it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "lienthong.cli"]


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {
        "LIENTHONG_DATA_DIR": str(tmp_path / "data"),
        "PATH": "/usr/bin:/bin",
        "PW": "mat-khau-dai-1",
    }

    def call(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=60)

    assert call("db", "upgrade").returncode == 0
    return call


def test_serve_refuses_an_old_schema(tmp_path: Path) -> None:
    env = {"LIENTHONG_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "LIENTHONG_PORT": "1"}
    out = subprocess.run([*CLI, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "db upgrade" in out.stderr


def test_bad_configuration_names_the_key(tmp_path: Path) -> None:
    env = {"LIENTHONG_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "LIENTHONG_PORT": "http"}
    out = subprocess.run([*CLI, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "http.port" in out.stderr


def test_demo_is_idempotent(run) -> None:  # type: ignore[no-untyped-def]
    first = run("demo")
    assert first.returncode == 0 and "quantri" in first.stdout
    assert "(12 tài khoản mới)" in first.stdout
    again = run("demo")
    assert "(0 tài khoản mới)" in again.stdout
    assert "Kỳ họp demo (mới):" in first.stdout
    assert "Kỳ họp demo:" in again.stdout and "(mới)" not in again.stdout
    assert "Hội nghị trực tuyến demo (mới):" in first.stdout
    assert "Hội nghị trực tuyến demo:" in again.stdout
    agencies = json.loads(run("agency", "export", "--format", "json").stdout)
    assert len(agencies) == 13
    levels = [a["level"] for a in agencies]
    assert levels.count(3) == 6


def test_agency_import_user_add_token(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "a.csv"
    good.write_text(
        "code,name,parent_code,level\n000.00.00.H96,UBND tỉnh,,1\n000.00.10.H96,Sở Nội vụ,000.00.00.H96,2\n"
    )
    out = run("agency", "import", str(good))
    assert out.returncode == 0, out.stderr
    bad = tmp_path / "b.csv"
    bad.write_text(
        "code,name,parent_code,level\n000.00.11.H96,Sở Tài chính,000.00.00.H96,2\n000.00.12,Sở sai,,2\n"
    )
    out = run("agency", "import", str(bad))
    assert out.returncode == 2
    assert "Dòng 2" in out.stderr and "Row 2" in out.stderr
    assert "000.00.11.H96" not in run("agency", "export").stdout  # nothing half-imported

    out = run(
        "user",
        "add",
        "vanthu",
        "--agency",
        "000.00.10.H96",
        "--role",
        "clerk",
        "--name",
        "Văn Thư",
        "--password-env",
        "PW",
    )
    assert out.returncode == 0, out.stderr
    out = run("user", "add", "ghost", "--agency", "000.00.99.H96", "--role", "clerk")
    assert out.returncode == 2 and "000.00.99.H96" in out.stderr
    out = run("user", "add", "bad", "--agency", "000.00.10.H96", "--role", "emperor")
    assert out.returncode == 2
    token = run("token", "create", "--user", "vanthu")
    assert token.returncode == 0
    assert token.stdout.count("\n") == 1 and token.stdout.startswith("lt_")
    verify = run("audit", "verify")
    assert verify.returncode == 0 and "intact" in verify.stdout
