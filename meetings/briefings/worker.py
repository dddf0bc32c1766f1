"""A media worker process: ``python -m meetings.briefings.worker`` (started by :mod:`.workers`).

It serves relayed signaling sockets on the loopback HTTP socket the supervisor hands it, hosts
their rooms and peer connections, and exchanges streams and state changes with the other
workers over its pipe socket.  Only the supervisor can reach it: the socket is on 127.0.0.1 and
every request must carry the pool's random key.  It reads the database URL and the data
directory from the environment the supervisor sets (never from its command line).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import logging
import os
import secrets
import signal
import socket
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from meetings.briefings.config import BriefingsConfig
from meetings.briefings.http import shutdown_rooms
from meetings.briefings.messages import SOCKET_FRAME
from meetings.briefings.models import BriefingStatus
from meetings.briefings.registry import Registry
from meetings.briefings.repository import BriefingView, get_briefing_txn
from meetings.briefings.service import Admission
from meetings.briefings.sfu import hooks
from meetings.briefings.sfu.pipe import Address, Cluster
from meetings.briefings.sfu.room import Rooms
from meetings.briefings.signaling import BRIEFINGS_CONFIG_KEY, ROOMS_KEY, serve_signaling
from meetings.briefings.workers import INTERNAL_PATH, check_key, parse_addresses, seat_of
from server.db import Database
from server.http.keys import DB_KEY

log = logging.getLogger(__name__)
KEY = web.AppKey("worker_key", str)


async def internal_signal(request: web.Request) -> web.StreamResponse:
    if not check_key(request, request.app[KEY]):
        raise web.HTTPForbidden()
    seat = seat_of(request)
    if seat is None:
        raise web.HTTPBadRequest()

    async def load(session: AsyncSession) -> BriefingView:
        return await get_briefing_txn(session, seat.briefing)

    view = await request.app[DB_KEY].read("briefing_for_worker", load)
    if view.status is BriefingStatus.ENDED:
        raise web.HTTPConflict()
    admission = Admission(
        briefing=view,
        user_id=seat.user_id,
        login=seat.login,
        display_name=seat.display_name,
        agency_code=seat.agency_code,
        is_chair=seat.is_chair,
        is_endpoint=seat.is_endpoint,
    )
    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=SOCKET_FRAME, compress=False)
    await ws.prepare(request)
    await serve_signaling(request, ws, admission, seat.device)
    return ws


def build_app(index: int, pipe: socket.socket, addresses: dict[int, Address]) -> web.Application:
    config = BriefingsConfig.from_env()
    if config.ice_addresses:
        hooks.restrict_host_addresses(list(config.ice_addresses))
    app = web.Application()
    app[KEY] = os.environ.get("LIENTHONG_BRIEFINGS_WORKER_KEY", "")
    app[BRIEFINGS_CONFIG_KEY] = config
    data_dir = Path(os.environ.get("LIENTHONG_DATA_DIR", "./data")).resolve()
    registry_url = os.environ.get("LIENTHONG_BRIEFINGS_REGISTRY", "")
    cluster = Cluster(index, secrets.token_hex(8), pipe, addresses, shared=bool(registry_url))
    registry = None
    if registry_url:
        prefix = os.environ["LIENTHONG_BRIEFINGS_REGISTRY_PREFIX"]
        own = {index: addresses[index]}
        registry = Registry(registry_url, prefix, own, cluster.set_members)

    async def rooms_ctx(app: web.Application) -> AsyncIterator[None]:
        db = Database(os.environ["LIENTHONG_DATABASE_URL"])
        app[DB_KEY] = db
        cluster.start()
        if registry is not None:
            await registry.start()
        app[ROOMS_KEY] = Rooms(recordings=data_dir / "briefings", db=db, cluster=cluster)
        yield
        await app[ROOMS_KEY].close()
        if registry is not None:
            await registry.close()
        cluster.close()
        await db.close()

    app.cleanup_ctx.append(rooms_ctx)
    app.on_shutdown.append(shutdown_rooms)
    app.router.add_get(INTERNAL_PATH, internal_signal)
    return app


async def _main(args: argparse.Namespace) -> None:
    pipe = socket.socket(fileno=args.pipe_fd)
    listener = socket.socket(fileno=args.http_fd)
    addresses = parse_addresses(args.addresses)
    runner = web.AppRunner(build_app(args.index, pipe, addresses), handle_signals=False)
    await runner.setup()
    await web.SockSite(runner, listener).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # Ctrl+C reaches the whole process group: the supervisor stops us (SIGTERM), so that it
    # never restarts a worker that is going away with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    # the supervisor may die (SIGKILL) at any moment, even before we got here: do not linger
    while not stop.is_set() and os.getppid() == args.supervisor:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
    await runner.cleanup()


def _exit_with_parent() -> None:
    """Ask Linux for SIGTERM when the supervisor dies (prctl PR_SET_PDEATHSIG; best effort)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description="Liên Thông media worker (started by the app)")
    parser.add_argument("--index", type=int, required=True)
    parser.add_argument("--pipe-fd", type=int, required=True)
    parser.add_argument("--http-fd", type=int, required=True)
    parser.add_argument("--addresses", required=True)
    parser.add_argument("--supervisor", type=int, required=True, help="pid of the app's process")
    args = parser.parse_args()
    _exit_with_parent()
    if os.getppid() != args.supervisor:
        return
    logging.basicConfig(
        level=os.environ.get("LIENTHONG_LOG_LEVEL", "INFO").upper(),
        format=f"%(asctime)s worker{args.index} %(name)s %(levelname)s %(message)s",
    )
    import uvloop  # a dependency (pyproject.toml), as for `lienthong serve`

    uvloop.install()
    asyncio.run(_main(args))


if __name__ == "__main__":
    main()
