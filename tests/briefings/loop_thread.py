"""Peers that run on an event loop of their own, in a thread: a browser test's thread belongs to
Playwright's sync API, so the aiortc endpoints it needs beside the browser live here."""

from __future__ import annotations

import asyncio
import threading
from abc import ABC, abstractmethod
from typing import Self


class LoopThread(ABC):
    """Runs :meth:`main` on a new loop in a daemon thread.  ``with`` starts it and waits until
    :meth:`main` sets ``ready`` (or fails); leaving asks it to stop (``stop``) and closes the
    loop, whose self-pipe would otherwise be reported, unclosed, in a later test."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.stop: asyncio.Event | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    @abstractmethod
    async def main(self) -> None:
        """The peers' work: join, set ``ready``, then wait for ``stop``."""

    def _run(self) -> None:
        try:
            self.loop.run_until_complete(self._main())
        except BaseException as exc:  # reported to the test
            self.error = exc
            self.ready.set()
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    async def _main(self) -> None:
        self.stop = asyncio.Event()
        await self.main()

    def __enter__(self) -> Self:
        self.thread.start()
        assert self.ready.wait(60), "the peers did not join"
        assert self.error is None, self.error
        return self

    def __exit__(self, *exc: object) -> None:
        if self.stop is not None:
            self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(30)
