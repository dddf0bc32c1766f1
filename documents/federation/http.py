"""``POST /api/v1/federation/messages``: where peer servers deliver documents and statuses."""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp
from aiohttp import web

from documents.federation.arrival import parse_arrival
from documents.federation.inbound import receive
from documents.federation.outbound import run_worker
from documents.federation.receipts import SealKey
from documents.federation.runtime import FEDERATION_KEY, PATH, Federation
from documents.keys import SERVICES_KEY
from documents.peers import FederationConfig
from documents.services import Services
from server.auth.principal import require_principal
from server.errors import Forbidden, NotFound
from server.http.jsonio import json_ok
from server.http.openapi import ApiRoutes
from server.http.tls import peer_certificate_sha256

routes = ApiRoutes()


@routes.route(
    "POST",
    PATH,
    summary="A peer server delivers an edXML document or status; answers with a signed receipt",
    tags=("federation",),
    body={"type": "string", "description": "edXML envelope"},
    content_type="application/xml",
)
async def messages(request: web.Request) -> web.Response:
    p = require_principal(request)
    fed = request.app.get(FEDERATION_KEY)
    if fed is None:
        raise NotFound(
            "This server has no peers.", detail_vi="Máy chủ này không liên thông với máy chủ khác."
        )
    peer = fed.config.peer_by_login(p.login)
    # mutual TLS: the token alone is not enough for a peer pinned to a client certificate
    if (
        peer is not None
        and peer.client_cert_sha256 is not None
        and peer_certificate_sha256(request) != peer.client_cert_sha256
    ):
        raise Forbidden(
            "This peer must deliver over TLS with its registered client certificate.",
            detail_vi="Máy chủ liên thông này phải gửi qua TLS với chứng thư máy khách đã đăng ký.",
        )
    arrival = parse_arrival(request.headers, await request.read())
    return json_ok(await receive(request.app[SERVICES_KEY], fed, p, arrival))


def start_federation(app: web.Application, svc: Services, config: FederationConfig) -> Federation:
    """Load the seal key, give the services their peers and wake-up, start the outbox worker."""
    fed = Federation(config, SealKey.from_pkcs12(config.seal_p12, config.seal_password))
    fed.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))
    svc.federation = config
    svc.wake = fed.wake
    svc.seal_cert = fed.seal.cert
    fed.task = asyncio.create_task(run_worker(svc, fed), name="documents-outbox")
    app[FEDERATION_KEY] = fed
    return fed


async def stop_federation(fed: Federation) -> None:
    """Stop the outbox worker and close the HTTP session (a message in flight is retried)."""
    if fed.task is not None:
        fed.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await fed.task
    if fed.session is not None:
        await fed.session.close()
