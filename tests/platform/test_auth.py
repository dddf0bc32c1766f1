"""Login, sessions, CSRF, throttling, tokens: each bad input gets a clear answer and changes nothing."""

import re
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import WSMsgType, WSServerHandshakeError
from aiohttp.test_utils import TestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import ApiToken
from server.auth.principal import Role
from server.db import Database
from server.db.base import utcnow
from tests.conftest import PASSWORD, People, bearer

HTML = {"Accept": "text/html"}


async def login(client: TestClient[Any, Any], login: str, password: str = PASSWORD) -> Any:
    page = await client.get("/login", headers=HTML)
    text = await page.text()
    prelogin = re.search(r'name="prelogin" value="([^"]+)"', text)
    assert prelogin is not None
    return await client.post(
        "/login",
        data={"login": login, "password": password, "prelogin": prelogin.group(1), "next": "/"},
        headers=HTML,
        allow_redirects=False,
    )


async def csrf_of(client: TestClient[Any, Any]) -> str:
    text = await (await client.get("/account", headers=HTML)).text()
    match = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert match is not None
    return match.group(1)


async def test_login_page_is_vietnamese_and_english_switch(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/login", headers=HTML)
    text = await resp.text()
    assert resp.status == 200
    assert "Đăng nhập" in text and 'lang="vi"' in text
    assert resp.headers["Content-Security-Policy"].startswith("default-src 'self'")
    await client.get("/lang?to=en&next=/login", allow_redirects=False)
    client.session.cookie_jar.update_cookies({"lt_lang": "en"})
    text = await (await client.get("/login", headers=HTML)).text()
    assert "Log in" in text and 'lang="en"' in text


async def test_login_success_sets_safe_cookie_and_reaches_home(
    client: TestClient[Any, Any], people: People
) -> None:
    await people.add("vanthu", Role.CLERK, name="Trần Thị Bình")
    resp = await login(client, "vanthu")
    assert resp.status == 302
    cookie = resp.headers.getall("Set-Cookie")
    session_cookie = next(c for c in cookie if c.startswith("lt_session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    home = await client.get("/", headers=HTML)
    text = await home.text()
    assert "Trần Thị Bình" in text
    assert "Văn bản điện tử" in text  # the clerk's tile
    assert "Quản trị" not in text.split("<main>")[1]  # no admin tile for a clerk
    me = await client.get("/api/v1/me")
    assert (await me.json())["roles"] == ["clerk"]


async def test_wrong_password_and_unknown_user_look_the_same(
    client: TestClient[Any, Any], people: People
) -> None:
    await people.add("lanhdao", Role.LEADER)
    wrong = await login(client, "lanhdao", "not-the-password")
    unknown = await login(client, "nobody-here", "not-the-password")
    assert wrong.status == unknown.status == 401
    for resp in (wrong, unknown):
        assert "Sai tên đăng nhập hoặc mật khẩu." in await resp.text()
    assert (await client.get("/api/v1/me")).status == 401


async def test_throttling_after_repeated_failures(
    client: TestClient[Any, Any], people: People, database: Database
) -> None:
    await people.add("thuky", Role.SECRETARIAT)
    for _ in range(3):  # the test config allows 3 failures
        assert (await login(client, "thuky", "bad-password")).status == 401
    resp = await login(client, "thuky")  # even the right password is refused now
    assert resp.status == 429
    assert "thử lại sau" in await resp.text()
    assert (await client.get("/api/v1/me")).status == 401


async def test_login_form_needs_its_prelogin_token(
    client: TestClient[Any, Any], people: People
) -> None:
    await people.add("daibieu", Role.MEMBER)
    resp = await client.post(
        "/login",
        data={"login": "daibieu", "password": PASSWORD, "prelogin": "forged"},
        headers=HTML,
        allow_redirects=False,
    )
    assert resp.status == 403
    assert (await client.get("/api/v1/me")).status == 401


async def test_csrf_required_for_session_posts(
    client: TestClient[Any, Any], people: People
) -> None:
    await people.add("vanthu", Role.CLERK)
    await login(client, "vanthu")
    resp = await client.post("/account/tokens", data={"name": "x"}, headers=HTML)
    assert resp.status == 403
    assert "CSRF" in await resp.text()
    resp = await client.post("/api/v1/tokens", json={"name": "x"})
    assert resp.status == 403
    assert (await resp.json())["code"] == "auth.csrf"
    csrf = await csrf_of(client)
    resp = await client.post("/api/v1/tokens", json={"name": "x"}, headers={"X-CSRF-Token": csrf})
    assert resp.status == 201
    token = (await resp.json())["token"]
    assert token.startswith("lt_")


async def test_logout_and_logout_everywhere(client: TestClient[Any, Any], people: People) -> None:
    await people.add("vanthu", Role.CLERK)
    await login(client, "vanthu")
    other: TestClient[Any, Any] = TestClient(client.server)  # a second device, same server
    await other.start_server()
    await login(other, "vanthu")
    assert (await other.get("/api/v1/me")).status == 200
    csrf = await csrf_of(client)
    resp = await client.post(
        "/logout", data={"csrf_token": csrf, "everywhere": "1"}, allow_redirects=False
    )
    assert resp.status == 302
    assert (await client.get("/api/v1/me")).status == 401
    assert (await other.get("/api/v1/me")).status == 401
    await other.session.close()


async def test_tokens_bad_expired_revoked(
    client: TestClient[Any, Any], people: People, database: Database
) -> None:
    await people.add("script", Role.CLERK)
    token = await people.token("script")
    assert (await client.get("/api/v1/me", headers=bearer(token))).status == 200
    for header in ({"Authorization": "Basic abc"}, bearer("lt_nope"), {"Authorization": "Bearer "}):
        resp = await client.get("/api/v1/me", headers=header)
        assert resp.status == 401
        assert resp.content_type == "application/problem+json"

    async def expire(session: AsyncSession) -> None:
        await session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))

    await database.write("expire", expire)
    resp = await client.get("/api/v1/me", headers=bearer(token))
    assert resp.status == 401
    assert (await resp.json())["code"] == "auth.bad_token"

    fresh = await people.token("script")
    made = await client.post("/api/v1/tokens", json={"name": "b"}, headers=bearer(fresh))
    assert made.status == 201
    made_body = await made.json()
    revoke = await client.delete(f"/api/v1/tokens/{made_body['id']}", headers=bearer(fresh))
    assert revoke.status == 200
    assert (await client.get("/api/v1/me", headers=bearer(made_body["token"]))).status == 401
    assert (
        await client.delete(f"/api/v1/tokens/{made_body['id']}", headers=bearer(fresh))
    ).status == 404


async def test_roles_are_enforced_and_audited(client: TestClient[Any, Any], people: People) -> None:
    await people.add("admin1", Role.ADMIN)
    await people.add("clerk1", Role.CLERK)
    admin = bearer(await people.token("admin1"))
    clerk = bearer(await people.token("clerk1"))
    new = {
        "login": "chuyenvien",
        "full_name": "Chuyên viên",
        "agency_code": "000.00.10.H98",
        "roles": ["official"],
        "password": "long-enough-1",
    }
    assert (await client.post("/api/v1/users", json=new, headers=clerk)).status == 403
    assert (await client.get("/api/v1/users", headers=clerk)).status == 403
    resp = await client.post("/api/v1/users", json=new, headers=admin)
    assert resp.status == 201
    assert (await client.post("/api/v1/users", json=new, headers=admin)).status == 409
    bad_role = await client.post(
        "/api/v1/users", json={**new, "login": "x2", "roles": ["king"]}, headers=admin
    )
    assert bad_role.status == 422
    short = await client.post(
        "/api/v1/users", json={**new, "login": "x3", "password": "short"}, headers=admin
    )
    assert short.status == 422
    resp = await client.put(
        "/api/v1/users/chuyenvien/roles", json={"roles": ["official", "leader"]}, headers=admin
    )
    assert resp.status == 200
    entries = await (await client.get("/api/v1/audit?limit=5", headers=admin)).json()
    assert entries[0]["action"] == "user.roles_changed"
    assert '"after":["leader","official"]' in entries[0]["details"]


async def test_websocket_from_another_site_is_refused(
    client: TestClient[Any, Any], people: People
) -> None:
    await people.add("daibieu", Role.MEMBER)
    await login(client, "daibieu")
    with pytest.raises(WSServerHandshakeError) as info:
        await client.ws_connect("/api/v1/realtime", headers={"Origin": "https://evil.example"})
    assert info.value.status == 403
    own = f"http://{client.host}:{client.port}"
    ws = await client.ws_connect("/api/v1/realtime", headers={"Origin": own})
    await ws.close()


async def test_logout_everywhere_drops_open_websockets(
    client: TestClient[Any, Any], people: People
) -> None:
    await people.add("daibieu", Role.MEMBER)
    token = await people.token("daibieu")
    ws = await client.ws_connect("/api/v1/realtime", headers=bearer(token))
    resp = await client.post("/api/v1/logout-everywhere", headers=bearer(token))
    assert resp.status == 200
    msg = await ws.receive(timeout=5)
    assert msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING, WSMsgType.ERROR)
    await ws.close()
