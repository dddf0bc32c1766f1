"""A real Chromium at tablet size logs in on the real server started as ``make run`` starts it."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.demo import DEMO_PASSWORD
from tests.live import TABLET, LiveServer, chromium, live_server

DESKTOP = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("live")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def _login(page: Any, url: str, login: str, password: str) -> None:
    page.goto(url + "/")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_demo_clerk_logs_in_on_a_tablet(server: LiveServer, browser: Any, tmp_path: Path) -> None:
    context = browser.new_context(viewport=TABLET, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(server.url + "/")
    assert page.url.startswith(server.url + "/login")
    assert page.locator("h1").inner_text() == "Đăng nhập"
    _login(page, server.url, "vanthu.tinh", DEMO_PASSWORD)
    page.wait_for_url(server.url + "/")
    assert "Trần Thị Bình" in page.locator("h1").inner_text()
    assert page.get_by_test_id("tile.documents").is_visible()
    assert page.get_by_test_id("tile.admin").count() == 0
    # the layout fits the tablet: nothing wider than the viewport
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= TABLET["width"]
    page.screenshot(path=str(tmp_path / "home-tablet.png"))
    context.close()


def test_wrong_password_shows_a_vietnamese_error(server: LiveServer, browser: Any) -> None:
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    _login(page, server.url, "daibieu1", "sai-mat-khau")
    assert page.get_by_test_id("error").inner_text() == "Sai tên đăng nhập hoặc mật khẩu."
    context.close()


def test_english_switch_and_admin_pages(server: LiveServer, browser: Any) -> None:
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    _login(page, server.url, "quantri", DEMO_PASSWORD)
    page.wait_for_url(server.url + "/")
    page.click("a.lang")
    assert page.locator("h1").inner_text().startswith("Hello")
    page.click("[data-testid='tile.admin']")
    rows = page.locator("[data-testid=agency-tree] li")
    assert rows.count() == 14  # the province today: no district
    # add an agency through the form; a bad code is refused in the page's language
    page.fill("input[name=code]", "000.00.13.H99")
    page.fill("input[name=name]", "Sở Y tế")
    page.select_option("select[name=parent_code]", "000.00.00.H99")
    page.click("form[method=post][action='/admin/agencies'] button[type=submit]")
    assert page.get_by_test_id("notice").inner_text() == "Saved."
    assert rows.count() == 15
    page.click("a.lang")  # back to Vietnamese
    page.goto(server.url + "/admin/users")
    page.fill("input[name=login]", "vanthu.moi")
    page.fill("input[name=full_name]", "Văn thư Mới")
    page.select_option("select[name=agency_code]", "000.00.13.H99")
    page.fill("input[name=password]", "mat-khau-moi-1")
    page.check("form[action='/admin/users'] input[value=clerk]")
    page.click("form[action='/admin/users'] button[type=submit]")
    assert page.get_by_test_id("notice").inner_text() == "Đã lưu."
    page.goto(server.url + "/admin/audit")
    assert page.get_by_test_id("audit-ok").is_visible()
    assert "user.created" in page.content()
    context.close()


def _tree_codes(page: Any) -> set[str]:
    codes = page.locator("[data-testid=agency-tree] li").evaluate_all(
        "(items) => items.map((li) => li.dataset.code)"
    )
    return set(codes)


def test_agency_tree_at_a_date(server: LiveServer, browser: Any, tmp_path: Path) -> None:
    """Ended units show only on days they existed; branches fold; the tree fits a small laptop
    and a phone."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    _login(page, server.url, "quantri", DEMO_PASSWORD)
    page.wait_for_url(server.url + "/")
    page.goto(server.url + "/admin/agencies")
    today = _tree_codes(page)
    assert "001.00.11.H99" in today and "001.00.00.H99" not in today  # no live district
    assert "Hình thành từ" in page.get_by_test_id("agency-001.00.11.H99").inner_text()

    page.fill("[data-testid=tree-date] input[name=on]", "2025-06-30")
    page.click("[data-testid=tree-date] button[type=submit]")
    page.wait_for_url("**/admin/agencies?on=2025-06-30")
    before = _tree_codes(page)
    assert {"001.00.00.H99", "001.00.12.H99", "002.00.13.H99"} <= before
    assert "001.00.11.H99" not in before  # the merged commune did not exist yet
    district = page.get_by_test_id("agency-001.00.00.H99")
    assert "Giải thể" in district.inner_text()
    commune = page.get_by_test_id("agency-001.00.12.H99")
    assert commune.is_visible()
    assert "Sáp nhập vào UBND xã Đông Hoà" in commune.inner_text()
    # a real tree: the commune is inside the district's <details>; folding hides it
    assert district.locator("[data-testid='agency-001.00.12.H99']").count() == 1
    district.locator("summary").first.click()
    assert not commune.is_visible()
    district.locator("summary").first.click()
    assert commune.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    page.screenshot(path=str(tmp_path / "tree-1024.png"), full_page=True)

    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(tmp_path / "tree-390.png"), full_page=True)
    context.close()
