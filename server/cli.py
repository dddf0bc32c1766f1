"""The platform's subcommands of ``lienthong``: agencies, people, API tokens, the audit log.

The command itself (``serve``, ``db upgrade``, ``demo`` and the parser) is the assembly's,
:mod:`lienthong.cli`; this module, like each domain's ``cli`` module, only adds its subcommands
through :func:`add_commands`.  Every subcommand returns an exit code: 0 success, 1 a check failed,
2 unusable input or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from server.config import Config, load_config

T = TypeVar("T")

Command = Callable[[argparse.Namespace], int]


def load_cli_config(args: argparse.Namespace) -> Config:
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


def run_with_db(config: Config, fn: Callable[[Any], Awaitable[T]]) -> T:
    from server.db import Database

    async def main() -> T:
        db = Database(config.database.url.reveal())
        try:
            return await fn(db)
        finally:
            await db.close()

    return asyncio.run(main())


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

    return run_with_db(load_cli_config(args), run)


def cmd_agency_restructure(args: argparse.Namespace) -> int:
    from server.accounts.restructure import parse_restructure
    from server.accounts.service import CLI_ACTOR, restructure_agencies

    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"cannot read {path}: {exc}", file=sys.stderr)
        return 2
    rows = parse_restructure(text, path.name)

    async def run(db: Any) -> int:
        done = await restructure_agencies(db, CLI_ACTOR, rows, path.name)
        print(f"restructured: {done.ended} codes ended, {done.links} successor links")
        return 0

    return run_with_db(load_cli_config(args), run)


def cmd_user_state(args: argparse.Namespace) -> int:
    """``user disable`` / ``user enable`` / ``user reset-password``."""
    from server.accounts.service import CLI_ACTOR
    from server.auth.lifecycle import reset_password, set_active

    password = None
    if args.user_command == "reset-password":
        password = os.environ.get(args.password_env)
        if password is None:
            print(f"environment variable {args.password_env} is not set", file=sys.stderr)
            return 2

    async def run(db: Any) -> int:
        if password is not None:
            ended = await reset_password(db, CLI_ACTOR, args.login, password)
        else:
            ended = await set_active(db, CLI_ACTOR, args.login, args.user_command == "enable")
        done = {"disable": "disabled", "enable": "enabled"}.get(args.user_command, "password reset")
        print(f"{args.login}: {done} ({ended.sessions} sessions, {ended.tokens} tokens ended)")
        return 0

    return run_with_db(load_cli_config(args), run)


def cmd_agency_export(args: argparse.Namespace) -> int:
    from server.accounts.agencies import list_agencies_txn, to_csv, to_json

    async def run(db: Any) -> int:
        rows = await db.read("list_agencies", list_agencies_txn)
        sys.stdout.write(to_json(rows) + "\n" if args.format == "json" else to_csv(rows))
        return 0

    return run_with_db(load_cli_config(args), run)


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

    return run_with_db(load_cli_config(args), run)


def cmd_user_certificate(args: argparse.Namespace) -> int:
    """``user certificate LOGIN FILE``: register a signing certificate (PEM or DER) to a person,
    approved (as ``POST /api/v1/users/{login}/certificates`` does for an administrator)."""
    from server.accounts.certificates import facts_of, register_txn
    from server.accounts.users import get_user_txn
    from server.audit.log import append_txn

    data = Path(args.file).read_bytes()
    if data.lstrip().startswith(b"-----BEGIN"):
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding

        data = x509.load_pem_x509_certificate(data).public_bytes(Encoding.DER)
    facts = facts_of(data)

    async def run(db: Any) -> int:
        async def txn(session: Any) -> str:
            user = await get_user_txn(session, args.login)
            row = await register_txn(session, user, facts, status="approved", by=None)
            await append_txn(
                session,
                "user.certificate_registered",
                actor="cli",
                target=user.login,
                details={"fingerprint": row.fingerprint},
            )
            return str(row.fingerprint)

        print(f"{args.login}: certificate {await db.write('user_cert_add', txn)} registered")
        return 0

    return run_with_db(load_cli_config(args), run)


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

    return run_with_db(load_cli_config(args), run)


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

    return run_with_db(load_cli_config(args), run)


def add_commands(sub: Any) -> None:
    """Add the platform's subcommands to the ``lienthong`` parser's subparsers."""
    agency = sub.add_parser("agency", help="agencies")
    agency_sub = agency.add_subparsers(dest="agency_command", required=True)
    imp = agency_sub.add_parser(
        "import", help="import a CSV (code,name,parent_code,level) or JSON file"
    )
    imp.add_argument("file")
    imp.set_defaults(func=cmd_agency_import)
    res = agency_sub.add_parser(
        "restructure",
        help="apply a restructuring: CSV old_code,new_code,change,effective_date,act or JSON",
    )
    res.add_argument("file")
    res.set_defaults(func=cmd_agency_restructure)
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
    for verb, text in (("disable", "disable an account"), ("enable", "re-enable an account")):
        state = user_sub.add_parser(verb, help=text)
        state.add_argument("login")
        state.set_defaults(func=cmd_user_state)
    reset = user_sub.add_parser("reset-password", help="set a password to change at next login")
    reset.add_argument("login")
    reset.add_argument("--password-env", required=True, help="variable holding the password")
    reset.set_defaults(func=cmd_user_state)
    cert = user_sub.add_parser("certificate", help="register a signing certificate to a person")
    cert.add_argument("login")
    cert.add_argument("file", help="the certificate, PEM or DER")
    cert.set_defaults(func=cmd_user_certificate)

    token = sub.add_parser("token", help="API tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="create a token and print it alone")
    create.add_argument("--user", required=True)
    create.add_argument("--name")
    create.set_defaults(func=cmd_token_create)

    audit = sub.add_parser("audit", help="the audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser("verify", help="check the hash chain").set_defaults(func=cmd_audit_verify)
