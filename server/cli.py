"""The ``lienthong`` console command.

Platform subcommands live here; each domain adds its own through an ``add_commands(subparsers)``
function, which this assembly calls.  Every subcommand returns an exit code: 0 success, 1 a check
failed, 2 unusable input or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from server.config import Config, load_config
from server.errors import LienThongError

T = TypeVar("T")

Command = Callable[[argparse.Namespace], int]


def _config(args: argparse.Namespace) -> Config:
    config = load_config(getattr(args, "config", None))
    overrides: dict[str, Any] = {}
    if getattr(args, "port", None):
        overrides["port"] = args.port
    if getattr(args, "host", None):
        overrides["host"] = args.host
    if overrides:
        from dataclasses import replace

        config = replace(config, http=replace(config.http, **overrides))
    return config


def _run_db(config: Config, fn: Callable[[Any], Awaitable[T]]) -> T:
    from server.db import Database

    async def main() -> T:
        db = Database(config.database.url.reveal())
        try:
            return await fn(db)
        finally:
            await db.close()

    return asyncio.run(main())


def _migration_dirs() -> list[Path]:
    from server.app import MIGRATION_DIRS

    return MIGRATION_DIRS


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from server.db.migrate import upgrade

    config = _config(args)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(config.database.url.reveal(), _migration_dirs())
    print("database is up to date")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from server.app import create_app
    from server.db.migrate import is_current
    from server.gctune import tune_for_latency
    from server.http.tls import server_ssl_context
    from server.logs import JsonAccessLogger, setup_logging

    config = _config(args)
    # one briefing media worker per core unless set (meetings/briefings/workers.py)
    os.environ.setdefault("LIENTHONG_BRIEFINGS_WORKERS", "auto")
    setup_logging(config.log_level)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    url = config.database.url.reveal()
    if not asyncio.run(is_current(url, _migration_dirs())):
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
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from server.app import DEMO_SEEDERS
    from server.db import Database
    from server.demo import ACCOUNTS, DEMO_PASSWORD, seed_demo

    config = _config(args)

    async def seed_all(db: Database) -> tuple[int, list[str]]:
        added = await seed_demo(db)
        lines = [line for seed in DEMO_SEEDERS if (line := await seed(db, config))]
        return added, lines

    added, lines = _run_db(config, seed_all)
    print(
        f"Tỉnh demo sẵn sàng ({added} tài khoản mới). Tài khoản demo, mật khẩu chung: {DEMO_PASSWORD}"
    )
    for acc in ACCOUNTS:
        roles = ",".join(r.value for r in acc.roles)
        print(f"  {acc.login:<18} {roles:<12} {acc.full_name}")
    for line in lines:
        print(line)
    return 0


def cmd_agency_import(args: argparse.Namespace) -> int:
    from server.accounts.agencies import parse_csv, parse_json
    from server.accounts.service import CLI_ACTOR, import_agencies

    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"cannot read {path}: {exc}", file=sys.stderr)
        return 2
    rows = parse_json(text) if path.suffix.lower() == ".json" else parse_csv(text)

    async def run(db: Any) -> int:
        created, updated = await import_agencies(db, CLI_ACTOR, rows, path.name)
        print(f"imported {len(rows)} agencies: {created} created, {updated} updated")
        return 0

    return _run_db(_config(args), run)


def cmd_agency_export(args: argparse.Namespace) -> int:
    from server.accounts.agencies import list_agencies_txn, to_csv, to_json

    async def run(db: Any) -> int:
        rows = await db.read("list_agencies", list_agencies_txn)
        sys.stdout.write(to_json(rows) + "\n" if args.format == "json" else to_csv(rows))
        return 0

    return _run_db(_config(args), run)


def cmd_user_add(args: argparse.Namespace) -> int:
    from server.accounts.service import CLI_ACTOR, add_user
    from server.accounts.users import parse_roles

    roles = parse_roles(args.role)
    password = None
    if args.password_env:
        password = os.environ.get(args.password_env)
        if password is None:
            print(f"environment variable {args.password_env} is not set", file=sys.stderr)
            return 2

    async def run(db: Any) -> int:
        user_id = await add_user(
            db,
            CLI_ACTOR,
            login=args.login,
            full_name=args.name or args.login,
            agency_code=args.agency,
            roles=roles,
            password=password,
        )
        print(f"user {args.login} created (id {user_id})")
        return 0

    return _run_db(_config(args), run)


def cmd_token_create(args: argparse.Namespace) -> int:
    from server.accounts.tokens import create_token_txn
    from server.accounts.users import get_user_txn
    from server.audit.log import append_txn

    async def run(db: Any) -> int:
        async def txn(session: Any) -> str:
            user = await get_user_txn(session, args.user)
            value, row = await create_token_txn(session, user.id, name=args.name or "cli")
            await append_txn(
                session, "token.created", actor="cli", target=f"{user.login}:{row.prefix}"
            )
            return value

        print(await db.write("create_token", txn))
        return 0

    return _run_db(_config(args), run)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from server.audit.log import verify_txn

    async def run(db: Any) -> int:
        result = await db.read("audit_verify", verify_txn)
        if result.ok:
            print(f"audit log intact: {result.count} entries, head {result.head_hash}")
            return 0
        print(
            f"AUDIT LOG BROKEN at entry {result.first_bad_seq}: {result.problem} "
            f"({result.count} entries verified before it)",
            file=sys.stderr,
        )
        return 1

    return _run_db(_config(args), run)


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

    agency = sub.add_parser("agency", help="agencies")
    agency_sub = agency.add_subparsers(dest="agency_command", required=True)
    imp = agency_sub.add_parser(
        "import", help="import a CSV (code,name,parent_code,level) or JSON file"
    )
    imp.add_argument("file")
    imp.set_defaults(func=cmd_agency_import)
    exp = agency_sub.add_parser("export", help="print every agency as CSV or JSON")
    exp.add_argument("--format", choices=("csv", "json"), default="csv")
    exp.set_defaults(func=cmd_agency_export)

    user = sub.add_parser("user", help="people")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="add a person")
    add.add_argument("login")
    add.add_argument("--agency", required=True, help="agency code")
    add.add_argument("--role", action="append", required=True, help="role (repeatable)")
    add.add_argument("--name", help="full name")
    add.add_argument("--password-env", help="environment variable holding the password")
    add.set_defaults(func=cmd_user_add)

    token = sub.add_parser("token", help="API tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="create a token and print it alone")
    create.add_argument("--user", required=True)
    create.add_argument("--name")
    create.set_defaults(func=cmd_token_create)

    audit = sub.add_parser("audit", help="the audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser("verify", help="check the hash chain").set_defaults(func=cmd_audit_verify)

    for add_commands in _domain_commands():
        add_commands(sub)
    return parser


def _domain_commands() -> list[Callable[[Any], None]]:
    found: list[Callable[[Any], None]] = []
    try:
        from signing.cli import add_commands as signing_commands
    except ImportError:
        pass
    else:
        found.append(signing_commands)
    from documents.cli import add_commands as documents_commands

    found.append(documents_commands)
    return found


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
