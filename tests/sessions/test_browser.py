"""A real Chromium at tablet size: read a 200-page paper, note, vote; desk, wall and a 2nd device."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from meetings.sessions.papers.sample import sample_pdf
from server.demo import DEMO_PASSWORD
from tests.live import TABLET, LiveServer, chromium, live_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("live-sessions")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def login(browser: Any, url: str, who: str, *, tablet: bool = True) -> tuple[Any, Any]:
    context = browser.new_context(
        viewport=TABLET if tablet else {"width": 1280, "height": 900},
        is_mobile=tablet,
        has_touch=tablet,
    )
    page = context.new_page()
    page.goto(url + "/login?next=/sessions")
    page.fill("input[name=login]", who)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/sessions")
    return context, page


def call(page: Any, method: str, path: str, **kwargs: Any) -> Any:
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    resp = page.request.fetch(path, method=method, headers={"X-CSRF-Token": token}, **kwargs)
    assert resp.ok, resp.text()
    return resp.json()


def test_member_reads_notes_and_votes_desk_closes_wall_shows(
    server: LiveServer, browser: Any, tmp_path: Path
) -> None:
    url = server.url
    desk_ctx, desk = login(browser, url, "thuky.hdnd", tablet=False)
    s = call(desk, "POST", url + "/api/v1/sessions", data={"title": "Kỳ họp thứ 9 HĐND tỉnh"})
    api = f"{url}/api/v1/sessions/{s['id']}"
    for who in ("daibieu1", "daibieu2"):
        call(desk, "POST", api + "/invitations", data={"login": who, "role": "member"})
    sitting = call(desk, "POST", api + "/sittings", data={"title": "Phiên sáng"})
    call(desk, "POST", f"{api}/sittings/{sitting['id']}/start")
    item = call(desk, "POST", api + "/agenda", data={"title": "Dự toán ngân sách 2027"})
    call(desk, "PUT", api + "/current", data={"item_id": item["id"]})
    paper = call(
        desk,
        "POST",
        api + "/papers",
        multipart={
            "file": {
                "name": "du-toan.pdf",
                "mimeType": "application/pdf",
                "buffer": sample_pdf(200),
            },
            "item_id": str(item["id"]),
            "title": "Tờ trình dự toán",
        },
    )
    assert paper["pages"] == 200

    tablet_ctx, tablet = login(browser, url, "daibieu1")
    second_ctx, second = login(browser, url, "daibieu1")
    # the second device has the paper open before the note is written: it gets it live
    second.goto(f"{url}/sessions/{s['id']}/papers/{paper['id']}")
    tablet.goto(f"{url}/sessions/{s['id']}")
    tablet.get_by_test_id("checkin-hall").click()
    tablet.get_by_test_id("my-attendance").filter(has_text="có mặt").wait_for()
    tablet.get_by_test_id(f"paper-{paper['id']}").click()
    tablet.wait_for_selector("[data-testid=page-canvas][data-rendered='1']", timeout=20_000)
    assert tablet.get_by_test_id("reader-status").inner_text() == "Trang 1/200"
    # search inside the paper (server-side page texts), jump to the hit; zoom; thumbnails
    tablet.get_by_test_id("search-q").fill("thuy loi")
    tablet.get_by_test_id("search-q").press("Enter")
    tablet.get_by_test_id("search-hits").get_by_role("button", name="Trang 50").click()
    tablet.wait_for_selector("[data-testid=page-canvas][data-rendered='50']")
    width = tablet.locator("#page-canvas").bounding_box()["width"]
    tablet.click("#zoom-in")
    tablet.wait_for_function(
        f"() => document.getElementById('page-canvas').getBoundingClientRect().width > {width + 50}"
    )
    tablet.get_by_test_id("thumbs-toggle").click()
    tablet.locator("[data-testid=thumbs] li[data-page='2']").click()
    tablet.wait_for_selector("[data-testid=page-canvas][data-rendered='2']")
    tablet.click("#zoom-out")
    tablet.get_by_test_id("page-input").fill("150")
    tablet.get_by_test_id("page-input").press("Enter")
    tablet.wait_for_selector("[data-testid=page-canvas][data-rendered='150']")
    tablet.get_by_test_id("note-text").fill("Đề nghị làm rõ khoản chi thuỷ lợi")
    tablet.get_by_test_id("note-save").click()
    tablet.get_by_test_id("note").filter(has_text="thuỷ lợi").wait_for()
    # highlight a passage selected in the text layer: stored as a TextQuoteSelector
    tablet.wait_for_selector("[data-testid=text-layer][data-page='150'] span")
    tablet.check("#note-highlight")
    tablet.evaluate(
        """() => {
        const span = [...document.querySelectorAll('#text-layer span')]
          .find((s) => s.textContent.includes('Noi dung'));
        const range = document.createRange();
        range.selectNodeContents(span);
        getSelection().removeAllRanges();
        getSelection().addRange(range);
      }"""
    )
    tablet.wait_for_timeout(100)
    tablet.get_by_test_id("note-save").click()
    tablet.get_by_test_id("note").filter(has_text="Đánh dấu").wait_for()
    assert "muc 150" in tablet.get_by_test_id("note").filter(has_text="Đánh dấu").inner_text()
    assert tablet.locator("#text-layer span.lt-hl").count() >= 1
    second.get_by_test_id("note").filter(has_text="thuỷ lợi").wait_for(timeout=10_000)
    assert "Trang 150" in second.get_by_test_id("note").filter(has_text="thuỷ lợi").inner_text()
    # ink: draw a stroke with the finger on page 150, save; the second device draws it too
    tablet.get_by_test_id("ink-toggle").click()
    box = tablet.get_by_test_id("ink-layer").bounding_box()
    x, y = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3
    tablet.mouse.move(x, y)
    tablet.mouse.down()
    for step in range(1, 11):
        tablet.mouse.move(x + step * 12, y + step * 6)
    tablet.mouse.up()
    tablet.get_by_test_id("ink-save").click()
    tablet.locator("[data-testid=ink-layer][data-strokes='1']").wait_for()
    ink_note = second.get_by_test_id("note").filter(has=second.get_by_test_id("note-ink"))
    ink_note.wait_for(timeout=10_000)
    ink_note.get_by_role("button", name="Trang 150").click()
    second.locator("[data-testid=ink-layer][data-strokes='1']").wait_for()
    # the stroke is drawn where it was made: pixels near its middle on the second device
    drawn = second.evaluate(
        """() => {
        const c = document.getElementById('ink-layer');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
        return n;
      }"""
    )
    assert drawn > 50
    tablet.screenshot(path=str(tmp_path / "reader-tablet.png"))

    wall = desk_ctx.new_page()
    wall.goto(f"{url}/sessions/{s['id']}/wall")
    desk.goto(f"{url}/sessions/{s['id']}")
    desk.get_by_test_id("poll-title").fill("Thông qua dự toán ngân sách 2027")
    desk.get_by_test_id("poll-create").click()
    desk.locator("[data-testid^=poll-open-]").click()
    tablet.goto(f"{url}/sessions/{s['id']}")
    tablet.get_by_test_id("vote-yes").click()
    assert tablet.get_by_test_id("vote-ack").inner_text() == "Đã ghi nhận: Đồng ý"
    desk.get_by_test_id("live-count").filter(has_text="Đã biểu quyết: 1").wait_for()
    wall.locator("[data-testid=wall-vote][data-status=open]").wait_for()
    desk.locator("[data-testid^=poll-close-]").click()
    wall.locator("[data-testid=wall-vote][data-status=closed]").wait_for()
    assert "Đồng ý: 1" in wall.get_by_test_id("wall-vote").inner_text()
    assert "KHÔNG THÔNG QUA" in wall.get_by_test_id("wall-vote").inner_text()  # 1 of 2 members
    assert "Đồng ý: 1" in tablet.get_by_test_id("vote-result").inner_text()
    assert wall.get_by_test_id("wall-item").inner_text() == "Dự toán ngân sách 2027"
    assert tablet.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    for ctx in (tablet_ctx, second_ctx, desk_ctx):
        ctx.close()


def test_papers_read_offline_and_notes_sync_when_back(server: LiveServer, browser: Any) -> None:
    url = server.url
    desk_ctx, desk = login(browser, url, "thuky.hdnd", tablet=False)
    s = call(desk, "POST", url + "/api/v1/sessions", data={"title": "Kỳ họp chuyên đề"})
    api = f"{url}/api/v1/sessions/{s['id']}"
    call(desk, "POST", api + "/invitations", data={"login": "daibieu2", "role": "member"})
    item = call(desk, "POST", api + "/agenda", data={"title": "Quy hoạch tỉnh"})
    paper = call(
        desk,
        "POST",
        api + "/papers",
        multipart={
            "file": {"name": "qh.pdf", "mimeType": "application/pdf", "buffer": sample_pdf(30)},
            "item_id": str(item["id"]),
            "title": "Báo cáo quy hoạch",
        },
    )
    tablet_ctx, tablet = login(browser, url, "daibieu2")
    tablet.goto(f"{url}/sessions/{s['id']}")
    tablet.get_by_test_id(f"paper-{paper['id']}").wait_for()
    tablet.get_by_test_id("save-offline").click()
    tablet.get_by_test_id("flash").filter(has_text="Đã lưu").wait_for(timeout=20_000)
    reader = f"{url}/sessions/{s['id']}/papers/{paper['id']}"
    tablet_ctx.set_offline(True)
    tablet.goto(reader)
    tablet.wait_for_selector("[data-testid=page-canvas][data-rendered='1']", timeout=20_000)
    tablet.get_by_test_id("note-text").fill("Ghi chú khi mất mạng")
    tablet.get_by_test_id("note-save").click()
    tablet.get_by_test_id("note-pending").wait_for()
    tablet_ctx.set_offline(False)
    tablet.get_by_test_id("note-pending").wait_for(state="detached", timeout=20_000)
    notes = desk.request.get(f"{api}/papers/{paper['id']}/annotations")
    assert notes.ok
    # the secretariat does not see a member's private note; the member's API does
    assert notes.json() == []
    mine = tablet.request.get(f"{api}/papers/{paper['id']}/annotations").json()
    assert [n["body"]["value"] for n in mine] == ["Ghi chú khi mất mạng"]
    # logging out on a shared tablet leaves no papers in Cache Storage
    tablet.goto(f"{url}/sessions/{s['id']}")
    assert tablet.evaluate("async () => (await caches.keys()).length") >= 1
    tablet.get_by_role("button", name="Đăng xuất").click()
    tablet.wait_for_url(url + "/login")
    tablet.wait_for_function("async () => (await caches.keys()).length === 0")
    # a login that ends elsewhere (expired, or logged out everywhere): the worker drops them too
    tablet.goto(url + "/login?next=/sessions")
    tablet.fill("input[name=login]", "daibieu2")
    tablet.fill("input[name=password]", DEMO_PASSWORD)
    tablet.click("button[type=submit]")
    tablet.wait_for_url(url + "/sessions")
    tablet.goto(f"{url}/sessions/{s['id']}")
    tablet.get_by_test_id("save-offline").click()
    tablet.get_by_test_id("flash").filter(has_text="Đã lưu").wait_for(timeout=20_000)
    tablet_ctx.clear_cookies()
    tablet.goto(f"{url}/sessions/{s['id']}")
    tablet.wait_for_url(f"{url}/login**")
    tablet.wait_for_function("async () => (await caches.keys()).length === 0")
    for ctx in (tablet_ctx, desk_ctx):
        ctx.close()


def test_secretariat_invites_from_the_page_and_english_everywhere(
    server: LiveServer, browser: Any
) -> None:
    url = server.url
    desk_ctx, desk = login(browser, url, "thuky.hdnd", tablet=False)
    s = call(desk, "POST", url + "/api/v1/sessions", data={"title": "Kỳ họp bất thường"})
    desk.goto(f"{url}/sessions/{s['id']}")
    desk.get_by_test_id("invite-page").click()
    desk.get_by_test_id("invite-q").fill("Đại biểu")
    desk.get_by_test_id("invite-q").press("Enter")
    desk.get_by_test_id("pick-daibieu3").check()
    desk.get_by_test_id("pick-daibieu1").check()
    desk.get_by_test_id("invite-role").select_option("member")
    desk.get_by_test_id("invite-submit").click()
    desk.get_by_test_id("invited-daibieu3").wait_for()
    desk.get_by_test_id("pick-daibieu3").wait_for(state="detached")  # no longer offered
    desk.get_by_test_id("invited-daibieu3").locator("select").select_option("guest")
    api = f"{url}/api/v1/sessions/{s['id']}"
    desk.wait_for_function(
        f"""async () => (await (await fetch('{api}/members')).json()).members
          .some((u) => u.login === 'daibieu3' && u.role === 'guest')"""
    )
    item = call(desk, "POST", api + "/agenda", data={"title": "Điều chỉnh quy hoạch"})
    paper = call(
        desk,
        "POST",
        api + "/papers",
        multipart={
            "file": {"name": "a.pdf", "mimeType": "application/pdf", "buffer": sample_pdf(3)},
            "item_id": str(item["id"]),
            "title": "Tờ trình",
        },
    )
    # the member switches to English: the session page, the reader and the wall follow
    tablet_ctx, tablet = login(browser, url, "daibieu1")
    tablet.goto(f"{url}/sessions/{s['id']}")
    tablet.locator("a.lang").click()
    tablet.get_by_test_id("save-offline").filter(has_text="Save the papers").wait_for()
    assert tablet.locator("html").get_attribute("lang") == "en"
    assert "Agenda and papers" in tablet.inner_text("main")
    tablet.get_by_test_id(f"paper-{paper['id']}").wait_for()
    assert "pages, version 1" in tablet.get_by_test_id("agenda").inner_text()
    tablet.get_by_test_id("conn").filter(has_text="Connected").wait_for()
    tablet.get_by_test_id(f"paper-{paper['id']}").click()
    tablet.wait_for_selector("[data-testid=page-canvas][data-rendered='1']", timeout=20_000)
    assert tablet.get_by_test_id("reader-status").inner_text() == "Page 1/3"
    assert tablet.get_by_test_id("ink-toggle").inner_text() == "Draw"
    tablet.goto(f"{url}/sessions/{s['id']}/wall")
    # no sitting has started: the wall says so (no "0/2, no quorum"); it has no site bar, so
    # the language is switched by the address the bar's link would use
    tablet.get_by_test_id("wall-quorum").filter(has_text="has not started").wait_for()
    assert tablet.locator("a.lang").is_hidden()
    tablet.goto(f"{url}/lang?to=vi&next=/sessions/{s['id']}/wall")
    tablet.get_by_test_id("wall-quorum").filter(has_text="chưa bắt đầu").wait_for()
    for ctx in (tablet_ctx, desk_ctx):
        ctx.close()


def test_confidential_papers_are_not_kept_offline(server: LiveServer, browser: Any) -> None:
    url = server.url
    desk_ctx, desk = login(browser, url, "thuky.hdnd", tablet=False)
    s = call(desk, "POST", url + "/api/v1/sessions", data={"title": "Kỳ họp kín"})
    api = f"{url}/api/v1/sessions/{s['id']}"
    call(desk, "POST", api + "/invitations", data={"login": "daibieu2", "role": "member"})
    item = call(desk, "POST", api + "/agenda", data={"title": "Nhân sự"})
    papers = [
        call(
            desk,
            "POST",
            api + "/papers",
            multipart={
                "file": {"name": "p.pdf", "mimeType": "application/pdf", "buffer": sample_pdf(3)},
                "item_id": str(item["id"]),
                "title": title,
                **extra,
            },
        )
        for title, extra in (
            ("Tờ trình", {}),
            ("Báo cáo mật", {"confidential": "true", "readers": "daibieu2"}),
        )
    ]
    tablet_ctx, tablet = login(browser, url, "daibieu2")
    tablet.goto(f"{url}/sessions/{s['id']}")
    tablet.get_by_test_id(f"paper-{papers[1]['id']}").wait_for()
    tablet.get_by_test_id("save-offline").click()
    tablet.get_by_test_id("flash").filter(has_text="Đã lưu").wait_for(timeout=20_000)
    tablet.goto(f"{url}/sessions/{s['id']}/papers/{papers[1]['id']}")
    tablet.wait_for_selector("[data-testid=page-canvas][data-rendered='1']", timeout=20_000)
    kept = tablet.evaluate(
        """async () => {
          const paths = [];
          for (const name of await caches.keys())
            for (const req of await (await caches.open(name)).keys()) paths.push(new URL(req.url).pathname);
          return paths;
        }"""
    )
    files = {p for p in kept if p.endswith("/file")}
    assert files == {f"/api/v1/sessions/{s['id']}/papers/{papers[0]['id']}/file"}, kept
    for ctx in (tablet_ctx, desk_ctx):
        ctx.close()
