"""Fixtures of the briefings tests: the test clip, ICE on loopback only, a room with its peers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from meetings.briefings.sfu import hooks
from meetings.briefings.sfu.room import Room
from tests.briefings.media import make_clip


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """VP8 + Opus, 24 s (longer than any test run), a key frame each second."""
    return make_clip(tmp_path_factory.mktemp("media") / "clip.webm", seconds=24)


@pytest.fixture
def loopback_ice() -> Iterator[None]:
    """Every peer in the test gathers 127.0.0.1 only (aioice would leave it out)."""
    hooks.restrict_host_addresses(["127.0.0.1"])
    yield
    hooks.restrict_host_addresses(None)


@pytest.fixture
async def room(loopback_ice: None) -> AsyncIterator[Room]:
    r = Room(1, "Giao ban thử", on_empty=lambda _r: None)
    yield r
    await r.close()
