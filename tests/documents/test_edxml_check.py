"""``lienthong edxml check FILE [--json]``: every QCVN 102:2016 rule a package breaks, in
Vietnamese and JSON, exit 0 / 1 / 2 like ``verify`` (issue 12)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lienthong.cli import main
from tests.documents.test_edxml_vendor import vendor_package


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_good_vendor_package_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ok.edxml"
    path.write_bytes(vendor_package([("f1", "a.pdf", b"%PDF main")]))
    code, out, _err = _run(capsys, "edxml", "check", str(path))
    assert code == 0, out
    assert "đúng QCVN 102:2016" in out and "SAI" not in out


def test_every_broken_rule_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    xml = vendor_package(
        [("f1", "a.pdf", b"%PDF"), ("x", "x.pdf", b"%PDF")],
        manifest=["f1", "f9"],
        sender="UBND-TINH",
        encoded={"x": "JVBER!!"},
    )
    xml = xml.replace(
        b"2026/11/30</edXML:PromulgationDate>", b"30-11-2026</edXML:PromulgationDate>"
    )
    xml = xml.replace(b"2026/11/30 08:00:00", b"2026-11-30T08:00:00")
    xml = xml.replace(b"<edXML:Subject>V/v k", b"<edXML:Content>V/v k").replace(
        b"</edXML:Subject>", b"</edXML:Content>"
    )
    path = tmp_path / "bad.edxml"
    path.write_bytes(xml)
    code, out, _err = _run(capsys, "edxml", "check", "--json", str(path))
    assert code == 1
    report = json.loads(out)
    assert report["ok"] is False and report["kind"] == "document"
    rules = {f["rule"] for f in report["findings"]}
    assert rules >= {
        "required",
        "date",
        "timestamp",
        "agency_code",
        "document_id",
        "manifest",
        "base64",
    }
    text = " ".join(f["detail_vi"] for f in report["findings"])
    assert "Subject" in text and "f9" in text and "“x”" in text and "UBND-TINH" in text
    # the same in Vietnamese lines
    code, out, _err = _run(capsys, "edxml", "check", str(path))
    assert code == 1 and out.count("SAI") == len(report["findings"])
    # the old bare envelope and a missing envelope are shape findings
    env_only = tmp_path / "noenv.edxml"
    env_only.write_bytes(vendor_package([("f1", "a.pdf", b"%PDF")], envelope=False))
    code, out, _err = _run(capsys, "edxml", "check", "--json", str(env_only))
    assert code == 1 and json.loads(out)["findings"][0]["rule"] == "shape"


def test_unusable_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "not.xml"
    path.write_bytes(b"%PDF-1.7 not xml")
    code, _out, err = _run(capsys, "edxml", "check", str(path))
    assert code == 2 and "không phải XML" in err
    code, _out, err = _run(capsys, "edxml", "check", str(tmp_path / "missing.xml"))
    assert code == 2
