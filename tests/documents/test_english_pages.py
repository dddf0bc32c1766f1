"""Every page in English as each demo role, in a real Chromium on the real server: no Vietnamese
word left in the visible text except data (names and titles from the database, marked
``translate="no"``); times and numbers through the shared formatter; the audit log in words;
the favicon; the leader's count of drafts waiting for their signature."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from server.demo import DEMO_PASSWORD, HOME_AFFAIRS
from signing.devpki import DevPki
from signing.trust import TrustStore
from tests.documents.conftest import SignedFiles
from tests.live import TABLET, LiveServer, chromium, live_server

pytestmark = pytest.mark.browser

VI_CHARS = "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
VIETNAMESE = re.compile(f"[{VI_CHARS}{VI_CHARS.upper()}]")

VISIBLE_TEXTS = """() => {
  const skip = (el) => el.closest('[translate="no"], script, style, template, noscript');
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || skip(el)) continue;
    if (el.tagName !== "OPTION" && !el.checkVisibility()) continue;
    const text = n.textContent.trim();
    if (text) out.push(text);
  }
  for (const el of document.querySelectorAll("[title], [aria-label], [placeholder]")) {
    if (skip(el)) continue;
    for (const a of ["title", "aria-label", "placeholder"]) {
      const v = el.getAttribute(a);
      if (v) out.push(v);
    }
  }
  return out;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, doc_pki: DevPki) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("live-english")
    TrustStore(data / "trust").add(doc_pki.root_pem.read_bytes(), "dev root")
    with live_server(data) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def _page(browser: Any, url: str, login: str, lang: str = "en") -> tuple[Any, Any]:
    # no service worker: the session page's fetches must reach the network (and be seen)
    context = browser.new_context(viewport=TABLET, service_workers="block")
    context.add_cookies([{"name": "lt_lang", "value": lang, "url": url}])
    page = context.new_page()
    page.goto(url + "/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")
    return context, page


@pytest.fixture(scope="module")
def sent(server: LiveServer, browser: Any, pdfs: SignedFiles) -> str:
    """A very urgent, confidential document from the province office to Home Affairs."""
    context, s = _page(browser, server.url, "vanthu.tinh", "vi")
    s.goto(server.url + "/documents/new")
    s.get_by_test_id("number").fill("46")
    s.get_by_test_id("notation").fill("VP-TH")
    s.get_by_test_id("subject").fill("Về việc kiểm tra công vụ")
    s.select_option("select[name=urgency]", "3")
    s.select_option("select[name=confidentiality]", "1")
    s.fill("input[name=promulgation_date]", "2026-12-07")
    s.get_by_test_id(f"to-{HOME_AFFAIRS}").check()
    s.get_by_test_id("main").set_input_files(str(pdfs.signed_path))
    s.get_by_test_id("send").click()
    s.wait_for_url("**/documents/*?sent=1")
    doc_id = str(s.url).split("/documents/")[1].split("?")[0]
    context.close()
    return doc_id


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _untranslated(page: Any, api_urls: list[str] | None = None) -> list[str]:
    """Visible texts with Vietnamese letters, less data: what is inside ``translate="no"``, and
    on the script-drawn pages every string of the JSON the page's scripts fetched."""
    page.wait_for_load_state("networkidle")
    data: set[str] = set()
    for api in api_urls or []:
        resp = page.request.get(api)
        if resp.ok and "json" in resp.headers.get("content-type", ""):
            data.update(x.strip() for x in _strings(resp.json()) if VIETNAMESE.search(x))
    left = []
    for text in page.evaluate(VISIBLE_TEXTS):
        rest = text
        for value in sorted(data, key=len, reverse=True):
            rest = rest.replace(value, " ")
        if VIETNAMESE.search(rest):
            left.append(text)
    return left


ROLE_PAGES = {
    "quantri": [
        "/",
        "/admin/agencies",
        "/admin/users",
        "/admin/audit",
        "/admin/trust",
        "/account",
        "/verify",
    ],
    "vanthu.tinh": [
        "/",
        "/documents",
        "/documents/outbox",
        "/documents/new",
        "/documents/drafts",
        "/documents/{doc}",
        "/briefings",
    ],
    "vanthu.snv": ["/documents", "/documents/{doc}"],
    "giamdoc.snv": ["/", "/documents/{doc}", "/documents/drafts"],
    "chutich.tinh": ["/", "/sessions", "/briefings"],
    "chuyenvien.snv": ["/", "/documents"],
    "thuky.hdnd": ["/", "/sessions", "{session}", "{wall}", "/briefings", "{briefing}"],
    "daibieu1": ["/", "/sessions", "{session}"],
    "diemcau.donghoa": ["/", "/briefings", "{briefing}"],
}


INVITED = {"daibieu1", "diemcau.donghoa"}


def _first_link(page: Any, url: str, listing: str, selector: str) -> str | None:
    page.goto(url + listing)
    links = page.locator(selector)
    return str(links.first.get_attribute("href")) if links.count() else None


@pytest.mark.parametrize("login", sorted(ROLE_PAGES))
def test_every_page_is_english_as_each_role(
    server: LiveServer, browser: Any, sent: str, login: str
) -> None:
    context, page = _page(browser, server.url, login)
    api_urls: list[str] = []
    page.on("response", lambda r: api_urls.append(r.url) if "/api/" in r.url else None)
    found: dict[str, list[str]] = {}
    for path in ROLE_PAGES[login]:
        if path in ("{session}", "{wall}"):
            link = _first_link(page, server.url, "/sessions", "[data-testid=sessions] a") or ""
            path = link + "/wall" if link and path == "{wall}" else link
        elif path == "{briefing}":
            path = _first_link(page, server.url, "/briefings", "a[data-testid^=join-]") or ""
        if path == "":
            # the demo invites the member to its session and the endpoint to its briefing
            assert login not in INVITED, f"{login} sees no demo session or briefing"
            continue  # this role is not invited to the demo's session or briefing
        api_urls.clear()
        resp = page.goto(server.url + path.replace("{doc}", sent))
        assert resp is not None and resp.status == 200, f"{path}: {resp and resp.status}"
        assert page.locator("html").get_attribute("lang") == "en"
        if m := re.fullmatch(r"/sessions/(\d+)(?:/wall)?", path):
            base = f"{server.url}/api/v1/sessions/{m.group(1)}"
            api_urls += [base, f"{base}/papers", f"{base}/members"]  # members: the desk only
        left = _untranslated(page, list(dict.fromkeys(api_urls)))
        if left:
            found[path] = left
    context.close()
    assert found == {}


def test_the_login_page_is_english(server: LiveServer, browser: Any) -> None:
    context = browser.new_context(viewport=TABLET)
    context.add_cookies([{"name": "lt_lang", "value": "en", "url": server.url}])
    page = context.new_page()
    page.goto(server.url + "/login")
    assert page.locator("h1").inner_text() == "Log in"
    assert _untranslated(page) == []
    context.close()


def test_the_check_sees_vietnamese_outside_data(server: LiveServer, browser: Any) -> None:
    """The same check on the Vietnamese page does find words (it is not blind)."""
    context, page = _page(browser, server.url, "vanthu.tinh", "vi")
    page.goto(server.url + "/documents/new")
    assert "Soạn và gửi" in _untranslated(page)
    context.close()


def test_document_page_in_english(server: LiveServer, browser: Any, sent: str) -> None:
    context, page = _page(browser, server.url, "vanthu.tinh")
    page.goto(f"{server.url}/documents/{sent}")
    head = page.locator("section.card").first.inner_text()
    assert "Very urgent" in head and "Confidential" in head and "07/12/2026" in head
    assert (
        page.get_by_test_id("doc-signature")
        .inner_text()
        .startswith("Signature: All 1 signatures/timestamps are valid")
    )
    assert page.get_by_test_id("recipient-status").inner_text() == "Arrived"
    step = page.locator("[data-testid=timeline] li").first.inner_text()
    assert re.search(r"01 · Arrived — \d{2}/\d{2}/\d{4} \d{2}:\d{2}", step), step
    page.goto(server.url + "/documents/outbox")
    assert "07/12/2026" in page.get_by_test_id("outbox").inner_text()
    context.close()


def test_audit_log_in_words_and_vietnam_time(server: LiveServer, browser: Any, sent: str) -> None:
    for lang, login_phrase, sent_phrase in (
        ("vi", "Đăng nhập", "Gửi văn bản"),
        ("en", "Logged in", "Document sent"),
    ):
        context, page = _page(browser, server.url, "quantri", lang)
        page.goto(server.url + "/admin/audit")
        actions = page.get_by_test_id("audit-action")
        codes = actions.evaluate_all("els => els.map(e => e.dataset.code)")
        words = actions.all_inner_texts()
        assert "auth.login" in codes and "document.sent" in codes
        assert words[codes.index("auth.login")] == login_phrase
        assert words[codes.index("document.sent")] == sent_phrase
        assert not any(w == c for w, c in zip(words, codes, strict=True))
        first_time = page.locator("tbody tr td").nth(1).inner_text()
        assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}", first_time), first_time
        context.close()


def test_favicon_and_the_leaders_waiting_count(
    server: LiveServer, browser: Any, pdfs: SignedFiles, tmp_path: Any
) -> None:
    with urllib.request.urlopen(server.url + "/favicon.ico") as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("image/svg")
    # the province office's clerk saves a draft for its leader to sign
    unsigned = tmp_path / "draft.pdf"
    unsigned.write_bytes(pdfs.unsigned)
    clerk_context, clerk = _page(browser, server.url, "vanthu.tinh", "vi")
    clerk.goto(server.url + "/documents/new")
    clerk.get_by_test_id("number").fill("47")
    clerk.get_by_test_id("subject").fill("Dự thảo chờ ký")
    clerk.get_by_test_id(f"to-{HOME_AFFAIRS}").check()
    clerk.get_by_test_id("main").set_input_files(str(unsigned))
    clerk.get_by_test_id("save-draft").click()
    clerk.wait_for_url("**/documents/drafts/*")
    clerk_context.close()
    context, page = _page(browser, server.url, "chutich.tinh", "vi")
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.goto(server.url + "/")
    tile = page.get_by_test_id("tile.drafts")
    assert tile.is_visible()
    assert tile.get_by_test_id("waiting-count").get_attribute("data-count") == "1"
    assert "1 dự thảo đang chờ bạn ký số" in tile.inner_text()
    page.wait_for_load_state("networkidle")
    assert failed == []
    context.close()


def test_the_scripts_formatter(server: LiveServer, browser: Any) -> None:
    for lang, share, number in (("vi", "66,67 %", "1.234.567,5"), ("en", "66.67 %", "1,234,567.5")):
        context, page = _page(browser, server.url, "daibieu1", lang)
        got = page.evaluate(
            """async () => {
              const f = await import("/static/format.js");
              return [f.formatShare(2, 3), f.formatNumber(1234567.5, 1),
                      f.formatDateTime("2026-12-06T17:30:00Z"), f.formatDate("2026-12-07")];
            }"""
        )
        assert got == [share, number, "07/12/2026 00:30", "07/12/2026"]
        context.close()


def test_agency_tree_by_keyboard_with_170_communes(
    server: LiveServer, browser: Any, tmp_path: Any
) -> None:
    """The admin's agency tree is nested lists of <details>: a province with 170 communes opens
    and closes from the keyboard, and fits a phone."""
    rows = ["code,name,parent_code,level"]
    for i in range(170):
        rows.append(f"{100 + i // 90:03d}.00.{10 + i % 90:02d}.H99,Xã Thử {i},000.00.00.H99,2")
    csv = tmp_path / "communes.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    context, page = _page(browser, server.url, "quantri", "vi")
    page.goto(server.url + "/admin/agencies")
    form = page.locator("form[action='/admin/agencies/import']")
    form.locator("input[type=file]").set_input_files(str(csv))
    form.locator("button[type=submit]").click()
    page.get_by_test_id("notice").wait_for()
    page.goto(server.url + "/admin/agencies")
    tree = page.get_by_test_id("agency-tree")
    assert tree.locator("li").count() >= 170 + 14
    commune = page.get_by_test_id("agency-100.00.10.H99")
    assert commune.is_visible()
    # the province's summary is reached with Tab and closes/opens with Enter
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.tagName") == "SUMMARY":
            break
    assert page.evaluate("() => document.activeElement.closest('li').dataset.code") == (
        "000.00.00.H99"
    )
    page.keyboard.press("Enter")
    commune.wait_for(state="hidden")
    page.keyboard.press("Enter")
    commune.wait_for(state="visible")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    context.close()
