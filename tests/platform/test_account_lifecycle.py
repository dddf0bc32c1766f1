"""Accounts a province can run: disabling ends sessions, tokens and sockets at once; one's own
password change ends the other sessions; an administrator's reset is audited and forces a change."""

import asyncio
import json
from typing import Any

from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient, TestServer

from server.auth.principal import Role
from tests.conftest import PASSWORD, People, bearer
from tests.platform.test_auth import HTML, csrf_of, login

NEW_PASSWORD = "mat-khau-moi-2026"


async def _second_client(client: TestClient[Any, Any]) -> TestClient[Any, Any]:
    """Another browser on the same server (its own cookie jar)."""
    server = client.server
    assert isinstance(server, TestServer)
    other: TestClient[Any, Any] = TestClient(server)
    await other.start_server()
    return other


async def _audit(client: TestClient[Any, Any], admin: dict[str, str]) -> list[dict[str, Any]]:
    return list(await (await client.get("/api/v1/audit", headers=admin)).json())


async def test_disabling_ends_session_token_and_socket_at_once(
    client: TestClient[Any, Any], people: People
) -> None:
    await people.add("quantri", Role.ADMIN)
    admin = bearer(await people.token("quantri"))
    await people.add("vanthu", Role.CLERK)
    token = bearer(await people.token("vanthu"))
    assert (await login(client, "vanthu")).status == 302
    assert (await client.get("/api/v1/me")).status == 200
    ws = await client.ws_connect("/api/v1/realtime", headers=token)

    resp = await client.post("/api/v1/users/vanthu/disable", headers=admin)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["sessions"] == 1
    msg = await ws.receive(timeout=5)
    assert msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED)
    assert (await client.get("/api/v1/me")).status == 401  # the session
    assert (await client.get("/api/v1/me", headers=token)).status == 401  # the machine token

    # the right password now gets a clear Vietnamese answer; a wrong one still the usual one
    refused = await login(client, "vanthu")
    assert refused.status == 403
    assert "Tài khoản này đã bị vô hiệu hoá" in await refused.text()
    wrong = await login(client, "vanthu", "not-the-password")
    assert "Sai tên đăng nhập hoặc mật khẩu." in await wrong.text()

    assert (await client.post("/api/v1/users/vanthu/enable", headers=admin)).status == 200
    assert (await login(client, "vanthu")).status == 302
    assert (await client.get("/api/v1/me")).status == 200
    # re-enabling revived neither the old token nor anything else
    assert (await client.get("/api/v1/me", headers=token)).status == 401
    actions = [e["action"] for e in await _audit(client, admin)]
    assert "user.disabled" in actions and "user.enabled" in actions
    assert "auth.login_disabled" in actions


async def test_an_admin_cannot_disable_themselves_nor_can_others_disable(
    client: TestClient[Any, Any], people: People
) -> None:
    await people.add("quantri", Role.ADMIN)
    await people.add("vanthu", Role.CLERK)
    admin = bearer(await people.token("quantri"))
    clerk = bearer(await people.token("vanthu"))
    assert (await client.post("/api/v1/users/quantri/disable", headers=admin)).status == 409
    assert (await client.post("/api/v1/users/quantri/disable", headers=clerk)).status == 403
    assert (await client.post("/api/v1/users/nobody/disable", headers=admin)).status == 404


async def test_own_password_change_ends_the_other_sessions(
    client: TestClient[Any, Any], people: People
) -> None:
    await people.add("daibieu", Role.MEMBER)
    other = await _second_client(client)
    try:
        assert (await login(other, "daibieu")).status == 302
        assert (await login(client, "daibieu")).status == 302
        csrf = await csrf_of(client)
        headers = {"X-CSRF-Token": csrf}
        wrong = {"current_password": "not-it-at-all", "new_password": NEW_PASSWORD}
        resp = await client.post("/api/v1/me/password", json=wrong, headers=headers)
        assert resp.status == 403
        assert (await resp.json())["detail_vi"] == "Mật khẩu hiện tại không đúng."
        short = {"current_password": PASSWORD, "new_password": "short"}
        assert (await client.post("/api/v1/me/password", json=short, headers=headers)).status == 422
        assert (await other.get("/api/v1/me")).status == 200  # nothing changed yet

        good = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
        resp = await client.post("/api/v1/me/password", json=good, headers=headers)
        assert resp.status == 200, await resp.text()
        assert (await resp.json())["sessions_ended"] == 1
        assert (await client.get("/api/v1/me")).status == 200  # this session stays
        assert (await other.get("/api/v1/me")).status == 401  # the other one ended
        assert (await login(other, "daibieu")).status == 401  # old password gone
        assert (await login(other, "daibieu", NEW_PASSWORD)).status == 302
    finally:
        await other.close()


async def test_password_change_on_the_account_page(
    client: TestClient[Any, Any], people: People
) -> None:
    await people.add("vanthu", Role.CLERK)
    await login(client, "vanthu")
    page = await (await client.get("/account", headers=HTML)).text()
    assert "Đổi mật khẩu" in page and 'name="current_password"' in page
    form = {
        "csrf_token": await csrf_of(client),
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "new_password2": "mismatch-12345",
    }
    resp = await client.post("/account/password", data=form, headers=HTML)
    assert resp.status == 422 and "không khớp" in await resp.text()
    form["new_password2"] = NEW_PASSWORD
    resp = await client.post("/account/password", data=form, headers=HTML)
    assert resp.status == 200 and "Đã đổi mật khẩu" in await resp.text()


async def test_admin_reset_is_audited_and_forces_a_change(
    client: TestClient[Any, Any], people: People
) -> None:
    await people.add("quantri", Role.ADMIN)
    admin = bearer(await people.token("quantri"))
    await people.add("vanthu", Role.CLERK)
    assert (await login(client, "vanthu")).status == 302

    body = {"password": "dat-lai-2026"}
    resp = await client.post("/api/v1/users/vanthu/password", json=body, headers=admin)
    assert resp.status == 200, await resp.text()
    assert (await client.get("/api/v1/me")).status == 401  # the person's sessions ended
    entry = next(e for e in await _audit(client, admin) if e["action"] == "user.password_reset")
    assert entry["actor"] == "quantri" and entry["target"] == "vanthu"
    assert json.loads(entry["details"])["sessions"] == 1

    assert (await login(client, "vanthu", PASSWORD)).status == 401
    assert (await login(client, "vanthu", "dat-lai-2026")).status == 302
    # until they choose their own password, pages lead to the account page, the API refuses
    home = await client.get("/", headers=HTML, allow_redirects=False)
    assert home.status == 302 and home.headers["Location"] == "/account"
    account = await (await client.get("/account", headers=HTML)).text()
    assert 'data-testid="must-change"' in account
    csrf = await csrf_of(client)
    blocked = await client.post(
        "/api/v1/tokens", json={"name": "x"}, headers={"X-CSRF-Token": csrf}
    )
    assert blocked.status == 403
    assert (await blocked.json())["code"] == "auth.password_change_required"
    change = {"current_password": "dat-lai-2026", "new_password": NEW_PASSWORD}
    resp = await client.post("/api/v1/me/password", json=change, headers={"X-CSRF-Token": csrf})
    assert resp.status == 200
    assert (await client.get("/", headers=HTML, allow_redirects=False)).status == 200


async def test_admin_users_page_disables_and_resets(
    client: TestClient[Any, Any], people: People
) -> None:
    await people.add("quantri", Role.ADMIN)
    await people.add("vanthu", Role.CLERK)
    await login(client, "quantri")
    csrf = await csrf_of(client)
    form = {"csrf_token": csrf, "action": "disable"}
    resp = await client.post("/admin/users/vanthu/state", data=form, headers=HTML)
    assert resp.status == 200
    assert 'data-testid="enable-vanthu"' in await resp.text()
    form = {"csrf_token": csrf, "action": "reset", "password": "dat-lai-2026"}
    resp = await client.post("/admin/users/vanthu/state", data=form, headers=HTML)
    text = await resp.text()
    assert "Đã đặt lại mật khẩu của vanthu" in text
    assert "Phải đổi mật khẩu khi đăng nhập" in text


async def test_guessing_the_current_password_is_throttled_like_a_login(
    client: TestClient[Any, Any], people: People
) -> None:
    """A stolen session cannot guess the current password on the change form faster than at the
    login: attempts are counted before the check, parallel ones included (limit 3 in tests)."""
    await people.add("daibieu", Role.MEMBER)
    assert (await login(client, "daibieu")).status == 302
    headers = {"X-CSRF-Token": await csrf_of(client)}
    wrong = {"current_password": "not-it-at-all", "new_password": NEW_PASSWORD}
    answers = await asyncio.gather(
        *(client.post("/api/v1/me/password", json=wrong, headers=headers) for _ in range(8))
    )
    statuses = sorted(r.status for r in answers)
    assert statuses == [403] * 3 + [429] * 5, statuses
    # past the limit even the right password is refused, and nothing changed
    good = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    resp = await client.post("/api/v1/me/password", json=good, headers=headers)
    assert resp.status == 429
    assert (await resp.json())["code"] == "auth.throttled"
    other = await _second_client(client)
    try:  # the password did not change
        assert (await login(other, "daibieu", NEW_PASSWORD)).status == 401
    finally:
        await other.close()
