"""Signatures in the browser: checking a signed PDF (``/verify``) and the trust roots
(``/admin/trust``); :func:`setup_signing` also mounts the API of :mod:`signing.http`."""

from __future__ import annotations

from aiohttp import web

from signing.http import setup as setup_api
from web.signing.pages import add_pages

__all__ = ["setup_signing"]


def setup_signing(app: web.Application) -> None:
    """The API under ``/api/v1/signatures`` and ``/api/v1/trust-roots``, and the pages."""
    setup_api(app)
    add_pages(app)
