"""A check that fails to run never answers "fine" or "not signed" (issue 10): signing catches the
libraries' own errors on a bad file and gives its verdict, and lets anything else (a bug, an
outage) through to the HTTP layer, which logs it with its traceback and answers 500 with an
incident id."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pyhanko_certvalidator.errors import InvalidCertificateError

from server.auth.principal import Role
from server.http.keys import CONFIG_KEY
from signing import validate, verifyproc
from signing.devpki import DevPki
from signing.errors import SigningError, SigningErrorCode
from signing.pades import Level, SignOptions, sign_pdf_async
from signing.tokens import TokenSession
from signing.validate import Verifier
from tests.conftest import People, bearer
from tests.sessions.helpers import make_council

pytestmark = pytest.mark.hsm

Client = TestClient[Any, Any]
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def signed(token: TokenSession, sample_pdf: Path) -> bytes:
    data, _ = asyncio.run(
        sign_pdf_async(sample_pdf.read_bytes(), token.signer("leader"), SignOptions(Level.B_B))
    )
    return data


def _broken_cms(signed: bytes) -> bytes:
    """The signature's CMS with bytes changed inside its certificates: still hex, no longer DER
    that pyHanko can use (a library error on the file, not a bug)."""
    start = signed.index(b"/Contents <") + len(b"/Contents <")
    middle = start + 40
    return signed[:middle] + b"00" * 64 + signed[middle + 128 :]


def _boom(*_: Any, **__: Any) -> Any:
    raise RuntimeError("a bug inside validation")


async def test_a_bug_inside_validation_is_not_a_verdict(
    signed: bytes, roots: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(validate, "async_validate_pdf_signature", _boom)
    async with Verifier(roots, online=False) as verifier:
        with pytest.raises(RuntimeError, match="a bug inside validation"):
            await verifier.verify(signed)


async def test_a_bug_while_explaining_distrust_is_not_untrusted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The path check behind "why not trusted" (validate.py's old ``except Exception`` answered
    ``untrusted`` for anything, bugs included)."""
    status = SimpleNamespace(
        trusted=False, trust_problem_indic="CHAIN_CONSTRAINTS_FAILURE", validation_path=object()
    )

    async def path_error(*_: Any) -> None:
        raise InvalidCertificateError("the key usage forbids signing")

    monkeypatch.setattr(validate, "async_validate_path", path_error)
    assert await validate._trust_problems(status, None) == ["untrusted"]  # type: ignore[arg-type]
    monkeypatch.setattr(validate, "async_validate_path", _boom)
    with pytest.raises(RuntimeError, match="a bug inside validation"):
        await validate._trust_problems(status, None)  # type: ignore[arg-type]


async def test_a_library_error_is_still_a_verdict(signed: bytes, roots: list[Any]) -> None:
    async with Verifier(roots, online=False) as verifier:
        report = await verifier.verify(_broken_cms(signed))
    assert not report.ok
    [sig] = report.signatures
    assert sig.problems[0] == "error" and not sig.trusted
    assert "KHÔNG hợp lệ" in sig.summary_vi


async def test_a_library_error_is_a_verdict_over_http(
    client: Client, people: People, pki: DevPki, signed: bytes
) -> None:
    """Through the worker process: a broken CMS is answered 200 with ok false, not a 500."""
    trust = client.app[CONFIG_KEY].trust_dir
    trust.mkdir(parents=True, exist_ok=True)
    (trust / "root.pem").write_bytes(pki.root_pem.read_bytes())
    await people.add("kiemtra", Role.CLERK)
    headers = {**bearer(await people.token("kiemtra")), "Content-Type": "application/pdf"}
    resp = await client.post("/api/v1/signatures/verify", data=_broken_cms(signed), headers=headers)
    body = await resp.json()
    assert resp.status == 200, body
    assert body["ok"] is False and body["signatures"][0]["problems"][0] == "error"


async def test_a_bug_inside_validation_answers_500_with_an_incident(
    client: Client,
    people: People,
    pki: DevPki,
    signed: bytes,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Signed minutes are checked in the server's process: a RuntimeError inside pyHanko is a
    logged 500 with an incident id (it used to be the verdict "error", refusing the minutes as
    not validly signed)."""
    c = await make_council(client, people)
    await people.certificate("thuky", pki.cert("leader"))  # the minutes are signed with it
    trust = client.app[CONFIG_KEY].trust_dir
    trust.mkdir(parents=True, exist_ok=True)
    (trust / "root.pem").write_bytes(pki.root_pem.read_bytes())
    monkeypatch.setattr(validate, "async_validate_pdf_signature", _boom)
    with caplog.at_level(logging.ERROR, logger="lienthong.http"):
        resp = await client.post(
            f"/api/v1/sessions/{c.sid}/minutes/signed", data=signed, headers=c.h("thuky")
        )
    assert resp.status == 500 and resp.content_type == PROBLEM
    body = await resp.json(content_type=PROBLEM)
    assert body["code"] == "internal"
    incident = re.search(r"incident ([0-9a-f]{12})", body["detail"])
    assert incident is not None and incident.group(1) in body["detail_vi"]
    [record] = [r for r in caplog.records if incident.group(1) in r.getMessage()]
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError
    assert "a bug inside validation" in caplog.text and "Traceback" in caplog.text


def test_a_crash_in_the_checking_process_carries_its_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The worker's child sends the traceback of a bug, which the parent raises (and the HTTP
    layer logs) as :class:`CheckCrashed`; it is never an answer about the file."""

    class Host:
        async def verify(self, data: bytes) -> None:
            _boom()

    loop = asyncio.new_event_loop()
    try:
        outcome = verifyproc._outcome(loop, Host(), b"%PDF")  # type: ignore[arg-type]
    finally:
        loop.close()
    assert outcome[0] == "crash"
    assert "Traceback" in outcome[1] and "RuntimeError: a bug inside validation" in outcome[1]
    assert "_boom" in outcome[1]


def test_codes_are_one_enum_with_the_old_strings() -> None:
    assert SigningError.code is SigningErrorCode.FAILED
    assert str(SigningErrorCode.FAILED) == "signing.failed"
    assert SigningErrorCode("signing.wrong_pin") is SigningErrorCode.WRONG_PIN
    assert f"urn:lienthong:problem:{SigningErrorCode.INVALID_PDF}".endswith(":signing.invalid_pdf")
