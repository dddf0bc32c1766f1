"""HTTPS served by the process itself, with optional client certificates (mutual TLS).

Most deployments terminate TLS at a reverse proxy (docs/deploy.md). Serving it here is for a
server that talks to peer servers directly: peers present a client certificate issued by
``http.tls_client_ca``, and :func:`peer_certificate_sha256` gives a handler the SHA-256 of the
certificate the connection was made with (browsers present none; that is allowed).
"""

from __future__ import annotations

import hashlib
import ssl

from aiohttp import web

from server.config import HttpConfig
from server.errors import ConfigError


def server_ssl_context(http: HttpConfig) -> ssl.SSLContext | None:
    """The listening socket's TLS context, or None to serve plain HTTP."""
    if http.tls_cert is None or http.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(http.tls_cert, http.tls_key)
        if http.tls_client_ca is not None:
            context.load_verify_locations(cafile=http.tls_client_ca)
            context.verify_mode = ssl.CERT_OPTIONAL
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(
            "http.tls_cert", f"cannot load the TLS certificate or key: {exc}"
        ) from None
    return context


def peer_certificate_sha256(request: web.Request) -> str | None:
    """Hex SHA-256 of the verified client certificate of this connection, if it presented one."""
    transport = request.transport
    if transport is None:
        return None
    ssl_object = transport.get_extra_info("ssl_object")
    if not isinstance(ssl_object, ssl.SSLObject):
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return hashlib.sha256(der).hexdigest() if der else None
