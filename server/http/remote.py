"""The address of the person behind a request, through trusted reverse proxies only."""

from __future__ import annotations

from aiohttp import web

from server.http.keys import CONFIG_KEY


def client_address(request: web.Request) -> str:
    """``request.remote``, or the right-most untrusted hop of ``X-Forwarded-For`` when the peer
    is a configured proxy.  A client cannot spoof it by sending the header itself: hops added
    before the first untrusted one are ignored."""
    peer = request.remote or ""
    trusted = request.app[CONFIG_KEY].http.trusted_proxies
    if peer not in trusted:
        return peer
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop[:64]
    return peer
