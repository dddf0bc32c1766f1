"""``lienthong send | inbox | status | trace`` against a running server, over the API."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from lienthong.cli import main
from server.auth.principal import Role
from tests.conftest import People
from tests.documents.conftest import AGENCY_A, AGENCY_B, SignedFiles


async def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_send_inbox_status_trace(
    client: TestClient[Any, Any],
    people: People,
    pdfs: SignedFiles,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await people.add("vt_a", Role.CLERK, agency=AGENCY_A)
    await people.add("vt_b", Role.CLERK, Role.LEADER, agency=AGENCY_B)
    await people.add("cv_b", Role.OFFICIAL, agency=AGENCY_B)
    monkeypatch.setenv("TOKEN_A", await people.token("vt_a"))
    monkeypatch.setenv("TOKEN_B", await people.token("vt_b"))
    server = str(client.make_url("/")).rstrip("/")
    a = ["--server", server, "--token-env", "TOKEN_A"]
    b = ["--server", server, "--token-env", "TOKEN_B"]

    code, out, err = await _cli(
        capsys, "send", *a, "--to", AGENCY_B, "--number", "7", "--notation", "UBND-VP",
        "--subject", "Về việc họp giao ban", str(pdfs.signed_path),
    )  # fmt: skip
    assert code == 0, err
    doc_id = out.strip()
    assert len(doc_id) == 32

    code, out, _err = await _cli(capsys, "inbox", *b)
    assert code == 0 and doc_id in out and "Đã đến" in out
    code, out, _err = await _cli(capsys, "inbox", *b, "--json")
    assert json.loads(out)[0]["id"] == doc_id

    code, out, _err = await _cli(capsys, "status", *b, doc_id, "03")
    assert code == 0 and "số đến 1" in out
    code, out, _err = await _cli(capsys, "status", *b, doc_id, "04", "--assignee", "cv_b")
    assert code == 0
    code, _out, err = await _cli(capsys, "status", *b, doc_id, "03")
    assert code == 1 and "đã được vào sổ" in err

    code, out, _err = await _cli(capsys, "trace", *a, doc_id)
    assert code == 0 and "03 Đã vào sổ" in out and "04 Đã phân công" in out
    code, out, _err = await _cli(capsys, "trace", *a, doc_id, "--json")
    timeline = json.loads(out)["recipients"][0]["timeline"]
    assert [e["code"] for e in timeline] == ["01", "03", "04"]


async def test_cli_problems(
    client: TestClient[Any, Any],
    people: People,
    pdfs: SignedFiles,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    await people.add("vt_a", Role.CLERK, agency=AGENCY_A)
    monkeypatch.setenv("TOKEN_A", await people.token("vt_a"))
    server = str(client.make_url("/")).rstrip("/")
    unsigned = tmp_path / "chua-ky.pdf"
    unsigned.write_bytes(pdfs.unsigned)
    base = ["--to", AGENCY_B, "--number", "1", "--subject", "x"]
    code, _out, err = await _cli(
        capsys, "send", "--server", server, "--token-env", "TOKEN_A", *base, str(unsigned)
    )
    assert code == 1 and "chữ ký số" in err
    code, _out, err = await _cli(
        capsys, "send", "--server", server, "--token-env", "NO_SUCH_VAR", *base, str(unsigned)
    )
    assert code == 2 and "NO_SUCH_VAR" in err
    code, _out, err = await _cli(
        capsys, "inbox", "--server", "http://127.0.0.1:9", "--token-env", "TOKEN_A"
    )
    assert code == 2 and "không kết nối được" in err
    code, _out, err = await _cli(
        capsys, "trace", "--server", server, "--token-env", "TOKEN_A", "f" * 32
    )
    assert code == 1 and "Không tìm thấy văn bản" in err
