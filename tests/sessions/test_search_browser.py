"""In Chromium: the reader's search typed with diacritics finds the paper's "ngan sach" and marks
it; web/static/fold.js folds as server/search.py does."""

from __future__ import annotations

from typing import Any

import pytest

from meetings.sessions.papers.sample import sample_pdf
from server.search import fold
from tests.live import LiveServer
from tests.platform.test_search_vi import FOLDS
from tests.sessions.test_browser import browser, call, login, server

pytestmark = pytest.mark.browser
__all__ = ["browser", "server"]  # the live server and Chromium of test_browser, per module


def test_reader_search_with_diacritics_finds_and_marks(server: LiveServer, browser: Any) -> None:
    url = server.url
    ctx, page = login(browser, url, "thuky.hdnd")
    s = call(page, "POST", url + "/api/v1/sessions", data={"title": "Kỳ họp chuyên đề"})
    api = f"{url}/api/v1/sessions/{s['id']}"
    item = call(page, "POST", api + "/agenda", data={"title": "Dự toán ngân sách 2027"})
    paper = call(
        page,
        "POST",
        api + "/papers",
        multipart={
            "file": {"name": "a.pdf", "mimeType": "application/pdf", "buffer": sample_pdf(3)},
            "item_id": str(item["id"]),
            "title": "Tờ trình",
        },
    )
    page.goto(f"{url}/sessions/{s['id']}/papers/{paper['id']}")
    page.wait_for_selector("[data-testid=page-canvas][data-rendered='1']", timeout=20_000)
    page.get_by_test_id("search-q").fill("ngân sách")
    page.get_by_test_id("search-q").press("Enter")
    hits = page.get_by_test_id("search-hits")
    hits.get_by_role("button", name="Trang 3").wait_for()
    assert hits.get_by_role("listitem").count() == 3  # "ngan sach" is on every page
    assert hits.locator("mark").first.inner_text() == "ngan sach"
    # the browser's fold is the server's, case by case
    folded = page.evaluate(
        """async (texts) => {
        const { fold } = await import('/static/fold.js');
        return texts.map(fold);
      }""",
        [text for text, _ in FOLDS],
    )
    assert folded == [fold(text) for text, _ in FOLDS]
    ctx.close()
