"""The secretariat signs the minutes from the session page: a real Chromium, a real server and a
real signing agent (``signing.agent``) on the SoftHSM2 dev token; only the PIN prompt is a stub."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from signing.agent import AgentConfig
from signing.devpki import DEMO_HOLDERS, SOFTHSM_LIB, DevPki
from signing.trust import TrustStore
from tests.live import LiveServer, chromium, live_server
from tests.sessions.test_browser import call, login
from tests.signing.test_remote_browser import RunningAgent, ScriptedPin

# a hang guard, not a timing check: these flows wait up to a minute per step on a busy machine
pytestmark = [pytest.mark.browser, pytest.mark.hsm, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, token_pki: DevPki) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("live-minutes")
    TrustStore(data / "trust").add(token_pki.root_pem.read_bytes(), "dev root")
    with live_server(data) as running:
        for name, login in DEMO_HOLDERS.items():
            done = running.cli("user", "certificate", login, str(token_pki.cert(name)))
            assert done.returncode == 0, done.stderr
        yield running


def test_secretariat_signs_the_minutes_from_the_desk(server: LiveServer, token_pki: DevPki) -> None:
    url = server.url
    pin = ScriptedPin(token_pki.user_pin, token_pki.user_pin)
    config = AgentConfig(
        lib_path=SOFTHSM_LIB, origin=url, token_label=token_pki.token_label, pin_provider=pin
    )
    with RunningAgent(config) as agent, chromium() as browser:
        ctx, desk = login(browser, url, "thuky.hdnd", tablet=False)
        desk.set_default_timeout(
            60_000
        )  # the agent, the token and the online check, on a busy machine
        s = call(desk, "POST", url + "/api/v1/sessions", data={"title": "Kỳ họp thứ 10"})
        call(
            desk, "PUT", f"{url}/api/v1/sessions/{s['id']}/conclusions", data={"text": "Nhất trí."}
        )
        desk.goto(f"{url}/sessions/{s['id']}")
        desk.evaluate(f"() => localStorage.setItem('lienthong.agent.port', '{agent.port}')")
        codes: list[Any] = []

        def pair(dialog: Any) -> None:  # the agent printed its code; the secretary types it
            codes.append(dialog.message)
            dialog.accept(config.pairing_code)

        desk.on("dialog", pair)

        # the picker offers the secretary's own certificate only (not the chairman's, the
        # clerk's, a revoked or expired one, nor the seal): she signs with hers
        # (with one certificate offered the page asks no choice; several would show a picker)
        desk.get_by_test_id("sign-minutes-button").click()
        desk.get_by_test_id("flash").filter(has_text="Đã lưu biên bản đã ký số").wait_for(
            timeout=60_000
        )
        assert codes and "ghép nối" in codes[0]
        assert len(codes) == 1  # paired once
        assert [p.key_label for p in pin.prompts] == ["secretary"]
        # the PIN prompt names what is signed, not only its hash
        assert pin.prompts[0].document_number == f"Biên bản kỳ họp số {s['id']}"
        assert pin.prompts[0].subject == "Biên bản kỳ họp: Kỳ họp thứ 10"
        assert desk.get_by_test_id("sign-cert").count() == 0  # no choice was offered
        state = call(desk, "GET", f"{url}/api/v1/sessions/{s['id']}")
        assert "Vũ Thị Hạnh" in state["minutes"]["signer"]
        signed = desk.request.get(f"{url}/api/v1/sessions/{s['id']}/minutes/signed")
        assert signed.ok and signed.body().startswith(b"%PDF-")
        ctx.close()
