"""A real Chromium at tablet size on the real server (started as ``make run`` starts it): a clerk
sends a signed decision, the recipient's inbox shows it without a reload, the recipient clerk
registers it and the sender's page shows "Đã vào sổ" without a reload."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.demo import DEMO_PASSWORD, HOME_AFFAIRS
from signing.devpki import DevPki
from signing.trust import TrustStore
from tests.documents.conftest import SignedFiles
from tests.live import TABLET, LiveServer, chromium, live_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, doc_pki: DevPki) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("live-docs")
    TrustStore(data / "trust").add(doc_pki.root_pem.read_bytes(), "dev root")
    with live_server(data) as running:
        yield running


def _login(page: Any, url: str, login: str) -> None:
    page.goto(url + "/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")


def test_clerk_sends_and_recipient_registers_live(
    server: LiveServer, pdfs: SignedFiles, tmp_path: Path
) -> None:
    with chromium() as browser:
        sender = browser.new_context(viewport=TABLET, is_mobile=True, has_touch=True)
        receiver = browser.new_context(viewport=TABLET, is_mobile=True, has_touch=True)
        s, r = sender.new_page(), receiver.new_page()
        _login(r, server.url, "vanthu.snv")
        r.goto(server.url + "/documents")
        assert r.get_by_test_id("tab-inbox").inner_text() == "Văn bản đến"
        r.wait_for_function("() => window.__ltLive === 'subscribed'")

        _login(s, server.url, "vanthu.tinh")
        s.get_by_test_id("tile.documents").click()
        s.get_by_test_id("tab-compose").click()
        s.get_by_test_id("number").fill("45")
        s.get_by_test_id("notation").fill("VP-TH")
        s.get_by_test_id("subject").fill("Về việc báo cáo tình hình cải cách hành chính")
        s.get_by_test_id(f"to-{HOME_AFFAIRS}").check()
        s.get_by_test_id("main").set_input_files(str(pdfs.signed_path))
        s.get_by_test_id("send").click()
        s.wait_for_url("**/documents/*?sent=1")
        assert s.get_by_test_id("notice").inner_text() == "Đã gửi văn bản."
        assert s.get_by_test_id("recipient-status").inner_text() == "Đã đến"
        s.wait_for_function("() => window.__ltLive === 'subscribed'")

        # the recipient's inbox shows the new document by itself
        row = r.get_by_test_id("inbox-row")
        row.wait_for(timeout=15_000)
        assert "cải cách hành chính" in row.inner_text()
        row.get_by_role("link").click()
        r.get_by_test_id("register").click()
        r.wait_for_url("**?ok=1")
        assert r.get_by_test_id("recipient-status").inner_text() == "Đã vào sổ"

        # and the sender's page follows without a reload by the person
        s.get_by_text("Đã vào sổ").first.wait_for(timeout=15_000)
        assert s.get_by_test_id("recipient-status").inner_text() == "Đã vào sổ"
        assert s.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
        s.screenshot(path=str(tmp_path / "sender-timeline.png"))
        sender.close()
        receiver.close()
