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
    after_first = run("agency", "export", "--format", "json").stdout
    again = run("demo")
    assert "(0 tài khoản mới)" in again.stdout
    assert "Kỳ họp demo (mới):" in first.stdout
    assert "Kỳ họp demo:" in again.stdout and "(mới)" not in again.stdout
    assert "Hội nghị trực tuyến demo (mới):" in first.stdout
    assert "Hội nghị trực tuyến demo:" in again.stdout
    agencies = json.loads(run("agency", "export", "--format", "json").stdout)
    live = [a for a in agencies if a["valid_to"] is None]
    ended = [a for a in agencies if a["valid_to"] is not None]
    # the province since 1 July 2025: UBND tỉnh and its Office, three departments, HĐND tỉnh,
    # eight communes and wards directly under the province, and no live district
    assert len(live) == 14
    communes = [a for a in live if a["name"].startswith(("UBND xã", "UBND phường"))]
    assert len(communes) == 8
    assert {a["parent_code"] for a in communes} == {"000.00.00.H99"}
    assert not [a for a in live if "huyện" in a["name"]]
    # the former districts and communes stay, as units that ended on 30 June 2025
    assert {a["valid_to"] for a in ended} == {"2025-06-30"}
    assert len([a for a in ended if "huyện" in a["name"]]) == 2
    assert len(ended) == 9
    # the second run left the same province (nothing duplicated, history unchanged)
    assert json.loads(after_first) == agencies
    assert "Giao ban trực tuyến tỉnh – xã" in first.stdout


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
