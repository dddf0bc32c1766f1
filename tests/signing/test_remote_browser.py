"""The whole signing flow in a real Chromium on a real server (``tests/live.py``), with a real
signing agent (``signing.agent.make_agent_app``, as ``lienthong sign-agent`` runs it) on loopback
over the SoftHSM2 dev token; only the PIN prompt is a stub, as in ``test_remote_agent.py``.

A clerk composes a draft with an unsigned PDF; the leader opens it, is told the agent is not
running (wrong port), pairs with the code the agent printed, refuses the PIN once (told so), then
signs; the clerk has the server apply the agency's seal (SoftHSM2 key) and sends. The sent file
carries two valid signatures (``signing.validate``)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from server.demo import DEMO_PASSWORD, HOME_AFFAIRS, OFFICE
from server.secret import Secret
from signing.agent import AgentConfig, SignPrompt, make_agent_app
from signing.devpki import DEMO_HOLDERS, SOFTHSM_LIB, DevPki
from signing.sample import make_sample_pdf
from signing.trust import TrustStore
from signing.validate import Verifier
from tests.live import LiveServer, chromium, free_port, live_server

# a hang guard, not a timing check: these flows wait up to a minute per step on a busy machine
pytestmark = [pytest.mark.browser, pytest.mark.hsm, pytest.mark.timeout(300)]


class ScriptedPin:
    """Stands in for the agent's terminal prompt: answers in turn (None = the signer refuses)."""

    def __init__(self, *answers: str | None) -> None:
        self.answers = list(answers)
        self.prompts: list[SignPrompt] = []

    async def __call__(self, prompt: SignPrompt) -> Secret | None:
        self.prompts.append(prompt)
        answer = self.answers.pop(0)
        return Secret(answer) if answer is not None else None


class RunningAgent:
    """The agent's aiohttp app on 127.0.0.1 in a thread with its own event loop."""

    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.runner = web.AppRunner(make_agent_app(config))
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> RunningAgent:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    async def _start(self) -> None:
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, pki: DevPki) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("live-sign")
    TrustStore(data / "trust").add(pki.root_pem.read_bytes(), "dev root")
    (data / "seals.toml").write_text(
        f'[[seal]]\nagency = "{HOME_AFFAIRS}"\npkcs11_lib = "{SOFTHSM_LIB}"\n'
        f'token = "{pki.token_label}"\nkey = "agency"\npin_env = "LT_SEAL_PIN"\n'
    )
    env = {"LIENTHONG_TSA_URL": pki.tsa_url, "LT_SEAL_PIN": pki.user_pin}
    with live_server(data, env) as running:
        for name, login in DEMO_HOLDERS.items():
            done = running.cli("user", "certificate", login, str(pki.cert(name)))
            assert done.returncode == 0, done.stderr
        yield running


def _login(page: Any, url: str, login: str) -> None:
    page.goto(url + "/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")


def test_leader_signs_through_the_agent_then_seal_and_send(
    server: LiveServer, pki: DevPki, roots: list[Any], tmp_path: Path
) -> None:
    unsigned = tmp_path / "du-thao.pdf"
    make_sample_pdf(unsigned, number="27/QĐ-SNV", title="GIÁM ĐỐC")
    pin = ScriptedPin(None, pki.user_pin)
    config = AgentConfig(
        lib_path=SOFTHSM_LIB, origin=server.url, token_label=pki.token_label, pin_provider=pin
    )
    with RunningAgent(config) as agent, chromium() as browser:
        clerk = browser.new_context().new_page()
        leader = browser.new_context().new_page()

        _login(clerk, server.url, "vanthu.snv")
        clerk.goto(server.url + "/documents/new")
        clerk.get_by_test_id("number").fill("27")
        clerk.get_by_test_id("notation").fill("QĐ-SNV")
        clerk.get_by_test_id("subject").fill("Về việc ban hành quy chế công tác văn thư")
        clerk.fill("input[name=signer_position]", "Giám đốc")
        clerk.get_by_test_id(f"to-{OFFICE}").check()
        clerk.get_by_test_id("main").set_input_files(str(unsigned))
        clerk.get_by_test_id("save-draft").click()
        clerk.wait_for_url("**/documents/drafts/*?saved=1")
        draft_url = clerk.url.split("?")[0]
        assert clerk.get_by_test_id("draft-state").get_attribute("data-state") == "draft"

        _login(leader, server.url, "giamdoc.snv")
        leader.goto(server.url + "/documents/drafts")
        leader.get_by_test_id("draft-row").get_by_role("link").click()
        leader.wait_for_url(draft_url)
        status = leader.get_by_test_id("agent-status")
        # nothing listens on this port: the page says the agent is not running
        leader.get_by_test_id("agent-port").fill(str(free_port()))
        leader.get_by_test_id("agent-retry").click()
        # (locators, not wait_for_function: the page's CSP forbids eval)
        leader.locator(
            "[data-testid=agent-status]", has_text="Không kết nối được công cụ ký"
        ).wait_for()
        # the real agent: not paired yet, then paired with the code it printed
        leader.get_by_test_id("agent-port").fill(str(agent.port))
        leader.get_by_test_id("agent-retry").click()
        leader.get_by_test_id("pair-code").wait_for(state="visible")
        assert "Chưa ghép nối" in status.inner_text()
        leader.get_by_test_id("pair-code").fill(config.pairing_code)
        leader.get_by_test_id("pair").click()
        leader.locator("[data-testid=cert] option").first.wait_for(state="attached")
        options = leader.get_by_test_id("cert").locator("option").all_inner_texts()
        # the picker offers the director's own certificate only: not the chairman's or the
        # clerk's, not the expired or revoked ones, not the agency seal on the same token
        assert len(options) == 1, options
        leader_option = next(o for o in options if "Phạm Minh Đức" in o)
        leader.get_by_test_id("cert").select_option(label=leader_option)
        # the signer refuses at the PIN prompt: told so, nothing signed
        leader.get_by_test_id("sign").click()
        leader.locator("[data-testid=agent-status]", has_text="từ chối").wait_for()
        assert leader.get_by_test_id("sign").is_enabled()
        leader.get_by_test_id("sign").click()
        leader.wait_for_url("**?signed=1")
        assert leader.get_by_test_id("draft-state").get_attribute("data-state") == "signed"
        assert "Phạm Minh Đức" in leader.get_by_test_id("draft-signer").inner_text()
        # the agent showed the leader what was being signed
        assert [p.document_number for p in pin.prompts] == ["27/QĐ-SNV", "27/QĐ-SNV"]
        assert pin.prompts[1].subject == "Về việc ban hành quy chế công tác văn thư"

        clerk.goto(draft_url)
        clerk.get_by_test_id("seal").click()
        clerk.wait_for_url("**?sealed=1")
        assert clerk.get_by_test_id("draft-state").get_attribute("data-state") == "sealed"
        clerk.get_by_test_id("send-draft").click()
        clerk.wait_for_url("**/documents/*?sent=1")
        assert clerk.get_by_test_id("notice").inner_text() == "Đã gửi văn bản."
        href = clerk.get_by_test_id("main-file").get_attribute("href")
        sent = clerk.context.request.get(server.url + href).body()

    async def check() -> Any:
        async with Verifier(roots) as verifier:
            return await verifier.verify(sent)

    report = asyncio.run(check())
    assert report.ok, report.to_json()
    signers = [s.signer for s in report.signatures]
    assert len(signers) == 2, signers
    assert "Phạm Minh Đức" in signers[0] and "Demo" in signers[1], signers
