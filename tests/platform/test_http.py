"""The HTTP plumbing: health, readiness, metrics, OpenAPI, problem+json for every kind of error."""

import io
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from openapi_spec_validator import validate

from server.auth.principal import Role
from server.config import Config
from server.db import Database
from tests.conftest import People, bearer


async def test_health_ready_metrics(client: TestClient[Any, Any]) -> None:
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200 and (await ready.json())["database"] == "ok"
    metrics = await (await client.get("/metrics")).text()
    assert "lienthong_http_requests_total" in metrics
    # relayed by a proxy that is not configured as trusted: refused, though the peer is loopback
    relayed = await client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert relayed.status == 404
    assert relayed.headers["Content-Type"].startswith("application/problem+json")


async def test_metrics_only_for_allowed_addresses(
    aiohttp_client: Any, config: Config, database: Database
) -> None:
    from dataclasses import replace

    from lienthong.app import create_app

    http = replace(config.http, metrics_allow=("10.0.0.5",), trusted_proxies=("127.0.0.1",))
    client = await aiohttp_client(create_app(replace(config, http=http), database=database))
    assert (await client.get("/metrics")).status == 404  # loopback is not in the list now
    scraper = await client.get("/metrics", headers={"X-Forwarded-For": "10.0.0.5"})
    assert scraper.status == 200  # through the trusted proxy, from the allowed address
    other = await client.get("/metrics", headers={"X-Forwarded-For": "10.0.0.6"})
    assert other.status == 404


async def test_readyz_reports_an_unreachable_database(aiohttp_client: Any, config: Config) -> None:
    from lienthong.app import create_app

    broken = Database("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    client = await aiohttp_client(create_app(config, database=broken))
    resp = await client.get("/readyz")
    assert resp.status == 503
    await broken.close()


async def test_openapi_document_is_valid(client: TestClient[Any, Any]) -> None:
    spec = await (await client.get("/api/v1/openapi.json")).json()
    validate(spec)
    assert "/api/v1/agencies" in spec["paths"]
    assert "post" in spec["paths"]["/api/v1/users"]


async def test_problem_json_for_bad_requests(client: TestClient[Any, Any], people: People) -> None:
    await people.add("admin1", Role.ADMIN)
    admin = bearer(await people.token("admin1"))
    resp = await client.get("/api/v1/nothing-here")
    assert resp.status == 404 and resp.content_type == "application/problem+json"
    body = await resp.json()
    assert body["detail_vi"] and body["status"] == 404
    as_json = {**admin, "Content-Type": "application/json"}
    resp = await client.post("/api/v1/agencies", data=b"{not json", headers=as_json)
    assert resp.status == 400 and (await resp.json())["code"] == "bad_json"
    resp = await client.post("/api/v1/agencies", json=[1, 2], headers=admin)
    assert resp.status == 400
    big = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    resp = await client.post("/api/v1/agencies", data=io.BytesIO(big), headers=as_json)
    assert resp.status == 413 and resp.content_type == "application/problem+json"
    resp = await client.patch("/api/v1/agencies", json={}, headers=admin)
    assert resp.status == 405


async def test_unknown_error_is_a_logged_generic_500(
    aiohttp_client: Any, config: Config, database: Database
) -> None:
    from lienthong.app import create_app

    app = create_app(config, database=database)

    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("secret internals")

    app.router.add_get("/api/v1/boom", boom)
    client = await aiohttp_client(app)
    resp = await client.get("/api/v1/boom")
    assert resp.status == 500
    body = await resp.json()
    assert "secret internals" not in str(body)
    assert body["code"] == "internal" and "incident" in body["detail"]
    page = await client.get("/api/v1/boom", headers={"Accept": "text/html"})
    assert page.status == 500


async def test_pages_redirect_anonymous_people_to_login(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/admin/users", headers={"Accept": "text/html"}, allow_redirects=False)
    assert resp.status == 302
    assert resp.headers["Location"].startswith("/login?next=/admin/users")


async def test_static_assets_are_local(client: TestClient[Any, Any]) -> None:
    text = await (await client.get("/login", headers={"Accept": "text/html"})).text()
    assert "http://" not in text.replace("http://127.0.0.1", "") and "https://" not in text
    css = await client.get("/static/app.css")
    assert css.status == 200


async def test_forwarded_for_is_believed_only_from_trusted_proxies(
    aiohttp_client: Any, config: Config, database: Database
) -> None:
    from dataclasses import replace

    from lienthong.app import create_app
    from server.http.remote import client_address

    seen: list[str] = []

    async def whoami(request: web.Request) -> web.Response:
        seen.append(client_address(request))
        return web.Response(text="ok")

    for proxies in ((), ("127.0.0.1",)):
        cfg = replace(config, http=replace(config.http, trusted_proxies=proxies))
        app = create_app(cfg, database=database)
        app.router.add_get("/whoami", whoami)
        client = await aiohttp_client(app)
        await client.get("/whoami", headers={"X-Forwarded-For": "203.0.113.9, 198.51.100.7"})
    assert seen == ["127.0.0.1", "198.51.100.7"]
