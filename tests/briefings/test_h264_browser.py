"""Headless Chromium and H.264: a chair whose camera sends only H.264 is decoded by a browser
that accepts it, and a browser that accepts only VP8 is told why the chair's tile stays dark.

Chromium is made to behave like a device with one codec by an init script that sets codec
preferences on the room's transceivers (the page's own code is unchanged).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.briefings.test_browser import MEDIA_ARGS, _login, _wait_decoding
from tests.live import LiveServer, chromium, live_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ONLY_CODEC = """(() => {
  const want = "%s", direction = "%s";
  const original = RTCPeerConnection.prototype.addTransceiver;
  RTCPeerConnection.prototype.addTransceiver = function (trackOrKind, init) {
    const t = original.call(this, trackOrKind, init);
    const kind = typeof trackOrKind === "string" ? trackOrKind : trackOrKind.kind;
    if (kind === "video" && ((init && init.direction) || "sendrecv") === direction) {
      const codecs = RTCRtpReceiver.getCapabilities("video").codecs.filter((c) =>
        c.mimeType === "video/" + want && (want !== "H264" ||
          (/packetization-mode=1/.test(c.sdpFmtpLine) && /profile-level-id=42e01f/.test(c.sdpFmtpLine))));
      t.setCodecPreferences(codecs);
    }
    return t;
  };
})();"""

# the codec of the inbound video in the chair's slot, from getStats()
CHAIR_CODEC = """async () => {
  const pc = window.lienThongBriefing.pc();
  const mid = document.getElementById("room").dataset.chairMid;
  const t = pc.getTransceivers().find((x) => x.mid === mid);
  const report = await t.receiver.getStats();
  let codecId = null;
  report.forEach((s) => { if (s.type === "inbound-rtp" && s.kind === "video") codecId = s.codecId; });
  return codecId && report.get(codecId) ? report.get(codecId).mimeType : null;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"LIENTHONG_BRIEFINGS_ICE_ADDRESSES": "127.0.0.1"}
    with live_server(tmp_path_factory.mktemp("live-h264"), env) as running:
        yield running


def _open_room(browser: Any, server: LiveServer, title: str, hall_script: str) -> tuple[Any, Any]:
    """The chair (camera in H.264 only) opens a briefing; the hall, with ``hall_script``, joins."""
    chair_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    chair_ctx.add_init_script(ONLY_CODEC % ("H264", "sendonly"))
    hall_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    if hall_script:
        hall_ctx.add_init_script(hall_script)
    chair, hall = chair_ctx.new_page(), hall_ctx.new_page()
    _login(chair, server.url, "chutich.tinh")
    chair.goto(server.url + "/briefings")
    chair.fill("input[name=title]", title)
    chair.fill("textarea[name=endpoints]", "001.00.11.H99")
    chair.click("form[data-testid=create-briefing] button[type=submit]")
    chair.wait_for_url(re.compile(r".*/briefings/\d+$"))
    room_url = chair.url
    chair.get_by_test_id("join").click()
    _login(hall, server.url, "diemcau.donghoa")
    hall.goto(room_url)
    hall.get_by_test_id("join").click()
    return chair, hall


def test_browser_decodes_an_h264_chair(server: LiveServer) -> None:
    with chromium(args=MEDIA_ARGS) as browser:
        _chair, hall = _open_room(browser, server, "Giao ban H.264", "")
        errors: list[str] = []
        hall.on("pageerror", lambda exc: errors.append(str(exc)))
        first = _wait_decoding(hall)
        _wait_decoding(hall, frames=first["decoded"] + 60)
        assert hall.evaluate(CHAIR_CODEC) == "video/H264"
        mid = hall.evaluate("() => document.getElementById('room').dataset.chairMid")
        assert hall.locator(f"[data-mid='{mid}']").get_attribute("data-codec-mismatch") == "false"
        assert not errors, errors


def test_vp8_only_browser_is_told_instead_of_a_black_tile(server: LiveServer) -> None:
    with chromium(args=MEDIA_ARGS) as browser:
        chair, hall = _open_room(browser, server, "Giao ban VP8", ONLY_CODEC % ("VP8", "recvonly"))
        notice = hall.get_by_test_id("codec-mismatch")
        notice.wait_for(state="visible", timeout=30_000)
        assert "H.264" in notice.inner_text()
        roster = hall.locator("#roster li[data-codec-mismatch=true]")
        roster.wait_for(timeout=10_000)
        assert "H.264" in roster.inner_text()
        # the chair, who accepts both, decodes the hall's VP8 picture as usual
        chair.wait_for_function(
            """async () => {
              const pc = window.lienThongBriefing.pc();
              if (!pc) return false;
              let decoded = 0;
              (await pc.getStats()).forEach((s) => {
                if (s.type === "inbound-rtp" && s.kind === "video") decoded += s.framesDecoded || 0;
              });
              return decoded > 10;
            }""",
            timeout=30_000,
        )
