"""Fixtures of the realtime tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.realtime.rt_support import AiohttpClient, build_app


@pytest.fixture
async def rt_client(aiohttp_client: AiohttpClient) -> AsyncIterator[TestClient[Any, Any]]:
    yield await aiohttp_client(build_app())
