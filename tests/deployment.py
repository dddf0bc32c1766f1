"""Two ``lienthong serve`` processes behind Debian's nginx, on a fresh PostgreSQL database and the
Redis hub: the "scaled" runtime of docs/deploy.md, for the tests that kill one of them."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench.deploy import NGINX, Nginx, cli, free_port, serve, server_env, stop
from tests.conftest import PG_HOST, PG_PORT, _pg_exec, _sync, require_pg


@dataclass
class Deployment:
    url: str
    """nginx's address: what the clients use."""
    db_url: str
    servers: list[subprocess.Popen[bytes]]
    """The processes in start order."""
    ports: list[int]
    seeded: dict[str, Any]


@contextmanager
def behind_nginx(
    tmp: Path,
    seed: Callable[[str], Awaitable[dict[str, Any]]],
    env: dict[str, str] | None = None,
    per_process: Sequence[dict[str, str]] = ({}, {}),
    *,
    proxy: bool = True,
) -> Iterator[Deployment]:
    """Migrate a new database, ``seed`` it (given its URL), start one process per entry of
    ``per_process`` (its extra environment) one after the other, and nginx in front (unless
    ``proxy`` is false: then ``url`` is the first process's)."""
    require_pg()
    if proxy and not os.path.exists(NGINX):
        pytest.fail("nginx is missing: bash scripts/apt-install.sh nginx (make system-deps-test)")
    name = f"lt_nginx_{uuid.uuid4().hex[:10]}"
    db_url = f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    _sync(_pg_exec(f'CREATE DATABASE "{name}"'))
    ports = [free_port() for _ in per_process]
    extra = {
        "LIENTHONG_DATABASE_URL": db_url,
        "LIENTHONG_REALTIME": "redis",
        "LIENTHONG_REDIS_URL": os.environ.get(
            "LIENTHONG_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"
        ),
        **(env or {}),
    }
    servers: list[subprocess.Popen[bytes]] = []
    nginx: Nginx | None = None
    try:
        cli("db", "upgrade", env=server_env(tmp / "migrate", ports[0], extra))
        seeded: dict[str, Any] = {}

        async def do_seed() -> None:
            seeded.update(await seed(db_url))

        _sync(do_seed())
        for i, (port, own) in enumerate(zip(ports, per_process, strict=True)):
            data = tmp / f"p{i}"
            data.mkdir()
            servers.append(serve(server_env(data, port, {**extra, **own}), tmp / f"server{i}.log"))
        url = f"http://127.0.0.1:{ports[0]}"
        if proxy:
            nginx = Nginx(tmp / "nginx", ports)
            nginx.start()
            url = nginx.url
        yield Deployment(url, db_url, servers, ports, seeded)
    finally:
        if nginx is not None:
            nginx.stop()
        for process in servers:
            stop(process)
        _sync(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
