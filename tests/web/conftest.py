"""One live server as ``make run`` starts it (the demo province) and one Chromium for the page
checks of every role at a tablet's, a phone's and a wall's size.

The server also holds one sent document (UBND tỉnh → Sở Nội vụ, signed) and one draft waiting for
the chair's signature, so that the documents pages show real rows and their action forms.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from server.demo import DEMO_PASSWORD, HOME_AFFAIRS
from signing.devpki import DevPki
from signing.trust import TrustStore
from tests.documents import conftest as documents_fixtures
from tests.documents.conftest import SignedFiles
from tests.live import LiveServer, chromium, live_server
from tests.web.axe import axe_source

doc_pki = documents_fixtures.doc_pki
"""The documents tests' PKI (its root trusted by the server) and signed PDFs, shared here."""
pdfs = documents_fixtures.pdfs

SIZES: dict[str, dict[str, Any]] = {
    "tablet": {"viewport": {"width": 1024, "height": 768}, "is_mobile": True, "has_touch": True},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "wall": {"viewport": {"width": 1920, "height": 1080}},
}
"""The three devices of issue 13: a 10-inch tablet in landscape, a phone, a wall display."""


@dataclass
class Site:
    """The running server, its browser, the demo objects' ids and a logged-in page per
    (account, size), made on first use and reused by every test of the package."""

    server: LiveServer
    browser: Any
    ids: dict[str, str] = field(default_factory=dict)
    pages: dict[tuple[str, str], Any] = field(default_factory=dict)
    states: dict[str, Any] = field(default_factory=dict)
    """Each account's cookies after its one login, given to its pages at the other sizes."""

    @property
    def url(self) -> str:
        return self.server.url

    def page(self, login: str | None, size: str) -> Any:
        key = (login or "", size)
        if key not in self.pages:
            signed_in = self.states.get(login or "")
            context = self.browser.new_context(**SIZES[size], storage_state=signed_in)
            context.add_init_script(axe_source())
            page = context.new_page()
            if login and signed_in is None:
                login_as(page, self.url, login)
                self.states[login] = context.storage_state()
            self.pages[key] = page
        return self.pages[key]

    def open(self, login: str | None, size: str, path: str) -> Any:
        page = self.page(login, size)
        page.goto(self.url + path.format(**self.ids))
        page.wait_for_load_state("load")
        return page


def login_as(page: Any, url: str, login: str) -> None:
    page.goto(url + "/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(url + "/")


def _seed(site: Site, files: SignedFiles) -> None:
    """A sent document and a draft (through the pages, as a clerk does), and the ids of the
    demo session, its first paper and the demo briefing."""
    page = site.page("vanthu.tinh", "tablet")
    page.goto(site.url + "/documents/new")
    page.get_by_test_id("number").fill("45")
    page.get_by_test_id("notation").fill("VP-TH")
    page.get_by_test_id("subject").fill("Về việc báo cáo tình hình cải cách hành chính quý IV")
    page.get_by_test_id(f"to-{HOME_AFFAIRS}").check()
    page.get_by_test_id("main").set_input_files(str(files.signed_path))
    page.get_by_test_id("send").click()
    page.wait_for_url("**/documents/*?sent=1")
    site.ids["doc"] = page.url.split("/documents/")[1].split("?")[0]

    unsigned = files.signed_path.with_name("du-thao.pdf")
    unsigned.write_bytes(files.unsigned)
    page.goto(site.url + "/documents/new")
    page.get_by_test_id("number").fill("16")
    page.get_by_test_id("notation").fill("QĐ-UBND")
    page.get_by_test_id("subject").fill("Về việc ban hành quy chế làm việc")
    page.get_by_test_id(f"to-{HOME_AFFAIRS}").check()
    page.get_by_test_id("main").set_input_files(str(unsigned))
    page.get_by_test_id("save-draft").click()
    page.wait_for_url("**/documents/drafts/*")
    site.ids["draft"] = page.url.split("/documents/drafts/")[1].split("?")[0]

    page = site.page("thuky.hdnd", "tablet")
    site.ids["sid"] = str(api_json(page, "/api/v1/sessions")[0]["id"])
    site.ids["pid"] = str(api_json(page, f"/api/v1/sessions/{site.ids['sid']}/papers")[0]["id"])
    page = site.page("chutich.tinh", "tablet")
    site.ids["bid"] = str(api_json(page, "/api/v1/briefings")[0]["id"])


def api_json(page: Any, path: str) -> Any:
    """GET an API path with the page's session (the ids come from the API, not from markup that
    a redesign may change)."""
    return page.evaluate("async (path) => (await fetch(path)).json()", path)


@pytest.fixture(scope="package")
def site(
    tmp_path_factory: pytest.TempPathFactory, doc_pki: DevPki, pdfs: SignedFiles
) -> Iterator[Site]:
    data = tmp_path_factory.mktemp("live-web")
    TrustStore(data / "trust").add(doc_pki.root_pem.read_bytes(), "dev root")
    with live_server(data) as server, chromium() as browser:
        made = Site(server, browser)
        _seed(made, pdfs)
        yield made
