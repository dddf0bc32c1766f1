"""The shell at a phone's, a tablet's and a wall's size (issue 13): keyboard reaches every primary
action and shows where the focus is; touch targets of at least 44 px on a tablet; on a phone the
header folds into one menu button so the content starts at the top; a wall uses its width.
Layout is checked by element geometry, never by pixels."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import Site

pytestmark = pytest.mark.browser

TARGET = 44
"""The smallest touch target on a tablet, in CSS px (WCAG 2.5.5, Apple and Android guidance)."""

MAIN_PAGES: list[tuple[str | None, str]] = [
    (None, "/login"),
    ("vanthu.tinh", "/"),
    ("vanthu.tinh", "/documents"),
    ("vanthu.tinh", "/documents/outbox"),
    ("vanthu.tinh", "/documents/new"),
    ("vanthu.tinh", "/documents/{doc}"),
    ("vanthu.tinh", "/account"),
    ("chutich.tinh", "/documents/drafts/{draft}"),
    ("vanthu.snv", "/documents/{doc}"),
    ("quantri", "/admin/users"),
    ("quantri", "/admin/agencies"),
    ("quantri", "/admin/audit"),
    ("chutich.tinh", "/briefings"),
    ("chutich.tinh", "/briefings/{bid}"),
]

SMALL_TARGETS = """(min) => {
  const seen = [];
  const targets = document.querySelectorAll(
    'main button, main input:not([type=hidden]), main select, main textarea, main summary, ' +
    'main a[href], header a[href], header button');
  for (const el of targets) {
    if (el.matches('a') && el.closest('p, li, h1, h2, h3, small, .muted')) continue;  // in a sentence
    const box = (el.matches('input[type=checkbox], input[type=radio]') ? el.closest('label') || el : el)
      .getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;  // not shown at this size
    if (box.height < min || box.width < min)
      seen.push(`${el.outerHTML.slice(0, 90)} ${Math.round(box.width)}×${Math.round(box.height)}`);
  }
  return seen;
}"""


def test_touch_targets_on_a_tablet(site: Site) -> None:
    small = {}
    for login, path in MAIN_PAGES:
        found = site.open(login, "tablet", path).evaluate(SMALL_TARGETS, TARGET)
        if found:
            small[path] = found
    assert not small, small


def _tab_until(page: Any, selector: str, limit: int = 80) -> bool:
    """Press Tab from the top of the page until the focus is on ``selector``."""
    page.evaluate("() => { document.activeElement?.blur(); window.scrollTo(0, 0); }")
    page.locator("body").focus()
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(sel) => document.activeElement?.matches(sel) ?? false", selector):
            return True
    return False


KEYBOARD: list[tuple[str | None, str, str]] = [
    (None, "/login", "form[action='/login'] button[type=submit]"),
    ("vanthu.tinh", "/", "a.tile[href='/documents']"),
    ("vanthu.tinh", "/documents", "[data-testid=inbox-row] a, form[role=search] button"),
    ("vanthu.tinh", "/documents/new", "[data-testid=send]"),
    ("vanthu.tinh", "/documents/new", "[data-testid=save-draft]"),
    ("vanthu.tinh", "/account", "[data-testid=password-form] button[type=submit]"),
    ("vanthu.tinh", "/", "form[action='/logout'] button"),
    ("chutich.tinh", "/documents/drafts/{draft}", "[data-testid=agent-retry]"),
    ("vanthu.snv", "/documents/{doc}", "[data-testid=register]"),
    ("quantri", "/admin/users", "form[action='/admin/users'] button[type=submit]"),
    ("chutich.tinh", "/briefings", "[data-testid=create-briefing] button[type=submit]"),
]


@pytest.mark.parametrize("size", ["tablet", "wall"])
def test_keyboard_reaches_the_primary_actions(site: Site, size: str) -> None:
    missed = []
    for login, path, target in KEYBOARD:
        page = site.open(login, size, path)
        assert page.locator(target).count() > 0, f"{path}: no {target}"
        if not _tab_until(page, target):
            missed.append(f"{path}: {target}")
            continue
        ring = page.evaluate(
            "() => { const s = getComputedStyle(document.activeElement);"
            " return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2; }"
        )
        if not ring:
            missed.append(f"{path}: {target} has no visible focus ring")
    assert not missed, missed


def test_phone_header_folds_into_a_menu(site: Site) -> None:
    page = site.open("vanthu.tinh", "phone", "/documents")
    header = page.locator("header.topbar").bounding_box()
    assert header["height"] <= 60
    assert page.locator("main h1, main nav.tabs").first.bounding_box()["y"] <= header["height"] + 24
    logout = page.get_by_role("button", name="Đăng xuất")
    assert not logout.is_visible()
    toggle = page.get_by_test_id("menu-toggle")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert logout.is_visible() and page.get_by_test_id("who").is_visible()
    page.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not logout.is_visible()
    # the tabs scroll sideways in one row, the current one in sight
    page = site.open("vanthu.tinh", "phone", "/documents/drafts")
    tabs = page.locator("nav.tabs").bounding_box()
    assert tabs["height"] < 60
    current = page.locator("nav.tabs [aria-current=page]").bounding_box()
    assert current["x"] >= 0 and current["x"] + current["width"] <= 390
    # the account menu is inline on a tablet: no button to find first
    tablet = site.open("vanthu.tinh", "tablet", "/documents")
    assert not tablet.get_by_test_id("menu-toggle").is_visible()
    assert tablet.get_by_role("button", name="Đăng xuất").is_visible()


@pytest.mark.parametrize(
    "login,path",
    [
        ("vanthu.tinh", "/documents/outbox"),
        ("vanthu.tinh", "/documents"),
        ("quantri", "/admin/users"),
    ],
)
def test_wall_uses_its_width(site: Site, login: str, path: str) -> None:
    page = site.open(login, "wall", path)
    main = page.locator("main").bounding_box()
    assert main["width"] >= 1600
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1920
