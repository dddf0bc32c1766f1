"""The hall's wall in headless Chromium at 1920 × 1080: 40 invited communes, a few joined through
signaling (some with real aiortc video, some without media), a 5 × 5 grid, "Trang 1/2", the page
turned by keyboard and by the buttons, the communes not connected named; Vietnamese and English;
axe-core finds nothing serious; a screenshot for the record (``WALL_SHOT``, default wall.png in
the test's temporary folder)."""

from __future__ import annotations

import asyncio
import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from meetings.briefings.sfu import hooks
from server.demo import DEMO_PASSWORD
from tests.briefings.loop_thread import LoopThread
from tests.briefings.sfu_support import Endpoint
from tests.live import LiveServer, chromium, live_server
from tests.web.axe import axe_source, report, violations

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NAMES = [
    "An Bình",
    "An Khánh",
    "An Phú",
    "Bắc Lương",
    "Bình Minh",
    "Cẩm Giang",
    "Cao Sơn",
    "Đại Đồng",
    "Đông Hưng",
    "Đồng Tâm",
    "Giao Thủy",
    "Hà Lộc",
    "Hải Thịnh",
    "Hòa Bình",
    "Hồng Phong",
    "Hưng Đạo",
    "Kim Liên",
    "Lạc Hồng",
    "Lam Sơn",
    "Liên Minh",
    "Long Hưng",
    "Minh Khai",
    "Nam Giang",
    "Nghĩa Đàn",
    "Ngọc Lâm",
    "Phú Lộc",
    "Phúc Thành",
    "Quang Trung",
    "Sơn Hà",
    "Tân Lập",
    "Tân Phong",
    "Thạch Bàn",
    "Thanh Xuân",
    "Thống Nhất",
    "Thuận Hòa",
    "Tiên Phong",
    "Trung Sơn",
    "Vĩnh Lộc",
    "Xuân Phương",
    "Yên Thế",
]
CODES = [f"{100 + k:03d}.00.11.H99" for k in range(len(NAMES))]
PUBLISHERS = (0, 3, 7, 12, 18, 22)
"""Communes that join with a camera (real aiortc peers publishing the test clip), on page 1."""
SILENT = (5, 27)
"""Communes whose socket is open but whose media never connects (bench-like participants)."""


def _cli(server: LiveServer, *args: str, env: dict[str, str] | None = None) -> str:
    if env:
        server.env.update(env)
    done = server.cli(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("live-wall")
    env = {"LIENTHONG_BRIEFINGS_ICE_ADDRESSES": "127.0.0.1", "WALL_PW": DEMO_PASSWORD}
    with live_server(folder, env) as running:
        csv = folder / "communes.csv"
        rows = [f"{c},UBND xã {n},000.00.00.H99,2" for c, n in zip(CODES, NAMES, strict=True)]
        csv.write_text("code,name,parent_code,level\n" + "\n".join(rows) + "\n", encoding="utf-8")
        _cli(running, "agency", "import", str(csv))
        yield running


def _briefing(
    server: LiveServer, joining: tuple[int, ...] = (*PUBLISHERS, *SILENT)
) -> tuple[int, dict[int, str]]:
    """A briefing of the demo chair with the 40 communes invited; tokens of the joining ones."""
    tokens: dict[int, str] = {}
    for k in joining:
        login = f"diemcau{k:02d}"
        _cli(
            server,
            "user",
            "add",
            login,
            "--agency",
            CODES[k],
            "--role",
            "endpoint",
            "--name",
            f"Điểm cầu xã {NAMES[k]}",
            "--password-env",
            "WALL_PW",
        )
        tokens[k] = _cli(server, "token", "create", "--user", login)
    chair = _cli(server, "token", "create", "--user", "chutich.tinh")
    body = json.dumps({"title": "Giao ban tỉnh – xã", "endpoints": CODES}).encode()
    req = urllib.request.Request(
        server.url + "/api/v1/briefings",
        data=body,
        headers={"Authorization": f"Bearer {chair}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 201
        return int(json.loads(resp.read())["id"]), tokens


class Communes(LoopThread):
    """The joining communes, on an event loop of their own (Playwright's sync API has the
    test's thread): signaling sockets, and real aiortc peers for the publishers."""

    def __init__(self, server: LiveServer, bid: int, tokens: dict[int, str], clip: Path) -> None:
        super().__init__()
        self.server, self.bid, self.tokens, self.clip = server, bid, tokens, clip

    async def main(self) -> None:
        assert self.stop is not None
        hooks.restrict_host_addresses(["127.0.0.1"])
        endpoints: list[Endpoint] = []
        async with aiohttp.ClientSession() as http:
            sockets = []
            for k, token in self.tokens.items():
                ws = await http.ws_connect(
                    f"{self.server.url.replace('http', 'ws')}/api/v1/briefings/{self.bid}/signal",
                    headers={"Authorization": f"Bearer {token}", "Origin": self.server.url},
                )
                sockets.append(ws)
                if k in PUBLISHERS:
                    ep = Endpoint(f"xa{k}", clip=self.clip, audio_slots=0, video_slots=0)
                    endpoints.append(ep)
                    await ws.send_str(json.dumps({"type": "offer", "sdp": await ep.offer()}))
                    async for msg in ws:
                        frame = json.loads(msg.data)
                        if frame["type"] == "answer":
                            await ep.accept(frame["sdp"])
                            break
            self.ready.set()
            readers = [asyncio.ensure_future(_drain(ws)) for ws in sockets]
            await self.stop.wait()
            for r in readers:
                r.cancel()
            for ws in sockets:
                await ws.close()
        for ep in endpoints:
            await ep.close()
        hooks.restrict_host_addresses(None)


async def _drain(ws: aiohttp.ClientWebSocketResponse) -> None:
    async for _msg in ws:
        pass


def _login(page: Any, url: str, login: str) -> None:
    page.goto(url + "/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")


PLAYING = """() => [...document.querySelectorAll('#wall-grid video')]
  .filter((v) => !v.hidden && v.readyState >= 2 && v.videoWidth > 0).length"""


def test_the_hall_wall_pages_the_communes(server: LiveServer, clip: Path, tmp_path: Path) -> None:
    bid, tokens = _briefing(server)
    shot = Path(os.environ.get("WALL_SHOT", tmp_path / "wall.png"))
    with (
        Communes(server, bid, tokens, clip),
        chromium(
            args=[
                "--allow-loopback-in-peer-connection",
                "--autoplay-policy=no-user-gesture-required",
            ]
        ) as browser,
    ):
        ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
        ctx.add_init_script(axe_source())
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        _login(page, server.url, "chutich.tinh")
        page.goto(f"{server.url}/briefings/{bid}/wall")
        pager = page.get_by_test_id("wall-page")
        pager.filter(has_text="Trang 1/2").wait_for(timeout=30000)
        assert page.locator("#wall-grid > li:not([hidden])").count() == 25
        first = page.locator("#wall-grid > li").first
        assert "An Bình" in first.inner_text()
        page.wait_for_function(
            PLAYING.replace("length", f"length >= {len(PUBLISHERS)}"), timeout=60000
        )
        missing = page.get_by_test_id("wall-missing").inner_text()
        assert missing.startswith("Chưa kết nối: ")
        expected = [f"UBND xã {NAMES[k]}" for k in range(25) if k not in PUBLISHERS]
        assert missing == "Chưa kết nối: " + ", ".join(expected)
        assert "Điểm cầu xã An Bình" not in missing
        assert page.get_by_test_id("wall-total").inner_text() == (
            f"Cả cuộc họp: {40 - len(PUBLISHERS)}/40 điểm cầu chưa kết nối"
        )
        page.wait_for_timeout(1500)  # a few more frames for the picture
        page.screenshot(path=str(shot))
        found = violations(page)
        assert not found, report(found)

        # the keyboard turns the page; the buttons too (focused, Enter)
        page.keyboard.press("ArrowRight")
        pager.filter(has_text="Trang 2/2").wait_for(timeout=10000)
        assert page.locator("#wall-grid > li:not([hidden])").count() == 15
        assert page.get_by_test_id("wall-next").is_disabled()
        missing = page.get_by_test_id("wall-missing").inner_text()
        assert missing == "Chưa kết nối: " + ", ".join(f"UBND xã {n}" for n in NAMES[25:])
        page.get_by_test_id("wall-prev").focus()
        page.keyboard.press("Enter")
        pager.filter(has_text="Trang 1/2").wait_for(timeout=10000)
        page.wait_for_function(
            PLAYING.replace("length", f"length >= {len(PUBLISHERS)}"), timeout=60000
        )

        # English
        page.goto(f"{server.url}/lang?to=en&next=/briefings/{bid}/wall")
        pager.filter(has_text="Page 1/2").wait_for(timeout=30000)
        assert page.get_by_test_id("wall-missing").inner_text().startswith("Not connected: ")
        found = violations(page)
        assert not found, report(found)
        assert not errors, errors


MEDIA_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
]


def test_the_chair_makes_a_hall_pc_the_wall(server: LiveServer) -> None:
    """The LED wall's PC logs in as a hall endpoint and waits; the chair chooses it in the room."""
    bid, _tokens = _briefing(server, joining=())
    _cli(
        server,
        "user",
        "add",
        "tuongled",
        "--agency",
        CODES[-1],
        "--role",
        "endpoint",
        "--name",
        "Màn hình LED",
        "--password-env",
        "WALL_PW",
    )
    with chromium(args=MEDIA_ARGS) as browser:
        led = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
        chair = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        errors: list[str] = []
        for page in (led, chair):
            page.on("pageerror", lambda exc: errors.append(str(exc)))
        _login(led, server.url, "tuongled")
        led.goto(f"{server.url}/briefings/{bid}/wall")
        led.get_by_test_id("wall-waiting").wait_for(timeout=30000)
        assert led.get_by_test_id("wall-page").inner_text() == ""

        _login(chair, server.url, "chutich.tinh")
        chair.goto(f"{server.url}/briefings/{bid}")
        chair.get_by_test_id("join").click()
        chair.wait_for_function(
            "() => [...window.lienThongBriefing.state.roster.values()].length >= 2",
            timeout=30000,
        )
        choice = chair.get_by_test_id("wall-choice")
        choice.focus()
        choice.select_option(label=f"UBND xã {NAMES[-1]}")
        chair.get_by_test_id("wall-make").click()

        # 39 communes (the wall's own hall is not one): two pages, none connected
        led.get_by_test_id("wall-page").filter(has_text="Trang 1/2").wait_for(timeout=30000)
        assert led.get_by_test_id("wall-waiting").is_hidden()
        assert led.locator("#wall-grid > li:not([hidden])").count() == 25
        assert led.get_by_test_id("wall-total").inner_text() == (
            "Cả cuộc họp: 39/39 điểm cầu chưa kết nối"
        )
        led.keyboard.press("PageDown")
        led.get_by_test_id("wall-page").filter(has_text="Trang 2/2").wait_for(timeout=10000)
        assert led.locator("#wall-grid > li:not([hidden])").count() == 14
        names = ", ".join(f"UBND xã {n}" for n in NAMES[25:39])
        assert led.get_by_test_id("wall-missing").inner_text() == f"Chưa kết nối: {names}"

        chair.get_by_test_id("wall-unmake").click()
        led.get_by_test_id("wall-waiting").wait_for(timeout=30000)
        assert led.get_by_test_id("wall-page").inner_text() == ""
        assert not errors, errors
