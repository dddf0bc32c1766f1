"""``lienthong serve`` as deployed, inside the briefing bench's namespace (``ltb-srv``).

What :mod:`bench.briefing_app` starts and measures: the serve process with its fresh data directory
and database, seeded with a chair and commune endpoints; the CPU of its whole process tree (the app
and every media worker it starts); two of them behind Debian's nginx for ``--processes 2``, with
PostgreSQL and Redis of the root namespace reached through a small TCP forwarder on the client side
of the veth (the namespace has its own loopback).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.briefing import CLIENT_IP, NS, SERVER_IP, cpu_seconds
from bench.deploy import NGINX_CONF, Nginx

ROOT = Path(__file__).resolve().parent.parent
APP_PORT = 8090
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def tree_pids(root: int) -> list[int]:
    """``root`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def tree_cpu(roots: list[int]) -> dict[int, float]:
    """utime + stime (seconds) of every process under ``roots``, by pid."""
    out: dict[int, float] = {}
    for root in roots:
        for pid in tree_pids(root):
            with contextlib.suppress(OSError):
                out[pid] = cpu_seconds(pid)
    return out


def cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two :func:`tree_cpu` samples; a process started in between
    (a restarted worker) counts whole, one gone in between is lost (reported by the caller)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


@dataclass
class AppServer:
    """One ``lienthong serve`` in the namespace."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    env: dict[str, str] = field(repr=False)

    @property
    def base(self) -> str:
        return f"http://{SERVER_IP}:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            for pid in reversed(tree_pids(self.process.pid)):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            self.process.wait()


def app_env(data_dir: Path, port: int, workers: str, extra: dict[str, str]) -> dict[str, str]:
    return {
        **os.environ,
        "LIENTHONG_DATA_DIR": str(data_dir),
        "LIENTHONG_PORT": str(port),
        "LIENTHONG_HOST": SERVER_IP,
        "LIENTHONG_LOG_LEVEL": "WARNING",
        "LIENTHONG_BRIEFINGS_ICE_ADDRESSES": SERVER_IP,
        "LIENTHONG_BRIEFINGS_WORKERS": workers,
        **extra,
    }


def db_upgrade(env: dict[str, str], database_url: str | None = None) -> None:
    """``lienthong db upgrade`` from the root namespace (``database_url`` as seen from here)."""
    env = {**env, **({"LIENTHONG_DATABASE_URL": database_url} if database_url else {})}
    subprocess.run(
        [sys.executable, "-m", "lienthong.cli", "db", "upgrade"],
        env=env,
        check=True,
        cwd=ROOT,
        capture_output=True,
        timeout=300,
    )


async def start_app(name: str, env: dict[str, str], log: Path, workers: int) -> AppServer:
    """``lienthong serve`` in the namespace; returns once it answers and its ``workers`` media
    worker processes (the app's own included) are up."""
    process = _spawn_serve(env, log)
    server = AppServer(name, process, int(env["LIENTHONG_PORT"]), log, env)
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited: {_tail(log)}")
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with http.get(server.base + "/healthz") as resp:
                    if resp.status == 200 and len(python_pids(process.pid)) >= workers:
                        return server
            await asyncio.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{name} did not start: {_tail(log)}")


def _spawn_serve(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            ["ip", "netns", "exec", NS, sys.executable, "-m", "lienthong.cli", "serve"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


def python_pids(root: int) -> list[int]:
    out = []
    for pid in tree_pids(root):
        with contextlib.suppress(OSError):
            if "python" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode():
                out.append(pid)
    return out


def media_workers(workers: str) -> int:
    return (os.cpu_count() or 1) if workers == "auto" else int(workers)


# ------------------------------------------------------------------------------ two processes


class Forwarder:
    """TCP from ``CLIENT_IP:port`` (reachable from the namespace) to ``127.0.0.1:port`` (root)."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.servers: list[asyncio.Server] = []

    async def start(self) -> None:
        for port in self.ports:
            self.servers.append(
                await asyncio.start_server(self._pipe_to(port), CLIENT_IP, port, backlog=512)
            )

    def _pipe_to(self, port: int) -> Any:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                up_r, up_w = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                writer.close()
                return
            await asyncio.gather(_copy(reader, up_w), _copy(up_r, writer))

        return handle

    async def stop(self) -> None:
        for server in self.servers:
            server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2)


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (OSError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def create_database(name: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def nginx_in_front(prefix: Path, ports: list[int]) -> Nginx:
    """bench/deploy.py's nginx (its configuration) on 127.0.0.1 in the root namespace, in front
    of ``ports`` on the namespace's address."""
    nginx = Nginx(prefix, ports)
    servers = "\n".join(
        f"        server {SERVER_IP}:{p} max_fails=1 fail_timeout=10s;" for p in ports
    )
    conf = NGINX_CONF.format(prefix=prefix, port=nginx.port, servers=servers)
    (prefix / "nginx.conf").write_text(conf)
    return nginx
