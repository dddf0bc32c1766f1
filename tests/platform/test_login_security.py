"""Login throttling counted before the password check, known devices, and "log out everywhere"
reaching the API tokens a session minted (issue 9, findings 3 and 4).

The test config allows 3 failures (``max_failed_logins=3``): 3 per account and source, 12 per
account from all strangers, 12 per address.
"""

import asyncio
import re
from dataclasses import replace
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from lienthong.app import create_app
from server.auth.principal import Role
from server.config import Config
from server.db import Database
from tests.conftest import PASSWORD, People, bearer
from tests.platform.test_auth import csrf_of, login

HTML = {"Accept": "text/html"}


async def prelogin_of(client: TestClient[Any, Any]) -> str:
    text = await (await client.get("/login", headers=HTML)).text()
    match = re.search(r'name="prelogin" value="([^"]+)"', text)
    assert match is not None
    return match.group(1)


async def attempt(
    client: TestClient[Any, Any], prelogin: str, user: str, password: str, source: str = ""
) -> int:
    """One login POST; ``source`` is the address the trusted proxy reports."""
    headers = {**HTML, "X-Forwarded-For": source} if source else HTML
    resp = await client.post(
        "/login",
        data={"login": user, "password": password, "prelogin": prelogin, "next": "/"},
        headers=headers,
        allow_redirects=False,
    )
    await resp.read()
    return resp.status


async def test_parallel_wrong_passwords_are_counted_before_checking(
    client: TestClient[Any, Any], people: People
) -> None:
    await people.add("chutich", Role.MEMBER)
    prelogin = await prelogin_of(client)
    statuses = await asyncio.gather(
        *(attempt(client, prelogin, "chutich", f"guess-{i}") for i in range(40))
    )
    assert statuses.count(401) == 3, statuses  # only the limit was ever evaluated
    assert statuses.count(429) == 37
    assert await attempt(client, prelogin, "chutich", PASSWORD) == 429


async def test_right_password_in_a_parallel_batch_gets_no_extra_chance(
    client: TestClient[Any, Any], people: People
) -> None:
    await people.add("chutich", Role.MEMBER)
    prelogin = await prelogin_of(client)
    passwords = [f"guess-{i}" for i in range(29)]
    passwords.insert(15, PASSWORD)
    statuses = await asyncio.gather(*(attempt(client, prelogin, "chutich", p) for p in passwords))
    right = statuses[15]
    evaluated = statuses.count(401) + statuses.count(302)
    assert right in (302, 429)
    if right == 429:
        assert evaluated <= 3, statuses
    else:  # it was among the first 3 counted (≤ 2 wrong before it); its success resets the
        # source counter, after which at most 3 more wrong guesses are evaluated
        assert statuses.count(401) <= 2 + 3, statuses
    assert statuses.count(429) == 30 - evaluated


async def _proxied_client(
    aiohttp_client: Any, config: Config, database: Database
) -> TestClient[Any, Any]:
    cfg = replace(config, http=replace(config.http, trusted_proxies=("127.0.0.1",)))
    app: web.Application = create_app(cfg, database=database)
    client: TestClient[Any, Any] = await aiohttp_client(app)
    return client


async def test_a_stranger_cannot_lock_the_owner_out_of_their_device(
    aiohttp_client: Any, config: Config, database: Database, people: People
) -> None:
    await people.add("chutich", Role.MEMBER)
    owner = await _proxied_client(aiohttp_client, config, database)
    stranger: TestClient[Any, Any] = TestClient(owner.server)
    await stranger.start_server()
    try:
        home, elsewhere = "198.51.100.7", "198.51.100.8"
        owner_prelogin = await prelogin_of(owner)
        assert await attempt(owner, owner_prelogin, "chutich", PASSWORD, home) == 302
        assert "lt_device" in {c.key for c in owner.session.cookie_jar}
        owner.session.cookie_jar.clear(lambda c: c.key == "lt_session")

        # a stranger guesses from one address, then from four: 3 + 12 wrong passwords
        prelogin = await prelogin_of(stranger)
        statuses = [
            await attempt(stranger, prelogin, "chutich", "x", "203.0.113.9") for _ in "1234"
        ]
        assert statuses == [401, 401, 401, 429]
        for n in range(1, 5):
            for _ in range(3):
                await attempt(stranger, prelogin, "chutich", "x", f"203.0.113.{n}")
        assert await attempt(stranger, prelogin, "chutich", PASSWORD, "203.0.113.77") == 429

        # the account is closed to strangers, the owner's own address without the device included
        bare: TestClient[Any, Any] = TestClient(owner.server)
        await bare.start_server()
        assert await attempt(bare, await prelogin_of(bare), "chutich", PASSWORD, home) == 429
        await bare.session.close()

        # but the owner's tablet, from anywhere, still gets in
        owner_prelogin = await prelogin_of(owner)
        assert await attempt(owner, owner_prelogin, "chutich", PASSWORD, elsewhere) == 302
        assert (await owner.get("/api/v1/me")).status == 200
    finally:
        await stranger.session.close()


async def test_a_known_device_is_throttled_on_its_own(
    aiohttp_client: Any, config: Config, database: Database, people: People
) -> None:
    await people.add("chutich", Role.MEMBER)
    owner = await _proxied_client(aiohttp_client, config, database)
    prelogin = await prelogin_of(owner)
    assert await attempt(owner, prelogin, "chutich", PASSWORD, "198.51.100.7") == 302
    owner.session.cookie_jar.clear(lambda c: c.key == "lt_session")
    prelogin = await prelogin_of(owner)
    statuses = [await attempt(owner, prelogin, "chutich", "x", "198.51.100.7") for _ in "1234"]
    assert statuses == [401, 401, 401, 429]
    assert await attempt(owner, prelogin, "chutich", PASSWORD, "198.51.100.7") == 429


async def test_successful_logins_do_not_use_up_an_office_address(
    client: TestClient[Any, Any], people: People
) -> None:
    """An office behind one NAT: more people than the address limit (12) log in from it."""
    for i in range(14):
        await people.add(f"canbo{i}", Role.OFFICIAL)
    for i in range(14):
        fresh: TestClient[Any, Any] = TestClient(client.server)
        await fresh.start_server()
        assert await attempt(fresh, await prelogin_of(fresh), f"canbo{i}", PASSWORD) == 302
        await fresh.session.close()


async def test_logout_everywhere_revokes_tokens_minted_by_sessions(
    client: TestClient[Any, Any], people: People
) -> None:
    await people.add("chutich", Role.MEMBER)
    machine = await people.token("chutich")  # made by an administrator / the CLI
    await login(client, "chutich")
    csrf = await csrf_of(client)
    minted = await client.post(
        "/api/v1/tokens", json={"name": "stolen"}, headers={"X-CSRF-Token": csrf}
    )
    assert minted.status == 201
    from_session = (await minted.json())["token"]
    page = await client.post("/account/tokens", data={"name": "page", "csrf_token": csrf})
    match = re.search(r'data-testid="new-token">([^<]+)<', await page.text())
    assert match is not None
    from_page = match.group(1)
    chained = await client.post(
        "/api/v1/tokens", json={"name": "chain"}, headers=bearer(from_session)
    )
    assert chained.status == 201
    from_token = (await chained.json())["token"]
    for token in (from_session, from_page, from_token, machine):
        assert (await client.get("/api/v1/me", headers=bearer(token))).status == 200

    resp = await client.post(
        "/logout", data={"csrf_token": csrf, "everywhere": "1"}, allow_redirects=False
    )
    assert resp.status == 302
    for token in (from_session, from_page, from_token):
        revoked = await client.get("/api/v1/me", headers=bearer(token))
        assert revoked.status == 401
        assert (await revoked.json())["code"] == "auth.bad_token"
    assert (await client.get("/api/v1/me", headers=bearer(machine))).status == 200


async def test_logout_everywhere_by_api_revokes_session_tokens_too(
    client: TestClient[Any, Any], people: People
) -> None:
    await people.add("chutich", Role.MEMBER)
    await login(client, "chutich")
    csrf = await csrf_of(client)
    minted = await client.post("/api/v1/tokens", json={}, headers={"X-CSRF-Token": csrf})
    token = (await minted.json())["token"]
    # the thief's own token asks: it still ends the person's sessions and itself
    assert (await client.post("/api/v1/logout-everywhere", headers=bearer(token))).status == 200
    assert (await client.get("/api/v1/me", headers=bearer(token))).status == 401
    assert (await client.get("/api/v1/me")).status == 401
