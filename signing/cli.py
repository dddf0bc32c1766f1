"""Command line: ``sign``, ``verify``, ``trust``, ``dev-pki`` and ``sign-agent``.

:func:`add_commands` registers them on the ``lienthong`` parser; each sets ``func`` to a callable
taking the parsed arguments and returning the exit status. :func:`main` builds a parser of its own
(``python -m signing.cli``).

``verify`` exits 0 when every signature is intact, trusted and not followed by a disallowed change,
1 otherwise, 2 for unusable input.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from server.errors import LienThongError
from server.secret import Secret
from signing.errors import SigningError

if TYPE_CHECKING:
    from asn1crypto.x509 import Certificate
    from pyhanko.sign.signers import Signer

    from signing.trust import TrustStore

# Only argparse is set up at import time: ``add_commands`` runs for every ``lienthong`` command
# (even ``--help``), so pyHanko, asn1crypto, python-pkcs11 and aiohttp are imported inside the
# command functions that need them (pyHanko alone costs 0.8-2 s to import).

EXIT_OK, EXIT_INVALID, EXIT_UNUSABLE = 0, 1, 2


def _quiet_libraries() -> None:
    # pyHanko logs every failed path search with a traceback; the report says it better
    for name in ("pyhanko", "pyhanko_certvalidator", "fontTools"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _secret_from_env(var: str) -> Secret:
    value = os.environ.get(var)
    if value is None:
        raise SigningError(
            f"environment variable {var} is not set",
            detail_vi=f"Chưa đặt biến môi trường {var} (mã PIN/mật khẩu).",
        )
    return Secret(value)


def _trust_roots(paths: list[Path] | None) -> list[Certificate]:
    from signing.trust import TrustStore, load_cert_files

    if paths:
        return list(load_cert_files(paths))
    from server.config import load_config

    return list(TrustStore(load_config().trust_dir).certificates())


def _error(exc: LienThongError) -> None:
    print(f"lỗi: {exc.detail_vi}\nerror: {exc.detail}", file=sys.stderr)


# -- sign ---------------------------------------------------------------------------------------
def _cmd_sign(args: argparse.Namespace) -> int:
    from signing.anchor import parse_box
    from signing.pades import Level, Placement, SignOptions, sign_file
    from signing.stamps import Role
    from signing.tokens import TokenSession, pkcs12_signer

    _quiet_libraries()
    try:
        placement = None
        if args.box is not None:
            try:
                placement = Placement(page=args.page - 1, box=parse_box(args.box))
            except ValueError as exc:
                print(f"lỗi: --box sai: {exc}", file=sys.stderr)
                return EXIT_UNUSABLE
        roots: list[Certificate] = []
        if args.trust:
            roots = _trust_roots(args.trust)
        options = SignOptions(
            level=Level(args.level),
            tsa_url=args.tsa,
            role=Role(args.role),
            image=args.image,
            number=args.number,
            anchor_text=args.anchor,
            placement=placement,
            reason=args.reason,
            trust_roots=roots,
        )
        signer: Signer
        if args.pkcs12:
            signer = pkcs12_signer(args.pkcs12, _secret_from_env(args.pass_env))
            result = sign_file(args.input, args.output, signer, options)
        else:
            pin = _secret_from_env(args.pin_env)
            with TokenSession(args.pkcs11_lib, args.token, pin) as session:
                signer = session.signer(args.key)
                result = sign_file(args.input, args.output, signer, options)
    except LienThongError as exc:
        _error(exc)
        return EXIT_UNUSABLE if exc.code == "signing.invalid_pdf" else EXIT_INVALID
    print(
        f"đã ký: {args.output} ({result.level}, trường {result.field_name}, sha256 {result.sha256})"
    )
    return EXIT_OK


def _add_sign(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("sign", help="sign a PDF (PAdES) with a PKCS#11 token or a PKCS#12 file")
    p.add_argument("input", type=Path, metavar="IN")
    p.add_argument("output", type=Path, metavar="OUT")
    p.add_argument("--pkcs11-lib", help="PKCS#11 module (.so) of the token")
    p.add_argument("--token", help="token label")
    p.add_argument("--key", help="key label on the token")
    p.add_argument("--pin-env", help="environment variable holding the PIN")
    p.add_argument("--pkcs12", type=Path, help="PKCS#12 file (development, demos)")
    p.add_argument("--pass-env", help="environment variable holding the PKCS#12 password")
    p.add_argument("--level", choices=["b-b", "b-t", "b-lt", "b-lta"], default="b-b")
    p.add_argument("--tsa", help="timestamp authority URL (B-T and up)")
    p.add_argument(
        "--role", choices=["leader", "agency", "attachment", "invisible"], default="invisible"
    )
    p.add_argument("--image", type=Path, help="signature or seal PNG (transparent)")
    p.add_argument("--number", help='number/notation for the attachment stamp ("123/UBND-VP")')
    p.add_argument("--anchor", default="CHỦ TỊCH", help="position title to place the stamp under")
    p.add_argument("--page", type=int, default=1, help="page (1-based) for --box")
    p.add_argument("--box", help="explicit stamp box x1,y1,x2,y2 in points (overrides --anchor)")
    p.add_argument("--reason", help="reason written in the signature")
    p.add_argument("--trust", type=Path, action="append", help="root CA PEM for the pre-check")
    p.set_defaults(func=_validated_sign(p))


def _validated_sign(parser: argparse.ArgumentParser) -> object:
    def run(args: argparse.Namespace) -> int:
        token_args = (args.pkcs11_lib, args.token, args.key, args.pin_env)
        if args.pkcs12:
            if not args.pass_env or any(token_args):
                parser.error("--pkcs12 needs --pass-env and excludes the token options")
        elif not all(token_args):
            parser.error("give --pkcs11-lib, --token, --key and --pin-env, or --pkcs12 --pass-env")
        return _cmd_sign(args)

    return run


# -- verify -------------------------------------------------------------------------------------
def _cmd_verify(args: argparse.Namespace) -> int:
    from signing.validate import verify_file

    _quiet_libraries()
    try:
        roots = _trust_roots(args.trust)
        if not roots:
            print("lỗi: chưa có gốc tin cậy nào (lienthong trust add CA.pem)", file=sys.stderr)
            return EXIT_UNUSABLE
        report = asyncio.run(verify_file(args.file, roots, online=not args.offline))
    except LienThongError as exc:
        _error(exc)
        return EXIT_UNUSABLE
    if args.json:
        print(report.to_json())
    else:
        print(report.summary_vi)
        for sig in report.signatures:
            print(f"- [{sig.field_name}] {sig.summary_vi}")
    if not report.signatures:
        return EXIT_INVALID
    return EXIT_OK if report.ok else EXIT_INVALID


def _add_verify(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("verify", help="validate every signature of a PDF")
    p.add_argument("file", type=Path)
    p.add_argument("--trust", type=Path, action="append", help="root CA PEM (repeatable)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--offline", action="store_true", help="use only revocation data in the file")
    p.set_defaults(func=_cmd_verify)


# -- trust --------------------------------------------------------------------------------------
def _store(args: argparse.Namespace) -> TrustStore:
    from signing.trust import TrustStore

    if args.dir is not None:
        return TrustStore(args.dir)
    from server.config import load_config

    return TrustStore(load_config().trust_dir)


def _cmd_trust(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        if args.trust_cmd == "add":
            for root in store.add(args.cert.read_bytes(), str(args.cert)):
                print(f"đã thêm {root.fingerprint}  {root.subject}")
        elif args.trust_cmd == "remove":
            root = store.remove(args.fingerprint)
            print(f"đã xoá {root.fingerprint}  {root.subject}")
        else:
            for root in store.list():
                print(f"{root.fingerprint}  {root.not_after[:10]}  {root.subject}")
    except OSError as exc:
        print(f"lỗi: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except LienThongError as exc:
        _error(exc)
        return EXIT_UNUSABLE
    return EXIT_OK


def _add_trust(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("trust", help="the server's trust roots (pinned CA certificates)")
    p.add_argument("--dir", type=Path, help="trust directory (default: the server's)")
    tsub = p.add_subparsers(dest="trust_cmd", required=True)
    add = tsub.add_parser("add", help="add a root CA certificate (PEM or DER)")
    add.add_argument("cert", type=Path)
    tsub.add_parser("list", help="list the trust roots")
    rm = tsub.add_parser("remove", help="remove a root by SHA-256 fingerprint")
    rm.add_argument("fingerprint")
    p.set_defaults(func=_cmd_trust)


# -- dev-pki ------------------------------------------------------------------------------------
def _cmd_dev_pki(args: argparse.Namespace) -> int:
    from signing.devpki import DevPki, create_dev_pki

    try:
        if args.pki_cmd == "serve":
            from signing.devserver import serve

            pki = DevPki.load(args.dir)
            print(f"dev PKI services on http://127.0.0.1:{args.port or pki.port}", flush=True)
            serve(pki, args.port)
            return EXIT_OK
        if args.out is None:
            print("lỗi: cần --out DIR", file=sys.stderr)
            return EXIT_UNUSABLE
        pki = create_dev_pki(args.out, args.port or 8790)
    except LienThongError as exc:
        _error(exc)
        return EXIT_UNUSABLE
    print(f"dev PKI in {pki.dir}: token {pki.token_label!r}, PIN {pki.user_pin}")
    print(f"SOFTHSM2_CONF={pki.softhsm_conf}")
    print(f"start the TSA/OCSP/CRL responder: lienthong dev-pki serve --dir {pki.dir}")
    return EXIT_OK


def _add_dev_pki(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("dev-pki", help="create (or serve) a development PKI and SoftHSM2 token")
    p.add_argument("pki_cmd", nargs="?", choices=["create", "serve"], default="create")
    p.add_argument("--out", type=Path, help="directory to create the PKI in")
    p.add_argument("--dir", type=Path, help="PKI directory to serve")
    p.add_argument("--port", type=int, help="responder port (fixed in the certificates)")
    p.set_defaults(func=_cmd_dev_pki)


# -- sign-agent ---------------------------------------------------------------------------------
def _cmd_agent(args: argparse.Namespace) -> int:
    from signing.agent import run_agent

    return run_agent(args.pkcs11_lib, args.origin, args.token, args.port, demo=args.demo)


def _add_agent(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("sign-agent", help="local signing agent for a USB token (clerk's PC)")
    p.add_argument("--pkcs11-lib", required=True, help="PKCS#11 module of the token")
    p.add_argument("--origin", required=True, help="the server's web origin (https://...)")
    p.add_argument("--token", help="token label (default: sent by the page)")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument(
        "--demo", action="store_true", help="demo agent: the page sends the (demo) PIN; test only"
    )
    p.set_defaults(func=_cmd_agent)


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the signing commands on the ``lienthong`` command line."""
    _add_sign(subparsers)
    _add_verify(subparsers)
    _add_trust(subparsers)
    _add_dev_pki(subparsers)
    _add_agent(subparsers)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lienthong")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
