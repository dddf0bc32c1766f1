"""axe-core on every page of every demo role at a tablet's, a phone's and a wall's size: no
serious or critical violation (issue 13)."""

from __future__ import annotations

import pytest

from tests.web.axe import report, violations
from tests.web.conftest import SIZES, Site

pytestmark = pytest.mark.browser

AREAS: dict[str, list[tuple[str | None, str]]] = {
    "shell": [
        (None, "/login"),
        ("vanthu.tinh", "/"),
        ("vanthu.tinh", "/account"),
        ("vanthu.tinh", "/documents/no-such-document"),
        ("quantri", "/"),
        ("quantri", "/admin/users"),
        ("quantri", "/admin/agencies"),
        ("quantri", "/admin/audit"),
        ("quantri", "/admin/trust"),
        ("chutich.tinh", "/"),
        ("chuyenvien.snv", "/"),
        ("thuky.hdnd", "/"),
        ("daibieu1", "/"),
        ("diemcau.donghoa", "/"),
    ],
    "documents": [
        ("vanthu.tinh", "/documents"),
        ("vanthu.tinh", "/documents/outbox"),
        ("vanthu.tinh", "/documents/new"),
        ("vanthu.tinh", "/documents/drafts"),
        ("vanthu.tinh", "/documents/drafts/{draft}"),
        ("vanthu.tinh", "/documents/{doc}"),
        ("chutich.tinh", "/documents/drafts/{draft}"),
        ("vanthu.snv", "/documents"),
        ("vanthu.snv", "/documents/{doc}"),
        ("chuyenvien.snv", "/documents"),
        ("vanthu.tinh", "/verify"),
    ],
    "sessions": [
        ("thuky.hdnd", "/sessions"),
        ("thuky.hdnd", "/sessions/{sid}"),
        ("thuky.hdnd", "/sessions/{sid}/invitations"),
        ("thuky.hdnd", "/sessions/{sid}/wall"),
        ("daibieu2", "/sessions/{sid}"),
        ("daibieu2", "/sessions/{sid}/papers/{pid}"),
        ("daibieu1", "/sessions/{sid}/wall"),
    ],
    "briefings": [
        ("chutich.tinh", "/briefings"),
        ("chutich.tinh", "/briefings/{bid}"),
        ("diemcau.donghoa", "/briefings/{bid}"),
    ],
}
"""The pages each role uses, by area (a failure names its area, so one area's regression does
not hide behind another's)."""

READY = {
    "/sessions/{sid}": "[data-testid=agenda] li",
    "/sessions/{sid}/papers/{pid}": "[data-testid=page-canvas][data-rendered]",
}
"""Pages drawn by their script after the load: axe waits for what the script draws."""


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("area", list(AREAS))
def test_no_serious_violation_and_no_sideways_scroll(site: Site, area: str, size: str) -> None:
    """axe on each page; and no page is wider than the screen (a phone scrolls only down)."""
    problems = []
    width = SIZES[size]["viewport"]["width"]
    for login, path in AREAS[area]:
        page = site.open(login, size, path)
        if path in READY:
            page.locator(READY[path]).first.wait_for(state="attached")
        where = f"{login or 'anonymous'} {path} at {size}"
        found = violations(page)
        if found:
            problems.append(f"{where}:\n{report(found)}")
        wide = page.evaluate("() => document.documentElement.scrollWidth")
        if wide > width:
            problems.append(f"{where}: the page is {wide} px wide on a {width} px screen")
    assert not problems, "\n".join(problems)
