"""Fixtures of the session tests: a dev PKI and its OCSP/CRL responder, for signed files."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from aiohttp import web

from signing.devpki import DevPki, create_dev_pki
from signing.devserver import make_app
from tests.live import free_port


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevPki]:
    yield create_dev_pki(tmp_path_factory.mktemp("pki"), free_port(), with_token=False)


@pytest.fixture
async def responder(pki: DevPki) -> AsyncIterator[None]:
    """The dev PKI's OCSP/CRL responder on its port, for online (hard-fail) validation."""
    runner = web.AppRunner(make_app(pki))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", pki.port)
    await site.start()
    yield
    await runner.cleanup()
