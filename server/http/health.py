"""Liveness, readiness and Prometheus metrics, plus the middleware that counts requests."""

from __future__ import annotations

import time

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from server.errors import NotFound
from server.http.jsonio import json_ok
from server.http.keys import CONFIG_KEY, DB_KEY
from server.http.remote import client_address

REQUESTS = Counter(
    "lienthong_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "lienthong_http_request_seconds",
    "Time to answer an HTTP request",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def _route_name(request: web.Request) -> str:
    info = request.match_info.route.resource
    return info.canonical if info is not None else "unmatched"


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    start = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        route = _route_name(request)
        REQUESTS.labels(request.method, route, str(status)).inc()
        LATENCY.labels(route).observe(time.perf_counter() - start)


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process answers."""
    return json_ok({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: the database answers."""
    if await request.app[DB_KEY].ping():
        return json_ok({"status": "ready", "database": "ok"})
    return json_ok({"status": "not ready", "database": "unreachable"}, status=503)


async def metrics(request: web.Request) -> web.Response:
    http = request.app[CONFIG_KEY].http
    relayed = "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    if (relayed and request.remote not in http.trusted_proxies) or (
        client_address(request) not in http.metrics_allow
    ):
        raise NotFound("No such resource.", detail_vi="Không tìm thấy trang.")
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})
