"""Headless Chromium with fake devices joins a briefing, publishes, and decodes the chair.

The real server runs as ``make run`` runs it (``tests.live``), with ICE on 127.0.0.1 only;
Chromium is allowed loopback candidates for the same reason.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from server.demo import DEMO_PASSWORD
from tests.live import LiveServer, chromium, live_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MEDIA_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
]

# inbound video of the slot the chair fills, read from getStats()
CHAIR_STATS = """async () => {
  const b = window.lienThongBriefing;
  const pc = b && b.pc();
  const mid = document.getElementById("room").dataset.chairMid;
  if (!pc || !mid) return null;
  const t = pc.getTransceivers().find((x) => x.mid === mid);
  if (!t) return null;
  const report = await t.receiver.getStats();
  let out = null;
  report.forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "video") {
      out = {decoded: s.framesDecoded || 0, fps: s.framesPerSecond || 0, lost: s.packetsLost || 0,
             received: s.packetsReceived || 0, freezes: s.freezeCount || 0, at: performance.now()};
    }
  });
  return out;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"LIENTHONG_BRIEFINGS_ICE_ADDRESSES": "127.0.0.1"}
    with live_server(tmp_path_factory.mktemp("live-briefing"), env) as running:
        yield running


def _login(page: Any, url: str, login: str) -> None:
    page.goto(url + "/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")


def _wait_decoding(page: Any, frames: int = 10, seconds: float = 30) -> dict[str, Any]:
    """Wait until the chair's slot has decoded more than ``frames`` frames (a count, not a rate:
    a loaded machine is slower, not red; rates are bench/briefing.py's)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        stats = page.evaluate(CHAIR_STATS)
        if stats and stats["decoded"] > frames:
            return dict(stats)
        page.wait_for_timeout(200)
    raise AssertionError(f"the chair's video is not decoded: {page.evaluate(CHAIR_STATS)}")


def test_endpoint_joins_publishes_and_decodes_the_chair(server: LiveServer) -> None:
    with chromium(args=MEDIA_ARGS) as browser:
        chair_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
        hall_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
        chair, hall = chair_ctx.new_page(), hall_ctx.new_page()
        errors: list[str] = []
        for page in (chair, hall):
            page.on("pageerror", lambda exc: errors.append(str(exc)))
        _login(chair, server.url, "chutich.tinh")
        chair.get_by_test_id("tile.briefings").click()
        chair.wait_for_url(server.url + "/briefings")
        chair.fill("input[name=title]", "Giao ban sáng thứ Hai")
        chair.fill("textarea[name=endpoints]", "001.00.11.H99")
        chair.click("form[data-testid=create-briefing] button[type=submit]")
        chair.wait_for_url(re.compile(r".*/briefings/\d+$"))
        room_url = chair.url
        chair.get_by_test_id("join").click()

        _login(hall, server.url, "diemcau.donghoa")
        hall.goto(server.url + "/briefings")
        assert "Giao ban sáng thứ Hai" in hall.content()
        hall.goto(room_url)
        hall.get_by_test_id("join").click()

        first = _wait_decoding(hall)
        _wait_decoding(hall, frames=first["decoded"] + 60)  # the picture goes on
        # the chair decodes the endpoint too: it published
        chair_view = chair.evaluate(
            """async () => {
              const pc = window.lienThongBriefing.pc();
              let decoded = 0;
              (await pc.getStats()).forEach((s) => {
                if (s.type === "inbound-rtp" && s.kind === "video") decoded += s.framesDecoded || 0;
              });
              return decoded;
            }"""
        )
        assert chair_view > 10
        assert hall.get_by_test_id("quality").get_attribute("data-level") in ("good", "fair")

        # roll call: the chair sees the endpoint connected, with a round-trip time
        chair.get_by_test_id("roll-call").click()
        chair.wait_for_function(
            "() => document.getElementById('roll').rows.length >= 3", timeout=5000
        )
        roll = chair.get_by_test_id("roll").inner_text()
        assert "UBND xã Đông Hoà" in roll and "Không" not in roll  # the hall, by its agency name

        # a drop of the signaling socket: the client rejoins and the picture comes back in < 3 s
        before = hall.evaluate("window.lienThongBriefing.state.negotiations")
        hall.evaluate("window.lienThongBriefing.state.ws.close()")
        dropped = time.monotonic()
        hall.wait_for_function(
            f"() => window.lienThongBriefing.state.negotiations > {before} && "
            "window.lienThongBriefing.pc() && "
            "window.lienThongBriefing.pc().connectionState === 'connected' && "
            "document.getElementById('room').dataset.chairMid !== ''",
            timeout=5000,
        )
        again = _wait_decoding(hall, seconds=5)
        rejoin = time.monotonic() - dropped
        assert rejoin < 3.0, (rejoin, again)

        # the chair records the hall stream; the file is kept with the briefing
        chair.get_by_test_id("record").click()
        hall.get_by_test_id("rec").wait_for(state="visible", timeout=5000)
        chair.wait_for_timeout(2500)
        chair.get_by_test_id("record").click()
        chair.get_by_test_id("rec").wait_for(state="hidden", timeout=10000)
        briefing_id = room_url.rsplit("/", 1)[1]
        kept = chair.evaluate(
            f"""async () => {{
              const b = await (await fetch("/api/v1/briefings/{briefing_id}")).json();
              const r = b.recordings[0];
              const file = await fetch(r.href);
              return {{count: b.recordings.length, bytes: (await file.arrayBuffer()).byteLength,
                       type: file.headers.get("content-type")}};
            }}"""
        )
        assert kept["count"] == 1 and kept["bytes"] > 10_000 and kept["type"] == "video/webm"

        # the chair ends the briefing for everyone
        chair.on("dialog", lambda d: d.accept())
        chair.get_by_test_id("end").click()
        hall.wait_for_function(
            "() => document.getElementById('status').textContent.includes('kết thúc')",
            timeout=5000,
        )
        assert not errors, errors
        chair_ctx.close()
        hall_ctx.close()
