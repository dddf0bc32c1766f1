"""``lienthong send | inbox | status | trace``: the document exchange over the HTTP API.

For scripts and the acceptance check. The token is read from an environment variable
(``--token-env``, default ``LIENTHONG_TOKEN``) so that it never appears in a process list. Exit
codes: 0 success, 1 the server refused (the problem's Vietnamese text is printed), 2 unusable
input, configuration or an unreachable server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # aiohttp is imported by the commands that use it: `lienthong --help` stays fast
    import aiohttp

EXIT_OK, EXIT_REFUSED, EXIT_UNUSABLE = 0, 1, 2


class CliProblem(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _token(args: argparse.Namespace) -> str:
    value = os.environ.get(args.token_env, "").strip()
    if not value:
        raise CliProblem(
            f"lỗi: biến môi trường {args.token_env} chưa có mã truy cập (API token)\n"
            f"error: environment variable {args.token_env} holds no API token",
            EXIT_UNUSABLE,
        )
    return value


async def _call(
    args: argparse.Namespace,
    method: str,
    path: str,
    *,
    json_body: dict[str, Any] | None = None,
    form: aiohttp.FormData | None = None,
) -> Any:
    import aiohttp

    url = args.server.rstrip("/") + path
    headers = {"Authorization": f"Bearer {_token(args)}", "Accept": "application/json"}
    timeout = aiohttp.ClientTimeout(total=args.timeout)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.request(method, url, headers=headers, json=json_body, data=form) as resp,
        ):
            text = await resp.text()
            try:
                body = json.loads(text) if text else {}
            except json.JSONDecodeError:
                body = {"detail": text[:500]}
            if resp.status >= 400:
                detail_vi = body.get("detail_vi") or body.get("detail") or resp.reason
                raise CliProblem(
                    f"lỗi ({resp.status}): {detail_vi}\nerror: {body.get('detail', '')}",
                    EXIT_REFUSED if resp.status < 500 else EXIT_UNUSABLE,
                )
            return body
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise CliProblem(
            f"lỗi: không kết nối được máy chủ {args.server}\nerror: {exc}", EXIT_UNUSABLE
        ) from None


def _run(args: argparse.Namespace, coro: Any) -> int:
    try:
        code: int = asyncio.run(coro)
        return code
    except CliProblem as problem:
        print(str(problem), file=sys.stderr)
        return problem.code


def cmd_send(args: argparse.Namespace) -> int:
    async def main() -> int:
        paths = [Path(args.file), *(Path(a) for a in args.attach or [])]
        blobs = []
        for path in paths:
            try:
                blobs.append(path.read_bytes())
            except OSError as exc:
                raise CliProblem(
                    f"lỗi: không đọc được tệp {path}: {exc.strerror}", EXIT_UNUSABLE
                ) from None
        meta: dict[str, Any] = {
            "number": args.number,
            "subject": args.subject,
            "to": [c.strip() for c in args.to.split(",") if c.strip()],
            "notation": args.notation or "",
            "doc_type": args.type or "",
            "urgency": args.urgency,
            "confidentiality": args.confidentiality,
        }
        if args.due:
            meta["due_date"] = args.due
        import aiohttp

        form = aiohttp.FormData()
        form.add_field("metadata", json.dumps(meta, ensure_ascii=False))
        form.add_field("main", blobs[0], filename=paths[0].name, content_type="application/pdf")
        for path, blob in zip(paths[1:], blobs[1:], strict=True):
            form.add_field(
                "attachment", blob, filename=path.name, content_type="application/octet-stream"
            )
        body = await _call(args, "POST", "/api/v1/documents", form=form)
        print(body["id"])
        return EXIT_OK

    return _run(args, main())


def cmd_inbox(args: argparse.Namespace) -> int:
    async def main() -> int:
        query = f"?limit={args.limit}"
        if args.status:
            query += f"&status={args.status}"
        body = await _call(args, "GET", "/api/v1/documents/inbox" + query)
        items = body["items"]
        if args.json:
            print(json.dumps(items, ensure_ascii=False, indent=2))
            return EXIT_OK
        for d in items:
            number = f"{d['number']}/{d['notation']}" if d["notation"] else d["number"]
            incoming = f"đến {d['incoming_number']}" if d.get("incoming_number") else "-"
            print(
                f"{d['id']}  {d['status']} {d['status_label']:<18} {incoming:<9} "
                f"{number:<16} {d['sender']['code']}  {d['subject']}"
            )
        if not items:
            print("Hộp thư đến trống.")
        return EXIT_OK

    return _run(args, main())


def cmd_status(args: argparse.Namespace) -> int:
    async def main() -> int:
        payload: dict[str, Any] = {"code": args.code, "note": args.note or ""}
        if args.assignee:
            payload["assignee"] = args.assignee
        if args.due:
            payload["due_date"] = args.due
        body = await _call(args, "POST", f"/api/v1/documents/{args.id}/status", json_body=payload)
        extra = f" (số đến {body['incoming_number']})" if body.get("incoming_number") else ""
        print(f"{body['id']} {body['agency']} {body['status']}{extra}")
        return EXIT_OK

    return _run(args, main())


def cmd_trace(args: argparse.Namespace) -> int:
    async def main() -> int:
        body = await _call(args, "GET", f"/api/v1/documents/{args.id}/trace")
        if args.json:
            print(json.dumps(body, ensure_ascii=False, indent=2))
            return EXIT_OK
        number = f"{body['number']}/{body['notation']}" if body["notation"] else body["number"]
        print(f"{body['id']}  {number}  {body['subject']}")
        for rec in body["recipients"]:
            print(f"  {rec['agency_code']} {rec['agency_name']}: {rec['status']}")
            for ev in rec["timeline"]:
                note = f" — {ev['note']}" if ev["note"] else ""
                print(f"    {ev['at']}  {ev['code']} {ev['label']}  {ev['actor']}{note}")
        return EXIT_OK

    return _run(args, main())


def cmd_verify_bundle(args: argparse.Namespace) -> int:
    from documents.evidence import verify_bundle

    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"lỗi: không đọc được {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_UNUSABLE
    checks = verify_bundle(data, [Path(c) for c in args.seal_cert or []])
    if args.trust_dir:
        checks += _check_pdf(data, Path(args.trust_dir), online=args.online)
    for check in checks:
        print(("ĐÚNG  " if check.ok else "SAI   ") + check.what_vi)
    good = all(c.ok for c in checks)
    print("Hồ sơ hợp lệ." if good else "Hồ sơ KHÔNG hợp lệ.")
    return EXIT_OK if good else EXIT_REFUSED


def _check_pdf(data: bytes, trust_dir: Path, *, online: bool) -> list[Any]:
    import io
    import zipfile

    from documents.evidence import Check
    from signing.errors import SigningError
    from signing.trust import TrustStore
    from signing.validate import Verifier

    zf = zipfile.ZipFile(io.BytesIO(data))
    mains = [
        n
        for n in zf.namelist()
        if n.startswith("files/") and not n.startswith("files/attachments/")
    ]
    if len(mains) != 1:
        return [Check(False, "Hồ sơ không có đúng một tệp văn bản chính.")]

    async def run() -> Any:
        async with Verifier(TrustStore(trust_dir).certificates(), online=online) as verifier:
            return await verifier.verify(zf.read(mains[0]))

    try:
        report = asyncio.run(run())
    except SigningError as exc:
        return [Check(False, f"Văn bản chính: {exc.detail_vi}")]
    return [Check(report.ok, f"Văn bản chính: {report.summary_vi}")] + [
        Check(s.ok, f"  {s.summary_vi}") for s in report.signatures
    ]


def cmd_edxml_check(args: argparse.Namespace) -> int:
    """``lienthong edxml check FILE``: every QCVN 102:2016 rule the package breaks.

    Exit 0 when it breaks none, 1 when it breaks some, 2 when the file cannot be read or is not
    XML at all (as ``verify``).
    """
    from documents.edxml_check import check_package
    from documents.edxml_read import UnreadablePackage

    try:
        data = Path(args.file).read_bytes()
        report = check_package(data)
    except OSError as exc:
        print(f"lỗi: không đọc được {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_UNUSABLE
    except UnreadablePackage as exc:
        if args.json:
            print(json.dumps({"ok": False, "unusable": exc.detail, "unusable_vi": exc.detail_vi}))
        print(f"lỗi: {exc.detail_vi}\nerror: {exc.detail}", file=sys.stderr)
        return EXIT_UNUSABLE
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        for finding in report.findings:
            print(f"SAI   [{finding.rule}] {finding.detail_vi}")
        kind = {"document": "văn bản", "status": "trạng thái"}.get(report.kind, "không rõ loại")
        verdict = "đúng" if report.ok else f"KHÔNG đúng ({len(report.findings)} lỗi)"
        print(f"Gói tin edXML ({kind}) {verdict} QCVN 102:2016.")
    return EXIT_OK if report.ok else EXIT_REFUSED


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--server",
        default=os.environ.get("LIENTHONG_SERVER", "http://127.0.0.1:8080"),
        help="server address (default $LIENTHONG_SERVER or http://127.0.0.1:8080)",
    )
    p.add_argument(
        "--token-env",
        default="LIENTHONG_TOKEN",
        help="environment variable holding the API token (default LIENTHONG_TOKEN)",
    )
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per request")


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``send``, ``inbox``, ``status`` and ``trace`` on the ``lienthong`` command."""
    send = subparsers.add_parser("send", help="send a signed PDF to agencies; prints its id")
    _common(send)
    send.add_argument("--to", required=True, help="agency codes, comma separated")
    send.add_argument("--number", required=True, help="số")
    send.add_argument("--subject", required=True, help="trích yếu")
    send.add_argument("--notation", help="ký hiệu (e.g. QĐ-UBND)")
    send.add_argument("--type", help="loại văn bản (e.g. Quyết định)")
    send.add_argument("--urgency", type=int, default=1, choices=(1, 2, 3, 4))
    send.add_argument("--confidentiality", type=int, default=0, choices=(0, 1, 2, 3))
    send.add_argument("--due", help="due date yyyy-mm-dd")
    send.add_argument("--attach", action="append", help="attachment file (repeatable)")
    send.add_argument("file", help="the signed main PDF")
    send.set_defaults(func=cmd_send)

    inbox = subparsers.add_parser("inbox", help="documents received by my agency")
    _common(inbox)
    inbox.add_argument("--json", action="store_true")
    inbox.add_argument("--status", help="only this status code")
    inbox.add_argument("--limit", type=int, default=100)
    inbox.set_defaults(func=cmd_inbox)

    status = subparsers.add_parser(
        "status", help="record a handling step: 02 refuse, 03 register, 04 assign, 05, 06"
    )
    _common(status)
    status.add_argument("id")
    status.add_argument("code", choices=("02", "03", "04", "05", "06"))
    status.add_argument("--note")
    status.add_argument("--assignee", help="login of the official (04)")
    status.add_argument("--due", help="handling due date yyyy-mm-dd (04)")
    status.set_defaults(func=cmd_status)

    trace = subparsers.add_parser("trace", help="every status of a document, per recipient")
    _common(trace)
    trace.add_argument("id")
    trace.add_argument("--json", action="store_true")
    trace.set_defaults(func=cmd_trace)

    bundle = subparsers.add_parser(
        "verify-bundle", help="check an evidence bundle offline (files, receipts, message log)"
    )
    bundle.add_argument("file")
    bundle.add_argument(
        "--seal-cert", action="append", help="pin the peer's seal certificate (PEM, repeatable)"
    )
    bundle.add_argument("--trust-dir", help="also validate the signed PDF against these roots")
    bundle.add_argument(
        "--online", action="store_true", help="fetch OCSP/CRL when validating the PDF"
    )
    bundle.set_defaults(func=cmd_verify_bundle)
    _add_edxml(subparsers)


def _add_edxml(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    edxml = subparsers.add_parser("edxml", help="edXML packages (QCVN 102:2016)")
    edxml_sub = edxml.add_subparsers(dest="edxml_command", required=True)
    check = edxml_sub.add_parser(
        "check", help="list every QCVN 102:2016 rule a package breaks (exit 0 / 1 / 2)"
    )
    check.add_argument("file")
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=cmd_edxml_check)
