"""The serve command's collector settings: a large young threshold, the start-up heap frozen."""

import gc
from typing import Any

from aiohttp import web

from server.gctune import GEN0_THRESHOLD, tune_for_latency


async def test_start_up_heap_is_frozen_and_threshold_raised(aiohttp_client: Any) -> None:
    before = gc.get_threshold()
    app = web.Application()
    try:
        tune_for_latency(app)
        assert gc.get_threshold()[0] == GEN0_THRESHOLD
        gc.unfreeze()
        assert gc.get_freeze_count() == 0
        await aiohttp_client(app)  # runs on_startup
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
