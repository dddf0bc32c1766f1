"""Security headers on every answer."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

# Every asset is served by the server itself (no CDN), so the policy can be strict.
# connect-src http://127.0.0.1:* is the signing agent on the signer's PC (lienthong sign-agent,
# port 8765 unless --port; web/static/signing/agent.js): any port, since the port is the signer's.
# WebSockets need no scheme of their own: CSP Level 3 lets 'self' match ws:/wss: on our own host
# and port (Chromium, Firefox, Safari), whereas bare "ws: wss:" allowed a script to open a socket
# to any host and carry the page's data out.
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "connect-src 'self' http://127.0.0.1:* http://localhost:*; "
    "style-src 'self'; script-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)


@web.middleware
async def security_headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    if response.prepared:  # WebSockets and streamed files have sent their headers already
        return response
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if response.content_type == "text/html":
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("Cache-Control", "no-store")
    return response
