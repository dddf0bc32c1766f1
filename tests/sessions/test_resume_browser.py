"""A tablet's socket drops and comes back (a hall's Wi-Fi blink): with nothing changed meanwhile
the page asks only for its state and gets a 304 — no papers, no body; with a change it gets the
state, and the papers only when a paper changed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from meetings.sessions.papers.sample import sample_pdf
from tests.live import LiveServer, chromium, live_server
from tests.sessions.test_browser import call, login

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("live-resume")) as running:
        yield running


def upload(desk: Any, api: str, item: int, title: str) -> Any:
    return call(
        desk,
        "POST",
        api + "/papers",
        multipart={
            "file": {"name": "a.pdf", "mimeType": "application/pdf", "buffer": sample_pdf(2)},
            "item_id": str(item),
            "title": title,
        },
    )


class Sockets:
    """The page's realtime sockets, passed through to the server, so the test can drop them
    (and refuse new ones, as while the hall's Wi-Fi is down)."""

    def __init__(self) -> None:
        self.open: list[tuple[Any, Any]] = []
        self.refused = False

    def route(self, ws: Any) -> None:
        if self.refused:
            ws.close(code=1011, reason="down")
            return
        self.open.append((ws, ws.connect_to_server()))

    def drop(self) -> None:
        for page_side, server_side in self.open:
            server_side.close()
            page_side.close(code=4000, reason="Wi-Fi")
        self.open.clear()


def test_a_reconnect_with_nothing_changed_downloads_nothing(server: LiveServer) -> None:
    url = server.url
    with chromium() as browser:
        desk_ctx, desk = login(browser, url, "thuky.hdnd", tablet=False)
        s = call(desk, "POST", url + "/api/v1/sessions", data={"title": "Kỳ họp mất sóng"})
        api = f"{url}/api/v1/sessions/{s['id']}"
        call(desk, "POST", api + "/invitations", data={"login": "daibieu2", "role": "member"})
        items = [call(desk, "POST", api + "/agenda", data={"title": t}) for t in ("Một", "Hai")]
        upload(desk, api, items[0]["id"], "Tờ trình")
        tablet_ctx, tablet = login(browser, url, "daibieu2")
        sockets = Sockets()
        tablet.route_web_socket(re.compile(r".*/api/v1/realtime.*"), sockets.route)
        seen: list[tuple[str, int]] = []
        tablet.on("response", lambda r: seen.append((r.url, r.status)))
        tablet.goto(f"{url}/sessions/{s['id']}")
        tablet.wait_for_selector("[data-testid=conn][data-up='1']")
        tablet.get_by_test_id("save-offline").wait_for()
        # the first subscription's own check of the state (a resume, if the state came first)
        # starts 80–380 ms after it and is over once the network is quiet
        tablet.wait_for_timeout(500)
        tablet.wait_for_load_state("networkidle")

        def away(change: Any = None) -> list[tuple[str, int]]:
            """Drop the socket, make ``change`` while it is down, and return what the page
            fetched of the session's API once back."""
            sockets.refused = True
            sockets.drop()
            tablet.wait_for_selector("[data-testid=conn][data-up='0']")
            if change is not None:
                change()
            done = int(tablet.locator("[data-resumed]").get_attribute("data-resumed") or "0")
            seen.clear()
            sockets.refused = False
            tablet.wait_for_selector("[data-testid=conn][data-up='1']", timeout=30_000)
            # the page counts its finished resumes: all it fetched has answered by then
            tablet.wait_for_selector(f"[data-resumed='{done + 1}']", timeout=30_000)
            return [(u, st) for u, st in seen if u.startswith(api)]

        quiet = away()
        assert quiet == [(api, 304)], quiet  # the state, unchanged: no body, no papers
        # the current item changed while the tablet was away: the state comes, not the papers
        moved = away(lambda: call(desk, "PUT", api + "/current", data={"item_id": items[1]["id"]}))
        assert moved == [(api, 200)], moved
        # a paper was added while away: the state says so, and the papers come
        added = away(lambda: upload(desk, api, items[1]["id"], "Báo cáo bổ sung"))
        assert added == [(api, 200), (api + "/papers", 200)], added
        tablet.get_by_text("Báo cáo bổ sung").wait_for()
        for ctx in (tablet_ctx, desk_ctx):
            ctx.close()
