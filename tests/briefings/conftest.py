"""Fixtures of the briefings tests: the test clip, ICE on loopback only, a room with its peers."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from meetings.briefings.sfu import hooks
from meetings.briefings.sfu.room import Room
from tests.briefings.media import make_clip

CLIP_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lienthong-tests"


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """VP8 + Opus, 24 s (longer than any test run), a key frame each second.

    Encoding it takes 5-30 s of one core; on a loaded machine that alone passed the first test's
    timeout, so the clip is kept between runs (keyed by the generator's source) and written to a
    temporary name first so that an interrupted run never leaves half a file.
    """
    source = Path(make_clip.__code__.co_filename).read_bytes()
    key = hashlib.sha256(source).hexdigest()[:16]
    cached = CLIP_CACHE / f"clip-24s-{key}.webm"
    if not cached.exists():
        CLIP_CACHE.mkdir(parents=True, exist_ok=True)
        partial = make_clip(tmp_path_factory.mktemp("media") / "clip.webm", seconds=24)
        shutil.copyfile(partial, cached.with_suffix(".part"))
        cached.with_suffix(".part").replace(cached)
    return cached


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
