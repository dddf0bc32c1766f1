"""The session pages designed per device (issue 13), checked by element geometry in a real
Chromium at a tablet's 1024×768, a phone's 390×844 and a wall's 1920×1080: the reader's notes
beside the page (a drawer on a phone) and its one-row toolbar, ink with the pencil, the desk's
labelled sections and speaking timer, the conclusions kept, the vote's denominator, the minutes'
outdated mark and "not started", the wall full-screen.  One server and one browser per module;
screenshots go to /tmp/sessui/ for a person to look at."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from meetings.sessions.minutes import minutes_lines
from meetings.sessions.papers.sample import sample_pdf
from server.demo import DEMO_PASSWORD
from tests.live import LiveServer, chromium, live_server
from tests.sessions.test_browser import call

pytestmark = pytest.mark.browser

TABLET = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}
WALL = {"width": 1920, "height": 1080}
SHOTS = Path("/tmp/sessui")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("live-devices")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def open_as(browser: Any, url: str, who: str, size: dict[str, int]) -> tuple[Any, Any]:
    touch = size["width"] < 1200
    context = browser.new_context(viewport=size, is_mobile=size is PHONE, has_touch=touch)
    page = context.new_page()
    page.goto(url + "/login?next=/sessions")
    page.fill("input[name=login]", who)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/sessions")
    return context, page


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def box(page: Any, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not displayed"
    return dict(found)


@pytest.fixture(scope="module")
def council(server: LiveServer, browser: Any) -> Iterator[dict[str, Any]]:
    """A session with two members, one sitting (not started), one item and a 3-page paper."""
    url = server.url
    ctx, desk = open_as(browser, url, "thuky.hdnd", TABLET)
    s = call(desk, "POST", url + "/api/v1/sessions", data={"title": "Kỳ họp thứ 11 HĐND tỉnh"})
    api = f"{url}/api/v1/sessions/{s['id']}"
    for who in ("daibieu1", "daibieu2"):
        call(desk, "POST", api + "/invitations", data={"login": who, "role": "member"})
    sitting = call(desk, "POST", api + "/sittings", data={"title": "Phiên sáng"})
    item = call(desk, "POST", api + "/agenda", data={"title": "Dự toán ngân sách 2027"})
    other = call(desk, "POST", api + "/agenda", data={"title": "Kế hoạch đầu tư công"})
    pdf = {"name": "du-toan.pdf", "mimeType": "application/pdf", "buffer": sample_pdf(3)}
    paper = call(
        desk,
        "POST",
        api + "/papers",
        multipart={"file": pdf, "item_id": str(item["id"]), "title": "Tờ trình dự toán"},
    )
    yield {
        "url": url,
        "sid": s["id"],
        "api": api,
        "sitting": sitting["id"],
        "item": item["id"],
        "other": other["id"],
        "paper": paper["id"],
        "desk_ctx": ctx,
        "desk": desk,
    }
    ctx.close()


def test_minutes_say_a_sitting_not_started_has_not_started() -> None:
    data = {
        "session": {"title": "Kỳ họp", "place": ""},
        "sittings": [
            {
                "title": "Phiên sáng",
                "started": False,
                "quorum": {"present": 0, "members_total": 3, "hall": 0, "online": 0},
                "absent": [],
            }
        ],
        "polls": [],
        "conclusions": "",
    }
    text = "\n".join(line for _size, line in minutes_lines(data))
    assert "Phiên sáng: phiên họp chưa bắt đầu." in text
    assert "0/3" not in text and "không đủ số đại biểu" not in text


def test_reader_on_a_tablet_and_a_phone(browser: Any, council: dict[str, Any]) -> None:
    url, sid, pid = council["url"], council["sid"], council["paper"]
    reader = f"{url}/sessions/{sid}/papers/{pid}"
    ctx, tablet = open_as(browser, url, "daibieu1", TABLET)
    tablet.goto(reader)
    tablet.wait_for_selector("[data-testid=page-canvas][data-rendered='1']", timeout=20_000)
    canvas, notes = box(tablet, "#page-canvas"), box(tablet, "[data-testid=notes-panel]")
    # the notes beside the page, inside the screen, with the note form in sight
    assert notes["x"] >= canvas["x"] + canvas["width"] - 1
    assert notes["x"] + notes["width"] <= TABLET["width"]
    form = box(tablet, "[data-testid=note-text]")
    assert form["y"] + form["height"] <= TABLET["height"]
    assert not tablet.get_by_test_id("notes-toggle").is_visible()  # no drawer on a tablet
    tools = box(tablet, "[data-testid=reader-tools]")
    assert tools["height"] <= 56  # one row
    assert canvas["y"] < 150
    # the pencil draws without the drawing mode; a finger does not (it scrolls)
    assert tablet.get_by_test_id("ink-toggle").get_attribute("aria-pressed") == "false"
    assert not tablet.get_by_test_id("ink-save").is_visible()
    stroke = """([kind, id]) => {
      const b = document.getElementById('ink-layer').getBoundingClientRect();
      const at = (type, i) => document.getElementById('text-layer').dispatchEvent(new PointerEvent(type, {
        pointerType: kind, pointerId: id, isPrimary: true, bubbles: true, cancelable: true,
        clientX: b.left + 40 + i * 15, clientY: b.top + 60 + i * 9 }));
      at('pointerdown', 0);
      for (let i = 1; i < 8; i++) at('pointermove', i);
      at('pointerup', 8);
      return document.getElementById('ink-layer').dataset.pending;
    }"""
    assert tablet.evaluate(stroke, ["touch", 3]) in (None, "0")
    assert tablet.evaluate(stroke, ["pen", 4]) == "1"
    assert tablet.get_by_test_id("ink-save").is_visible()
    shot(tablet, "reader-tablet-1024")
    tablet.get_by_test_id("ink-save").click()
    tablet.locator("[data-testid=ink-layer][data-strokes='1']").wait_for()
    ctx.close()

    ctx, phone = open_as(browser, url, "daibieu1", PHONE)
    phone.goto(reader)
    phone.wait_for_selector("[data-testid=page-canvas][data-rendered='1']", timeout=20_000)
    assert box(phone, "[data-testid=reader-tools]")["height"] <= 56
    assert box(phone, "#page-canvas")["y"] < 150
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    # the notes are a drawer: out of sight until the toolbar's button opens it
    assert not phone.get_by_test_id("note-text").is_visible()
    shot(phone, "reader-phone-390")
    phone.get_by_test_id("notes-toggle").click()
    phone.get_by_test_id("note-text").wait_for(state="visible")
    phone.wait_for_function(
        "() => { const b = document.getElementById('notes-panel').getBoundingClientRect();"
        " return b.right <= innerWidth + 1 && b.left >= 0; }"
    )
    assert phone.get_by_test_id("notes-toggle").get_attribute("aria-expanded") == "true"
    shot(phone, "reader-phone-390-notes")
    phone.get_by_test_id("notes-close").click()
    phone.get_by_test_id("note-text").wait_for(state="hidden")
    phone.set_viewport_size(WALL)
    phone.get_by_test_id("note-text").wait_for(state="visible")  # beside the page again
    shot(phone, "reader-1920")
    ctx.close()


def test_the_desk_is_a_tablet_app(browser: Any, council: dict[str, Any]) -> None:
    url, sid, api, desk = council["url"], council["sid"], council["api"], council["desk"]
    desk.goto(f"{url}/sessions/{sid}")
    desk.get_by_test_id("desk").wait_for()
    # the sitting has not started: no quorum verdict yet
    desk.get_by_test_id("quorum").filter(has_text="chưa bắt đầu").wait_for()
    assert "không đủ" not in desk.get_by_test_id("quorum").inner_text()
    headings = desk.locator(".desk-section > h2").all_inner_texts()
    assert headings == ["Chương trình nghị sự", "Điểm danh", "Biểu quyết", "Tài liệu", "Biên bản"]
    assert desk.locator("#speakers > h2").inner_text() == "Đăng ký phát biểu"
    unlabelled = desk.evaluate(
        "() => [...document.querySelectorAll('#desk input, #desk select, #desk textarea')]"
        ".filter((f) => f.type !== 'hidden' && !f.labels?.length && !f.getAttribute('aria-label'))"
        ".map((f) => f.name)"
    )
    assert unlabelled == []
    assert desk.locator("#desk [placeholder]").count() == 0
    # a verb makes an item current; the current one shows a status badge instead
    desk.get_by_test_id(f"make-current-{council['item']}").filter(
        has_text="Thảo luận mục này"
    ).click()
    current = desk.locator(f"#agenda li[data-item='{council['item']}']")
    current.get_by_test_id("current-badge").filter(has_text="Đang thảo luận").wait_for()
    assert current.get_by_test_id(f"make-current-{council['item']}").count() == 0
    # conclusions: saved, then the box is filled again after a reload
    desk.get_by_test_id("conclusions").fill("Nhất trí thông qua dự toán.")
    desk.get_by_test_id("conclusions-save").click()
    desk.get_by_test_id("flash").filter(has_text="Đã lưu kết luận").wait_for()
    desk.reload()
    desk.get_by_test_id("conclusions").wait_for()
    desk.wait_for_function(
        "() => document.querySelector('[data-testid=conclusions]').value"
        " === 'Nhất trí thông qua dự toán.'"
    )
    # a certificate picker with a very long subject stays inside the screen
    desk.evaluate(
        """() => { const row = document.querySelector('[data-testid=sign-minutes]');
        const s = document.createElement('select'); s.className = 'cert-select';
        s.dataset.testid = 'sign-cert'; s.setAttribute('aria-label', 'cert');
        const o = document.createElement('option');
        o.textContent = 'CN=Vũ Thị Hạnh, O=Văn phòng HĐND tỉnh, '.repeat(20); s.append(o);
        row.append(s); }"""
    )
    cert = box(desk, "[data-testid=sign-cert]")
    assert cert["x"] + cert["width"] <= TABLET["width"]
    assert desk.evaluate("() => document.documentElement.scrollWidth") == TABLET["width"]
    sign = box(desk, "[data-testid=sign-minutes-button]")
    assert sign["x"] + sign["width"] <= TABLET["width"]
    desk.evaluate("() => document.querySelector('.cert-select').remove()")
    desk.goto(f"{url}/sessions/{sid}")
    desk.get_by_test_id("desk").wait_for()
    shot(desk, "desk-tablet-1024")
    desk.set_viewport_size(PHONE)
    shot(desk, "desk-phone-390")
    assert desk.evaluate("() => document.documentElement.scrollWidth") == PHONE["width"]
    desk.set_viewport_size(WALL)
    shot(desk, "desk-1920")
    desk.set_viewport_size(TABLET)
    assert api


def test_timer_votes_minutes_and_the_wall(browser: Any, council: dict[str, Any]) -> None:
    url, sid, api, desk = council["url"], council["sid"], council["api"], council["desk"]
    call(desk, "POST", f"{api}/sittings/{council['sitting']}/start")
    call(desk, "PUT", api + "/current", data={"item_id": council["item"]})
    mctx, member = open_as(browser, url, "daibieu1", PHONE)
    call(member, "POST", api + "/attendance", data={"status": "hall"})
    spoken = call(member, "POST", f"{api}/items/{council['item']}/speakers", data={"kind": "for"})
    wctx, wall = open_as(browser, url, "thuky.hdnd", WALL)
    wall.goto(f"{url}/sessions/{sid}/wall")
    wall.get_by_test_id("wall-item").filter(has_text="Dự toán").wait_for()
    desk.goto(f"{url}/sessions/{sid}")
    desk.get_by_test_id("timer-control").wait_for()
    speaker_id = spoken["queue"][0]["id"]
    desk.get_by_test_id("timer-limit").select_option("3")
    desk.get_by_test_id(f"speaker-start-{speaker_id}").click()
    desk.get_by_test_id("timer-pause").click()
    desk.locator("[data-testid=desk-timer][data-paused='1']").wait_for()
    state = call(desk, "GET", api)
    assert state["speaker"]["paused"] is True and 0 < state["speaker"]["limit_s"] <= 180
    wall.get_by_test_id("wall-timer").filter(has_text="Tạm dừng").wait_for()
    desk.get_by_test_id("timer-resume").click()
    desk.locator("[data-testid=desk-timer][data-paused='0']").wait_for()
    assert call(desk, "GET", api)["speaker"]["paused"] is False
    desk.get_by_test_id("timer-reset").click()
    desk.locator("[data-testid=desk-timer][data-paused='1']").filter(has_text="3:00").wait_for()
    # a named vote: the live count's denominator is the members, not 0
    poll = call(desk, "POST", api + "/polls", data={"title": "Thông qua dự toán"})
    desk.reload()
    desk.get_by_test_id(f"poll-open-{poll['id']}").click()
    live = desk.get_by_test_id("live-count")
    live.filter(has_text="/2 đại biểu").wait_for()
    assert "/ 0 đại biểu" not in live.inner_text()
    shot(desk, "desk-tablet-1024-vote")
    # the wall: the whole 1920 px, large type, no navigation and no logout
    wall.get_by_test_id("wall-vote").filter(has_text="Thông qua dự toán").wait_for()
    content = box(wall, "#wall")
    assert content["width"] >= 0.9 * WALL["width"]
    assert wall.locator("header.topbar").is_hidden()
    assert wall.get_by_role("button", name="Đăng xuất").count() == 0 or not (
        wall.get_by_role("button", name="Đăng xuất").is_visible()
    )
    assert wall.locator("nav:visible, a[href='/']:visible").count() == 0
    size = wall.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector('[data-testid=wall-item]')).fontSize)"
    )
    assert size >= 48
    shot(wall, "wall-1920")
    for name, size in (("wall-tablet-1024", TABLET), ("wall-phone-390", PHONE)):
        wall.set_viewport_size(size)
        assert wall.evaluate("() => document.documentElement.scrollWidth") == size["width"]
        shot(wall, name)
    call(desk, "POST", f"{api}/polls/{poll['id']}/close")

    # signed minutes, then a later vote: the link is marked outdated (the state is the server's,
    # only the minutes' signing time is set before the vote, as a signature would have set it)
    def signed_before(route: Any) -> None:
        resp = route.fetch()
        body = resp.json()
        body["minutes"] = {"signer": "Vũ Thị Hạnh", "at": "2020-01-01T00:00:00+00:00"}
        route.fulfill(response=resp, body=json.dumps(body))

    member.route(api, signed_before)
    member.goto(f"{url}/sessions/{sid}")
    member.get_by_test_id("minutes-link").wait_for()
    member.get_by_test_id("minutes-outdated").filter(has_text="Đã cũ").wait_for()
    # the phone: content first, no page wider than the screen
    assert box(member, "[data-testid=current-item]")["y"] < 250
    assert member.evaluate("() => document.documentElement.scrollWidth") == PHONE["width"]
    shot(member, "session-phone-390")
    member.goto(f"{url}/sessions")
    assert box(member, "[data-testid=sessions] li")["y"] < 160
    shot(member, "list-phone-390")
    mctx.close()
    wctx.close()
