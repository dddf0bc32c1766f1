"""The secretariat signs the minutes from the session page: a real Chromium, a real server and a
real signing agent (``signing.agent``) on the SoftHSM2 dev token; only the PIN prompt is a stub."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from signing.agent import AgentConfig
from signing.devpki import SOFTHSM_LIB, DevPki
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

        def sign_with(name: str) -> None:
            desk.get_by_test_id("sign-minutes-button").click()
            # the dev token holds several certificates: the secretary picks one
            desk.get_by_test_id("sign-cert").locator("option").first.wait_for(state="attached")
            options = desk.get_by_test_id("sign-cert").locator("option").all_inner_texts()
            desk.get_by_test_id("sign-cert").select_option(
                label=next(o for o in options if name in o)
            )
            desk.get_by_test_id("sign-cert-ok").click()

        # a revoked certificate: the agent signs, the server refuses to keep the minutes
        sign_with("Phạm Thị Thu")
        desk.get_by_test_id("flash").filter(has_text="chưa được ký số hợp lệ").wait_for(
            timeout=60_000
        )
        sign_with("Nguyễn Văn An")
        desk.get_by_test_id("flash").filter(has_text="Đã lưu biên bản đã ký số").wait_for(
            timeout=60_000
        )
        assert codes and "ghép nối" in codes[0]
        assert len(codes) == 1  # paired once, for both signatures
        assert len(pin.prompts) == 2  # the agent asked the PIN for each
        assert pin.prompts[0].key_label == "revoked"
        state = call(desk, "GET", f"{url}/api/v1/sessions/{s['id']}")
        assert "Nguyễn Văn An" in state["minutes"]["signer"]
        signed = desk.request.get(f"{url}/api/v1/sessions/{s['id']}/minutes/signed")
        assert signed.ok and signed.body().startswith(b"%PDF-")
        ctx.close()
