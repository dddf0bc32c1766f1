"""The demo signs out of the box (issue 11): a server started as ``make run`` starts it (``db
upgrade``, ``demo``, ``serve`` with ``LIENTHONG_DEMO=1``, in a fresh data directory), then only a
browser: the clerk drafts with the sample PDF the demo printed, the chair signs through the demo
signing agent the server started (pairing code and PIN read from the server's output), the clerk
seals and sends, Sở Nội vụ's clerk registers, and the sender's timeline shows 01 and 03.

Ports are chosen free for the test (``LIENTHONG_DEMO_PKI_PORT``, ``LIENTHONG_DEMO_AGENT_PORT``):
``make run`` uses the defaults."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.demo import DEMO_PASSWORD, HOME_AFFAIRS
from tests.live import LiveServer, chromium, free_port, live_server

# a hang guard, not a timing check: these flows wait up to a minute per step on a busy machine
pytestmark = [pytest.mark.browser, pytest.mark.hsm, pytest.mark.slow, pytest.mark.timeout(400)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("demo-journey")
    env = {
        "LIENTHONG_DEMO": "1",
        "LIENTHONG_DEMO_PKI_PORT": str(free_port()),
        "LIENTHONG_DEMO_AGENT_PORT": str(free_port()),
    }
    with live_server(data, env) as running:
        yield running


def _printed(server: LiveServer, pattern: str) -> str:
    """What the server printed for the demo (it prints before it answers; the agent may lag)."""
    deadline = time.monotonic() + 60
    while True:
        found = re.search(pattern, server.log.read_text(encoding="utf-8"))
        if found:
            return found.group(1)
        if time.monotonic() > deadline:
            raise AssertionError(f"{pattern!r} not printed: {server.log.read_text()}")
        time.sleep(0.2)


def _login(page: Any, url: str, login: str) -> None:
    page.goto(url + "/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")


def test_demo_journey_in_the_browser_alone(server: LiveServer) -> None:
    agent_port = _printed(server, r"Công cụ ký DEMO: http://127\.0\.0\.1:(\d+)")
    code = _printed(server, r"Mã ghép nối: (\d{6})")
    pin = _printed(server, r"Mã PIN token demo \([^)]*\): (\S+)")
    sample = _printed(server, r"Dự thảo mẫu để tải lên: (\S+)")
    # the agent announces itself once it listens
    _printed(server, r"(Công cụ ký DEMO \(token thử nghiệm\))")
    assert Path(sample).is_file()
    with chromium() as browser:
        clerk = browser.new_context().new_page()
        leader = browser.new_context().new_page()
        recipient = browser.new_context().new_page()

        _login(clerk, server.url, "vanthu.tinh")
        clerk.goto(server.url + "/documents/new")
        clerk.get_by_test_id("number").fill("15")
        clerk.get_by_test_id("notation").fill("QĐ-UBND")
        clerk.get_by_test_id("subject").fill("Về việc thử nghiệm ký số trên bản demo")
        clerk.fill("input[name=signer_position]", "Chủ tịch")
        clerk.get_by_test_id(f"to-{HOME_AFFAIRS}").check()
        clerk.get_by_test_id("main").set_input_files(sample)
        clerk.get_by_test_id("save-draft").click()
        clerk.wait_for_url("**/documents/drafts/*?saved=1")
        draft_url = clerk.url.split("?")[0]

        _login(leader, server.url, "chutich.tinh")
        leader.goto(server.url + "/documents/drafts")
        leader.get_by_test_id("draft-row").get_by_role("link").click()
        leader.wait_for_url(draft_url)
        leader.get_by_test_id("agent-port").fill(agent_port)
        leader.get_by_test_id("agent-retry").click()
        leader.get_by_test_id("pair-code").wait_for(state="visible")
        leader.get_by_test_id("pair-code").fill(code)
        leader.get_by_test_id("pair").click()
        leader.locator("[data-testid=cert] option").first.wait_for(state="attached")
        options = leader.get_by_test_id("cert").locator("option").all_inner_texts()
        assert len(options) == 1 and "Nguyễn Văn An" in options[0], options
        leader.get_by_test_id("demo-pin").fill(pin)
        leader.get_by_test_id("sign").click()
        leader.wait_for_url("**?signed=1", timeout=120_000)
        assert leader.get_by_test_id("draft-state").get_attribute("data-state") == "signed"

        clerk.goto(draft_url)
        clerk.get_by_test_id("seal").click()
        clerk.wait_for_url("**?sealed=1", timeout=120_000)
        clerk.get_by_test_id("send-draft").click()
        clerk.wait_for_url("**/documents/*?sent=1", timeout=120_000)
        sent_url = clerk.url.split("?")[0]

        _login(recipient, server.url, "vanthu.snv")
        recipient.goto(server.url + "/documents")
        row = recipient.get_by_test_id("inbox-row")
        row.first.wait_for(timeout=30_000)
        row.first.get_by_role("link").click()
        recipient.get_by_test_id("register").click()
        recipient.wait_for_url("**?ok=1")

        clerk.goto(sent_url)
        timeline = clerk.locator(f"[data-testid=timeline][data-agency='{HOME_AFFAIRS}']")
        codes = timeline.locator("li[data-code]").evaluate_all(
            "items => items.map((li) => li.dataset.code)"
        )
        assert codes[:2] == ["01", "03"], codes
