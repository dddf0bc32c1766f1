"""The per-process cache of cookie logins (server/auth/cache.py): a login served from it, and
revocation still immediate, in the process that revoked and in another one (two ``lienthong
serve`` on PostgreSQL, hub on Redis): logout, logout everywhere, disable, password change."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bench.deploy import PASSWORD
from tests.deployment import behind_nginx

MEMBERS = 6


@dataclass
class Pair:
    urls: list[str]
    admin: str
    members: list[tuple[str, str, str]]
    """(login, cookie, csrf token)"""
    servers: list[subprocess.Popen[bytes]]


async def _seed(db_url: str) -> dict[str, Any]:
    from server.accounts.agencies import AgencyRow, import_rows_txn
    from server.accounts.passwords import hash_password
    from server.accounts.tokens import create_token_txn
    from server.accounts.users import create_user_txn
    from server.auth.principal import Role
    from server.auth.sessions import open_session_txn
    from server.db import Database

    db = Database(db_url)
    hashed = hash_password(PASSWORD)

    async def run(session: AsyncSession) -> dict[str, Any]:
        await import_rows_txn(session, [AgencyRow("000.00.40.H97", "HĐND tỉnh Thử", None, 1)])
        admin = await create_user_txn(
            session,
            login="quantri",
            full_name="Quản trị",
            agency_code="000.00.40.H97",
            roles=frozenset({Role.ADMIN}),
            password_hash=hashed,
        )
        token, _ = await create_token_txn(session, admin.id, name="test")
        members = []
        for n in range(MEMBERS):
            user = await create_user_txn(
                session,
                login=f"pc{n}",
                full_name=f"Đại biểu {n}",
                agency_code="000.00.40.H97",
                roles=frozenset({Role.MEMBER}),
                password_hash=hashed,
            )
            # two logins each: one to end, one to show what else ends or stays
            for _ in range(2):
                row = await open_session_txn(session, user.id, 12, user_agent="t", remote="")
                members.append((user.login, row.cookie, row.csrf_token))
        return {"admin": token, "members": members}

    try:
        return await db.write("seed", run)
    finally:
        await db.close()


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    with behind_nginx(tmp_path_factory.mktemp("pcache"), _seed, proxy=False) as d:
        urls = [f"http://127.0.0.1:{p}" for p in d.ports]
        members = [tuple(m) for m in d.seeded["members"]]
        yield Pair(urls, d.seeded["admin"], members, d.servers)


async def _me(http: aiohttp.ClientSession, url: str, cookie: str) -> tuple[int, Any]:
    async with http.get(url + "/api/v1/me", headers={"Cookie": f"lt_session={cookie}"}) as r:
        return r.status, (await r.json() if r.status == 200 else None)


async def _warm(http: aiohttp.ClientSession, pair: Pair, cookie: str) -> None:
    """Both processes have the login cached (and say who it is)."""
    for url in pair.urls:
        for _ in range(2):
            status, _body = await _me(http, url, cookie)
            assert status == 200


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run to the end (a test or fixture may be inside a loop already) and return its result."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def test_logout_in_one_process_is_refused_at_once_in_the_other(pair: Pair) -> None:
    (_l, cookie, csrf), (_l2, other, _c2) = pair.members[0], pair.members[1]
    a, b = pair.urls

    async def go() -> None:
        async with aiohttp.ClientSession() as http:
            await _warm(http, pair, cookie)
            await _warm(http, pair, other)
            async with http.post(
                a + "/logout",
                data={"csrf_token": csrf},
                headers={"Cookie": f"lt_session={cookie}"},
                allow_redirects=False,
            ) as r:
                assert r.status == 302
            assert (await _me(http, b, cookie))[0] == 401
            assert (await _me(http, a, cookie))[0] == 401
            # the person's other login stays (a plain logout ends one session)
            assert (await _me(http, b, other))[0] == 200

    _run(go())


def test_logout_everywhere_ends_every_cached_login_in_both(pair: Pair) -> None:
    (_l, cookie, csrf), (_l2, other, _c2) = pair.members[2], pair.members[3]
    a, b = pair.urls

    async def go() -> None:
        async with aiohttp.ClientSession() as http:
            await _warm(http, pair, cookie)
            await _warm(http, pair, other)
            async with http.post(
                b + "/api/v1/logout-everywhere",
                headers={"Cookie": f"lt_session={cookie}", "X-CSRF-Token": csrf},
            ) as r:
                assert r.status == 200
            for url in (a, b):
                assert (await _me(http, url, cookie))[0] == 401
                assert (await _me(http, url, other))[0] == 401

    _run(go())


def test_disable_and_roles_reach_the_other_process(pair: Pair) -> None:
    (login, cookie, _csrf) = pair.members[4]
    (login2, cookie2, _csrf2) = pair.members[6]
    a, b = pair.urls
    admin = {"Authorization": f"Bearer {pair.admin}"}

    async def go() -> None:
        async with aiohttp.ClientSession() as http:
            await _warm(http, pair, cookie)
            await _warm(http, pair, cookie2)
            async with http.post(f"{a}/api/v1/users/{login}/disable", headers=admin) as r:
                assert r.status == 200, await r.text()
            assert (await _me(http, b, cookie))[0] == 401
            assert (await _me(http, a, cookie))[0] == 401
            # a role change: the process that made it serves the new roles at once
            async with http.put(
                f"{a}/api/v1/users/{login2}/roles", json={"roles": ["secretariat"]}, headers=admin
            ) as r:
                assert r.status == 200, await r.text()
            status, body = await _me(http, a, cookie2)
            assert status == 200 and body["roles"] == ["secretariat"]

    _run(go())


def test_password_change_ends_the_other_logins_everywhere(pair: Pair) -> None:
    (_l, cookie, csrf), (_l2, other, _c2) = pair.members[8], pair.members[9]
    a, b = pair.urls

    async def go() -> None:
        async with aiohttp.ClientSession() as http:
            await _warm(http, pair, cookie)
            await _warm(http, pair, other)
            async with http.post(
                a + "/api/v1/me/password",
                json={"current_password": PASSWORD, "new_password": "Một mật khẩu mới 2026!"},
                headers={"Cookie": f"lt_session={cookie}", "X-CSRF-Token": csrf},
            ) as r:
                assert r.status == 200, await r.text()
            assert (await _me(http, b, other))[0] == 401
            assert (await _me(http, a, other))[0] == 401
            assert (await _me(http, b, cookie))[0] == 200  # the session that changed it stays

    _run(go())


def _login(user_id: int, *, hours: float = 1.0) -> Any:
    from datetime import timedelta

    from server.accounts.principal import Principal
    from server.auth.cache import CachedLogin
    from server.db.base import utcnow

    p = Principal(
        user_id=user_id,
        login=f"u{user_id}",
        full_name="X",
        agency_id=1,
        agency_code="000.00.40.H97",
        roles=frozenset(),
        via="session",
        session_id=user_id,
    )
    return CachedLogin(user_id, user_id, "csrf", utcnow() + timedelta(hours=hours), p)


def test_a_read_that_raced_a_revocation_is_not_kept() -> None:
    from server.auth.cache import PrincipalCache

    cache = PrincipalCache()
    generation = cache.generation  # a request starts reading the database ...
    cache.forget(1)  # ... a logout commits meanwhile ...
    cache.put("d1", _login(1), generation)  # ... what it read is not kept
    assert cache.get("d1") is None
    cache.put("d1", _login(1), cache.generation)
    cache.put("d2", _login(2), cache.generation)
    assert cache.get("d1") is not None and cache.hits == 1
    cache.forget(1)
    assert cache.get("d1") is None and cache.get("d2") is not None
    cache.put("d3", _login(3, hours=-1), cache.generation)  # the login session itself expired
    assert cache.get("d3") is None
    cache.usable = lambda: False  # the hub is down: nothing is served or kept
    assert cache.get("d2") is None
    cache.put("d2", _login(2), cache.generation)
    cache.usable = lambda: True
    assert cache.get("d2") is None


async def test_the_hub_drops_a_persons_logins_and_all_on_a_lost_event() -> None:
    from server.auth.cache import PrincipalCache, forget_user
    from server.realtime.hub import Hub

    hub = Hub()
    cache = PrincipalCache()
    hub.watch_logins(cache)
    assert cache.get("x") is None
    cache.put("d1", _login(1), cache.generation)
    assert cache.get("d1") is None  # not started: nothing kept
    await hub.start()
    try:
        for n in (1, 2, 3):
            cache.put(f"d{n}", _login(n), cache.generation)
        await forget_user(1)
        assert cache.get("d1") is None and cache.get("d2") is not None
        assert hub.current_seq("auth:revoked") == 1  # the notice other processes hear
        hub.drop_user(2)
        assert cache.get("d2") is None and cache.get("d3") is not None
        hub.reset(hub.epoch, {})  # the backend lost events: revocations may be among them
        assert cache.get("d3") is None
    finally:
        await hub.close()
