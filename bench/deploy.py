"""Deploying for the session benchmarks and tests: seeding sittings, ``lienthong serve`` processes,
and Debian's nginx in front of two of them (the configuration docs/deploy.md gives)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-1"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

NGINX_CONF = """\
# Two lienthong processes behind nginx (docs/deploy.md, "Two processes behind nginx").
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    client_max_body_size 200m;

    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}
    upstream lienthong {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://lienthong;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_buffering off;
            proxy_read_timeout 1h;
            proxy_next_upstream error timeout http_502;
        }}
    }}
}}
"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def nginx_conf(port: int, upstreams: list[int], prefix: Path) -> str:
    servers = "\n".join(
        f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;" for p in upstreams
    )
    return NGINX_CONF.format(prefix=prefix, port=port, servers=servers)


class Nginx:
    """Debian's nginx on a free loopback port, its own prefix directory, stopped by its PID."""

    def __init__(self, prefix: Path, upstreams: list[int]) -> None:
        self.prefix = prefix
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        prefix.mkdir(parents=True, exist_ok=True)
        (prefix / "nginx.conf").write_text(nginx_conf(self.port, upstreams, prefix))
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        conf = str(self.prefix / "nginx.conf")
        cmd = [NGINX, "-p", str(self.prefix), "-c", conf, "-e", str(self.prefix / "error.log")]
        self.process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_http(self.url + "/healthz", self.process)

    def stop(self) -> None:
        stop(self.process)


def wait_http(url: str, process: subprocess.Popen[bytes], limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {limit} s")


def stop(process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM by PID, SIGKILL after 20 s."""
    if process is None or process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


def server_env(data_dir: Path, port: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {
        **os.environ,
        "LIENTHONG_DATA_DIR": str(data_dir),
        "LIENTHONG_PORT": str(port),
        "LIENTHONG_HOST": "127.0.0.1",
        "LIENTHONG_LOG_LEVEL": "WARNING",
        **(extra or {}),
    }


def cli(*args: str, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "lienthong.cli", *args],
        env=env,
        check=True,
        cwd=ROOT,
        capture_output=True,
        timeout=300,
    )


def serve(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``lienthong serve`` with ``env``, answering /healthz when this returns."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "lienthong.cli", "serve"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    wait_http(f"http://127.0.0.1:{env['LIENTHONG_PORT']}/healthz", process)
    return process


async def seed_sittings(url: str, sizes: list[int], *, first_id: int = 1) -> dict[str, Any]:
    """A secretary (API token) and one session per size, numbered from ``first_id``, each with a
    started sitting, three agenda items and that many members checked in, logged in with a
    browser session (cookie) as tablets are.  The first session's members are ``db0000``…"""
    from meetings.sessions import repo
    from meetings.sessions.models import Attendance, CouncilSession, Invitation
    from server.accounts.agencies import AgencyRow, import_rows_txn
    from server.accounts.passwords import hash_password
    from server.accounts.tokens import create_token_txn
    from server.accounts.users import create_user_txn
    from server.auth.principal import Role
    from server.auth.sessions import open_session_txn
    from server.db import Database

    db = Database(url)
    hashed = hash_password(PASSWORD)

    async def member(session: AsyncSession, login: str, password: bool) -> Any:
        return await create_user_txn(
            session,
            login=login,
            full_name=f"Đại biểu {login}",
            agency_code="000.00.40.H97",
            roles=frozenset({Role.MEMBER}),
            password_hash=hashed if password else None,
        )

    async def run(session: AsyncSession) -> dict[str, Any]:
        await import_rows_txn(session, [AgencyRow("000.00.40.H97", "HĐND tỉnh Thử", None, 1)])
        secretary = await create_user_txn(
            session,
            login="thuky",
            full_name="Thư ký",
            agency_code="000.00.40.H97",
            roles=frozenset({Role.SECRETARIAT}),
            password_hash=hashed,
        )
        secretary_token, _ = await create_token_txn(session, secretary.id, name="bench")
        sittings = []
        for k, size in enumerate(sizes):
            cs = CouncilSession(id=first_id + k, title=f"Kỳ họp {k}", created_by=secretary.id)
            session.add(cs)
            await session.flush()
            session.add(Invitation(session_id=cs.id, user_id=secretary.id, role="secretariat"))
            sitting = await repo.add_sitting_txn(session, cs.id, "Phiên 1")
            await repo.start_sitting_txn(session, cs.id, sitting.id)
            items = [
                await repo.add_item_txn(
                    session, cs.id, title=f"Nội dung {i}", description="", parent_id=None
                )
                for i in range(3)
            ]
            cookies = []
            for n in range(size):
                login = f"db{n:04d}" if k == 0 else f"s{k:03d}m{n:04d}"
                user = await member(session, login, k == 0 and n == 0)
                session.add(Invitation(session_id=cs.id, user_id=user.id, role="member"))
                session.add(
                    Attendance(
                        sitting_id=sitting.id,
                        user_id=user.id,
                        session_id=cs.id,
                        status="hall",
                        reason="",
                    )
                )
                login_row = await open_session_txn(session, user.id, 12, user_agent="b", remote="")
                cookies.append(login_row.cookie)
            await session.flush()
            sittings.append({"sid": cs.id, "items": [i.id for i in items], "tokens": cookies})
        return {"secretary": secretary_token, "sittings": sittings}

    try:
        return await db.write("bench_seed", run)
    finally:
        await db.close()
