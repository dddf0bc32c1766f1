"""The hall's wall and H.264 communes, in headless Chromium (the style of
``test_wall_browser.py``): the wall's 25 slots offer VP8 and H.264 constrained baseline and stay
well under the server's SDP limit, so an H.264 tablet's tile plays beside a VP8 hall's; a wall
on a browser without H.264 offers VP8 alone and the tablet's tile names the codec instead of a
black picture."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from meetings.briefings.messages import MAX_FRAME, MAX_SDP
from meetings.briefings.sfu import hooks
from tests.briefings.h264_media import h264_clip_fixture  # noqa: F401
from tests.briefings.loop_thread import LoopThread
from tests.briefings.sfu_support import Endpoint, Tone
from tests.briefings.test_wall_browser import NAMES, _briefing, _login, server
from tests.live import LiveServer, chromium

__all__ = ["server"]  # the live server with the 40 communes, a fixture used by name

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MISMATCH = "#wall-grid > li[data-codec-mismatch=true]"
ARGS = ["--allow-loopback-in-peer-connection", "--autoplay-policy=no-user-gesture-required"]

NO_H264 = """(() => {
  // a browser without H.264: its capabilities do not list it
  const original = RTCRtpReceiver.getCapabilities;
  RTCRtpReceiver.getCapabilities = function (kind) {
    const caps = original.call(this, kind);
    if (caps && kind === "video") caps.codecs = caps.codecs.filter((c) => !/h264/i.test(c.mimeType));
    return caps;
  };
})();"""

# frames decoded and codec of the tile showing a commune, from the receiver's getStats()
TILE_STATS = """async (commune) => {
  const tile = document.querySelector(`#wall-grid > li[data-commune="${commune}"]`);
  const pc = window.lienThongWall.pc();
  if (!tile || !pc || !tile.dataset.mid) return null;
  const t = pc.getTransceivers().find((x) => x.mid === tile.dataset.mid);
  if (!t) return null;
  const report = await t.receiver.getStats();
  let out = null;
  report.forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "video") {
      const codec = report.get(s.codecId);
      out = { decoded: s.framesDecoded || 0, codec: codec ? codec.mimeType : null };
    }
  });
  return out;
}"""


class Halls(LoopThread):
    """Communes joining through signaling with real aiortc peers, on a loop of their own (the
    test's thread has Playwright's sync API): commune k publishes ``clips[k]``, H.264 only for
    the MPEG-TS clip, else VP8."""

    def __init__(
        self, server: LiveServer, bid: int, tokens: dict[int, str], clips: dict[int, Path]
    ) -> None:
        super().__init__()
        self.server, self.bid, self.tokens, self.clips = server, bid, tokens, clips
        self.ids: dict[int, str] = {}
        """Participant id of each commune (from its welcome frame)."""

    async def _join(self, http: aiohttp.ClientSession, k: int, ep: Endpoint) -> Any:
        ws = await http.ws_connect(
            f"{self.server.url.replace('http', 'ws')}/api/v1/briefings/{self.bid}/signal",
            headers={"Authorization": f"Bearer {self.tokens[k]}", "Origin": self.server.url},
        )
        await ws.send_str(json.dumps({"type": "offer", "sdp": await ep.offer()}))
        async for msg in ws:
            frame = json.loads(msg.data)
            if frame["type"] == "welcome":
                self.ids[k] = frame["you"]
            if frame["type"] == "answer":
                await ep.accept(frame["sdp"])
                return ws
        raise AssertionError(f"commune {k} got no answer")

    async def main(self) -> None:
        assert self.stop is not None
        hooks.restrict_host_addresses(["127.0.0.1"])
        endpoints: dict[int, Endpoint] = {}
        for k, clip in self.clips.items():
            codec = "H264" if clip.suffix == ".ts" else "VP8"
            endpoints[k] = Endpoint(
                f"xa{k}",
                clip=clip,
                audio=Tone(False),  # the H.264 clip has no sound
                audio_slots=0,
                video_slots=0,
                video_codec=codec,
            )
        async with aiohttp.ClientSession() as http:
            sockets = [await self._join(http, k, ep) for k, ep in endpoints.items()]
            self.ready.set()
            readers = [asyncio.ensure_future(_drain(ws)) for ws in sockets]
            await self.stop.wait()
            for r in readers:
                r.cancel()
            for ws in sockets:
                await ws.close()
        for ep in endpoints.values():
            await ep.close()
        hooks.restrict_host_addresses(None)


async def _drain(ws: aiohttp.ClientWebSocketResponse) -> None:
    async for _msg in ws:
        pass


def _open_wall(browser: Any, server: LiveServer, bid: int, script: str = "") -> Any:
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    if script:
        ctx.add_init_script(script)
    page = ctx.new_page()
    _login(page, server.url, "chutich.tinh")
    page.goto(f"{server.url}/briefings/{bid}/wall")
    page.get_by_test_id("wall-page").filter(has_text="Trang 1/").wait_for(timeout=30000)
    return page


def _decoded(page: Any, commune: str, frames: int) -> dict[str, Any]:
    """The stats of ``commune``'s tile once it has decoded ``frames`` (polled; a count, with a
    generous deadline, never a rate)."""
    deadline = time.monotonic() + 60
    while True:
        stats: dict[str, Any] | None = page.evaluate(TILE_STATS, commune)
        if stats is not None and stats["decoded"] >= frames:
            return stats
        assert time.monotonic() < deadline, f"{commune}: {stats} of {frames} frames"
        page.wait_for_timeout(250)


def test_the_wall_plays_an_h264_commune_beside_a_vp8_one(
    server: LiveServer, clip: Path, h264_clip: Path
) -> None:
    vp8, h264 = 1, 2  # communes An Khánh and An Phú, on page 1
    bid, tokens = _briefing(server, joining=(vp8, h264))
    with (
        Halls(server, bid, tokens, {vp8: clip, h264: h264_clip}) as halls,
        chromium(args=ARGS) as browser,
    ):
        page = _open_wall(browser, server, bid)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.wait_for_function(
            "() => window.lienThongWall.pc() && window.lienThongWall.pc().localDescription",
            timeout=30000,
        )
        sdp: str = page.evaluate("() => window.lienThongWall.pc().localDescription.sdp")
        frame = len(json.dumps({"type": "offer", "sdp": sdp}).encode())
        print(f"wall offer: {len(sdp)} bytes of SDP, {frame} bytes as a signaling frame")
        assert len(sdp) < MAX_SDP and frame < MAX_FRAME
        assert sdp.count("m=video") == 25
        assert sdp.count(" VP8/90000") == 25 and sdp.count(" H264/90000") == 25
        assert "packetization-mode=1;profile-level-id=42e01f" in sdp
        for k, mime in ((h264, "video/H264"), (vp8, "video/VP8")):
            stats = _decoded(page, halls.ids[k], 60)
            assert stats["codec"] == mime
        tile = page.locator(f"#wall-grid > li[data-commune='{halls.ids[h264]}']")
        assert tile.get_attribute("data-codec-mismatch") == "false"
        assert f"UBND xã {NAMES[h264]}" in tile.inner_text()
        assert not errors, errors


def test_a_wall_without_h264_names_the_codec_on_the_tablets_tile(
    server: LiveServer, clip: Path, h264_clip: Path
) -> None:
    vp8, h264 = 3, 4  # on page 1 too
    bid, tokens = _briefing(server, joining=(vp8, h264))
    with (
        Halls(server, bid, tokens, {vp8: clip, h264: h264_clip}) as halls,
        chromium(args=ARGS) as browser,
    ):
        page = _open_wall(browser, server, bid, NO_H264)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        tile = page.locator(f"#wall-grid > li[data-commune='{halls.ids[h264]}']")
        told = page.locator(f"{MISMATCH}[data-commune='{halls.ids[h264]}']")
        told.wait_for(timeout=30000)
        flag = tile.locator(".wall-flag").inner_text()
        assert flag == "gửi hình H.264, thiết bị này không xem được"
        dark = "(v) => v.hidden && v.srcObject === null"
        assert tile.locator("video").evaluate(dark)  # no black picture: nothing attached
        sdp: str = page.evaluate("() => window.lienThongWall.pc().localDescription.sdp")
        assert " H264/90000" not in sdp and sdp.count(" VP8/90000") == 25
        # the VP8 hall beside it plays as before
        assert _decoded(page, halls.ids[vp8], 60)["codec"] == "video/VP8"
        other = page.locator(f"#wall-grid > li[data-commune='{halls.ids[vp8]}']")
        assert other.get_attribute("data-codec-mismatch") == "false"
        # English
        page.goto(f"{server.url}/lang?to=en&next=/briefings/{bid}/wall")
        page.get_by_test_id("wall-page").filter(has_text="Page 1/").wait_for(timeout=30000)
        told.wait_for(timeout=30000)
        assert (
            tile.locator(".wall-flag").inner_text() == "sends H.264 video this device cannot show"
        )
        assert not errors, errors
