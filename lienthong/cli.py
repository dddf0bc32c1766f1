"""The ``lienthong`` console command: the parser, ``serve``, ``db upgrade`` and ``demo``.

The platform (:mod:`server.cli`) and each domain (``signing.cli``, ``documents.cli``) add their
own subcommands through an ``add_commands(subparsers)`` function, which this assembly calls.
Every subcommand returns an exit code: 0 success, 1 a check failed, 2 unusable input or
configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from documents.cli import add_commands as documents_commands
from lienthong.migrations import MIGRATION_DIRS
from server.cli import Command, load_cli_config, run_with_db
from server.cli import add_commands as platform_commands
from server.errors import LienThongError
from signing.cli import add_commands as signing_commands


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from server.db.migrate import upgrade

    config = load_cli_config(args)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(config.database.url.reveal(), MIGRATION_DIRS)
    print("database is up to date")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from lienthong.app import create_app
    from lienthong.demo_pki import start_demo
    from server.db.migrate import is_current
    from server.gctune import tune_for_latency
    from server.http.tls import server_ssl_context
    from server.logs import JsonAccessLogger, setup_logging

    config = load_cli_config(args)
    # one briefing media worker per core unless set (meetings/briefings/workers.py)
    os.environ.setdefault("LIENTHONG_BRIEFINGS_WORKERS", "auto")
    setup_logging(config.log_level)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    url = config.database.url.reveal()
    if not asyncio.run(is_current(url, MIGRATION_DIRS)):
        print(
            "The database is not at the current schema: run 'lienthong db upgrade' first.",
            file=sys.stderr,
        )
        return 2
    import uvloop  # a dependency (pyproject.toml); the server runs on Linux

    uvloop.install()
    try:
        ssl_context = server_ssl_context(config.http)
    except LienThongError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    scheme = "https" if ssl_context is not None else "http"
    address = f"{scheme}://{config.http.host}:{config.http.port}"
    print(f"Liên Thông đang chạy tại {address}  (Ctrl+C để dừng)", flush=True)
    demo = start_demo(config, address)
    try:
        app = create_app(config)
        tune_for_latency(app)
        web.run_app(
            app,
            host=config.http.host,
            port=config.http.port,
            ssl_context=ssl_context,
            backlog=config.http.backlog,
            access_log_class=JsonAccessLogger,
            print=None,
        )
    finally:
        if demo is not None:
            demo.stop()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from lienthong.demo import DEMO_SEEDERS
    from server.db import Database
    from server.demo import ACCOUNTS, DEMO_PASSWORD, seed_demo

    config = load_cli_config(args)

    async def seed_all(db: Database) -> tuple[int, list[str]]:
        added = await seed_demo(db)
        lines = [line for seed in DEMO_SEEDERS if (line := await seed(db, config))]
        return added, lines

    added, lines = run_with_db(config, seed_all)
    print(
        f"Tỉnh demo sẵn sàng ({added} tài khoản mới). Tài khoản demo, mật khẩu chung: {DEMO_PASSWORD}"
    )
    for acc in ACCOUNTS:
        roles = ",".join(r.value for r in acc.roles)
        print(f"  {acc.login:<18} {roles:<12} {acc.full_name}")
    for line in lines:
        print(line)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lienthong", description="Liên Thông server")
    parser.add_argument("--config", type=Path, help="TOML configuration file")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="start the server")
    serve.add_argument("--config", type=Path, help="TOML configuration file")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)

    sub.add_parser("demo", help="seed the demo province (idempotent)").set_defaults(func=cmd_demo)

    for add_commands in DOMAIN_COMMANDS:
        add_commands(sub)
    return parser


DOMAIN_COMMANDS: tuple[Callable[[Any], None], ...] = (
    platform_commands,
    signing_commands,
    documents_commands,
)
"""Each package's ``add_commands``, in the order ``lienthong --help`` lists them."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Command = args.func
    try:
        return func(args)
    except LienThongError as err:
        print(f"lỗi: {err.detail_vi}\nerror: {err.detail}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
