"""``make screenshots``: the main page of each demo role at a tablet's, a phone's and a wall's size,
into ``docs/screens/<role>-<size>.png``.

The server starts as ``make run`` starts it (``db upgrade``, ``demo``, ``serve`` with the demo on)
in a temporary data directory on free loopback ports, so a running ``make run`` is not disturbed;
the clerk first saves the demo's sample draft so that the clerk's and the chair's pages show one.
Pictures are at device scale 1 and kept to a 256-colour palette, so the repository stays small.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.demo import DEMO_PASSWORD, HOME_AFFAIRS  # noqa: E402
from tests.live import LiveServer, chromium, free_port  # noqa: E402
from tests.web.conftest import api_json  # noqa: E402

OUT = ROOT / "docs" / "screens"
SIZES: dict[str, dict[str, Any]] = {
    "tablet": {"viewport": {"width": 1024, "height": 768}, "is_mobile": True, "has_touch": True},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "wall": {"viewport": {"width": 1920, "height": 1080}},
}
ROLES: list[tuple[str, str, str]] = [
    ("admin", "quantri", "/admin/agencies"),
    ("clerk", "vanthu.tinh", "/documents/drafts"),
    ("leader", "chutich.tinh", "/documents/drafts/{draft}"),
    ("official", "chuyenvien.snv", "/"),
    ("secretariat", "thuky.hdnd", "/sessions/{sid}"),
    ("member", "daibieu2", "/sessions/{sid}/papers/{pid}"),
    ("endpoint", "diemcau.donghoa", "/briefings/{bid}"),
]
"""Each role's main page: where that person spends the day."""
READY = {
    "/sessions/{sid}": "[data-testid=agenda] li",
    "/sessions/{sid}/papers/{pid}": "[data-testid=page-canvas][data-rendered]",
}


def _login(page: Any, url: str, login: str) -> None:
    page.context.clear_cookies()
    page.goto(url + "/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(url + "/")


def _ids(page: Any, url: str, data_dir: Path) -> dict[str, str]:
    """The sample draft (saved now by the clerk), the demo session, its first paper, the
    demo briefing."""
    ids: dict[str, str] = {}
    _login(page, url, "vanthu.tinh")
    page.goto(url + "/documents/new")
    page.get_by_test_id("number").fill("15")
    page.get_by_test_id("notation").fill("QĐ-UBND")
    page.get_by_test_id("subject").fill("Về việc ban hành quy chế làm việc của UBND tỉnh")
    page.get_by_test_id(f"to-{HOME_AFFAIRS}").check()
    page.get_by_test_id("main").set_input_files(str(data_dir / "demo-pki" / "du-thao-mau.pdf"))
    page.get_by_test_id("save-draft").click()
    page.wait_for_url("**/documents/drafts/*")
    ids["draft"] = page.url.split("/documents/drafts/")[1].split("?")[0]
    _login(page, url, "thuky.hdnd")
    ids["sid"] = str(api_json(page, "/api/v1/sessions")[0]["id"])
    ids["pid"] = str(api_json(page, f"/api/v1/sessions/{ids['sid']}/papers")[0]["id"])
    _login(page, url, "chutich.tinh")
    ids["bid"] = str(api_json(page, "/api/v1/briefings")[0]["id"])
    return ids


def _shrink(path: Path) -> None:
    from PIL import Image

    with Image.open(path) as picture:
        small = picture.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    small.save(path, optimize=True)


def shoot(url: str, data_dir: Path) -> list[Path]:
    made = []
    OUT.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        setup = browser.new_page()
        ids = _ids(setup, url, data_dir)
        setup.close()
        for size, device in SIZES.items():
            context = browser.new_context(**device, device_scale_factor=1, locale="vi-VN")
            page = context.new_page()
            for role, login, path in ROLES:
                _login(page, url, login)
                page.goto(url + path.format(**ids))
                page.wait_for_load_state("load")
                if path in READY:
                    page.locator(READY[path]).first.wait_for(state="attached")
                page.wait_for_timeout(400)  # let fonts and late layout settle (pictures only)
                target = OUT / f"{role}-{size}.png"
                page.screenshot(path=str(target))
                _shrink(target)
                made.append(target)
            context.close()
    return made


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="lienthong-screens-") as tmp:
        data_dir = Path(tmp)
        env = {
            "LIENTHONG_DEMO": "1",
            "LIENTHONG_DEMO_PKI_PORT": str(free_port()),
            "LIENTHONG_DEMO_AGENT_PORT": str(free_port()),
        }
        server = LiveServer(data_dir, env)
        try:
            server.start()
            made = shoot(server.url, data_dir)
        finally:
            server.stop()
    for path in made:
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
