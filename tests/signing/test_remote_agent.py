"""Two-phase signing through the local agent: the server prepares, the agent signs on the real
SoftHSM2 token (PIN from a stub provider), the server finishes; origins other than the paired one
are refused."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from server.secret import Secret
from signing.agent import AGENT, AgentConfig, SignPrompt, make_agent_app, terminal_pin_provider
from signing.devpki import SOFTHSM_LIB, DevPki
from signing.errors import SigningError
from signing.pades import Level, SignOptions
from signing.remote import RemoteSigning
from signing.stamps import Role
from signing.trust import load_cert_files
from signing.validate import Verifier

pytestmark = pytest.mark.hsm

ORIGIN = "https://lienthong.demo.gov.vn"


class StubPin:
    """Stands in for the terminal: records the prompt, answers the PIN (or refuses)."""

    def __init__(self, pin: str | None) -> None:
        self.pin = pin
        self.prompts: list[SignPrompt] = []

    async def __call__(self, prompt: SignPrompt) -> Secret | None:
        self.prompts.append(prompt)
        return Secret(self.pin) if self.pin is not None else None


async def _client(pki: DevPki, pin: StubPin) -> TestClient[Any, Any]:
    config = AgentConfig(
        lib_path=SOFTHSM_LIB, origin=ORIGIN, token_label=pki.token_label, pin_provider=pin
    )
    client: TestClient[Any, Any] = TestClient(TestServer(make_agent_app(config)))
    await client.start_server()
    return client


async def _pair(client: TestClient[Any, Any]) -> dict[str, str]:
    code = client.app[AGENT].pairing_code
    resp = await client.post("/pair", json={"code": code}, headers={"Origin": ORIGIN})
    assert resp.status == 200
    token = (await resp.json())["token"]
    return {"Origin": ORIGIN, "Authorization": f"Bearer {token}"}


async def test_other_origins_are_refused(pki: DevPki) -> None:
    client = await _client(pki, StubPin("x"))
    try:
        for origin in (None, "https://evil.example", "http://lienthong.demo.gov.vn"):
            headers = {"Origin": origin} if origin else {}
            for method, path in (("GET", "/status"), ("POST", "/sign"), ("OPTIONS", "/sign")):
                resp = await client.request(method, path, headers=headers)
                assert resp.status == 403, (origin, path)
        resp = await client.options("/sign", headers={"Origin": ORIGIN})
        assert resp.status == 204
        assert resp.headers["Access-Control-Allow-Origin"] == ORIGIN
        resp = await client.post("/sign", json={}, headers={"Origin": ORIGIN})
        assert resp.status == 401  # not paired
        resp = await client.post("/pair", json={"code": "000000x"}, headers={"Origin": ORIGIN})
        assert resp.status == 403
    finally:
        await client.close()


async def test_two_phase_signing_through_the_agent(
    pki: DevPki, sample_pdf: Path, roots: list[Any]
) -> None:
    pin = StubPin(pki.user_pin)
    client = await _client(pki, pin)
    remote = RemoteSigning()
    try:
        headers = await _pair(client)
        cert = load_cert_files([pki.cert("leader")])[0]
        chain = load_cert_files(list(pki.chain_pems))
        data = await asyncio.to_thread(sample_pdf.read_bytes)
        prepared = await remote.prepare(
            data,
            cert,
            chain,
            SignOptions(Level.B_T, pki.tsa_url, Role.LEADER),
        )
        resp = await client.post(
            "/sign",
            headers=headers,
            json={
                "to_sign_b64": prepared.to_sign_b64,
                "message_digest": prepared.message_digest,
                "document_number": "123/QĐ-UBND",
                "subject": "Về việc ban hành quy chế phối hợp",
                "key_label": "leader",
            },
        )
        assert resp.status == 200, await resp.text()
        signature = base64.b64decode((await resp.json())["signature_b64"])
        assert pin.prompts[0].document_number == "123/QĐ-UBND"
        assert pin.prompts[0].message_digest == prepared.message_digest
        signed = await remote.finish(prepared.request_id, signature)
        async with Verifier(roots) as verifier:
            report = await verifier.verify(signed)
        assert report.ok, report.to_json()
        assert report.signatures[0].level == "b-t"
        with pytest.raises(SigningError):
            await remote.finish(prepared.request_id, signature)  # used once only
    finally:
        await client.close()


async def test_refused_pin_and_wrong_signature(pki: DevPki, sample_pdf: Path) -> None:
    client = await _client(pki, StubPin(None))
    remote = RemoteSigning()
    try:
        headers = await _pair(client)
        cert = load_cert_files([pki.cert("leader")])[0]
        data = await asyncio.to_thread(sample_pdf.read_bytes)
        prepared = await remote.prepare(
            data, cert, load_cert_files(list(pki.chain_pems)), SignOptions()
        )
        body = {"to_sign_b64": prepared.to_sign_b64, "key_label": "leader"}
        resp = await client.post("/sign", headers=headers, json=body)
        assert resp.status == 403
        bad = dict(body, message_digest="00" * 32)
        resp = await client.post("/sign", headers=headers, json=bad)
        assert resp.status == 422
        with pytest.raises(SigningError):
            await remote.finish(prepared.request_id, b"\x00" * 256)
    finally:
        await client.close()


async def test_no_terminal_is_a_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    """``lienthong sign-agent`` started without a terminal (closed input): the PIN prompt ends in
    EOF, which refuses the signature rather than failing the request with a 500."""

    def closed(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr("getpass.getpass", closed)
    prompt = SignPrompt("1/QĐ", "Thử", "00" * 32, "leader")
    assert await terminal_pin_provider(prompt) is None
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "123456")
    pin = await terminal_pin_provider(prompt)
    assert pin is not None and pin.reveal() == "123456"


async def test_only_the_demo_agent_takes_the_pin_from_the_page(
    pki: DevPki, sample_pdf: Path
) -> None:
    """A real agent asks its own prompt (here: refuses) whatever PIN the page sends; the demo
    agent of ``make run`` (no terminal) signs with the PIN the page sends, refuses without one."""
    real = await _client(pki, StubPin(None))
    demo = await _client(pki, StubPin(None))
    demo.app[AGENT].demo = True
    remote = RemoteSigning()
    try:
        cert = load_cert_files([pki.cert("leader")])[0]
        data = await asyncio.to_thread(sample_pdf.read_bytes)
        prepared = await remote.prepare(
            data, cert, load_cert_files(list(pki.chain_pems)), SignOptions()
        )
        body = {"to_sign_b64": prepared.to_sign_b64, "key_label": "leader", "pin": pki.user_pin}
        resp = await real.post("/sign", headers=await _pair(real), json=body)
        assert resp.status == 403
        demo_headers = await _pair(demo)
        status = await (await demo.get("/status", headers={"Origin": ORIGIN})).json()
        assert status["demo"] is True
        resp = await demo.post("/sign", headers=demo_headers, json=dict(body, pin=""))
        assert resp.status == 403
        resp = await demo.post("/sign", headers=demo_headers, json=body)
        assert resp.status == 200, await resp.text()
    finally:
        await real.close()
        await demo.close()
