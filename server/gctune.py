"""Garbage-collector settings for a server process that holds thousands of open connections.

Measured with ``bench/sessions.py`` (1,000 tablets): CPython's full (generation 2) collections
took 120–170 ms each on this heap and landed inside vote bursts, holding every acknowledgement
back by ~190 ms (vote ack p95 ~215 ms instead of ~40 ms). Two settings remove that:

- ``gc.freeze()`` once the application has started: everything imported and built at start-up
  (modules, SQLAlchemy metadata, pyHanko, templates) moves to a permanent generation that
  collections no longer walk;
- a larger generation-0 threshold, so that a burst of requests does not cascade into a full
  collection; garbage is still collected, in fewer and larger young collections.

Reference cycles are still found; memory use grows by what the young generations hold between
collections (a few MB).
"""

from __future__ import annotations

import gc

from aiohttp import web

GEN0_THRESHOLD = 50_000


def tune_for_latency(app: web.Application) -> None:
    """Raise the collector's young threshold now and freeze the start-up heap once started."""
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)

    async def freeze(_app: web.Application) -> None:
        gc.collect()
        gc.freeze()

    app.on_startup.append(freeze)
