"""Two Liên Thông servers exchanging documents: outbox with retries, signed receipts, statuses
back, duplicates dropped, message logs that agree. Both run in this process on SQLite; the
process-level fault tests live in ``test_federation_processes.py``."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import io
import os
import shutil
import time
import uuid
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from documents.dates import VN
from documents.edxml import NS, EdxmlStatus, Organ, build_status, parse_document, parse_status
from documents.envelope import sign_package
from documents.evidence import verify_bundle
from documents.federation.receipts import verify_receipt
from documents.files import LocalFileStore
from documents.models import MessageLogEntry, OutboxMessage, Receipt
from documents.msglog import verify_log_txn
from lienthong.app import create_app
from lienthong.cli import main as cli_main
from server.accounts.agencies import AgencyRow, import_rows_txn
from server.accounts.passwords import hash_password
from server.accounts.restructure import parse_restructure, restructure_txn
from server.accounts.tokens import create_token_txn
from server.accounts.users import create_user_txn
from server.auth.principal import Role
from server.config import load_config
from server.db import Database
from signing.devpki import DevPki
from signing.trust import TrustStore, load_certs
from tests.conftest import PG_HOST, PG_PORT, _pg_exec, bearer
from tests.documents.conftest import SignedFiles, free_port, send_form
from tests.documents.test_edxml_signature import KeySigner, agency_seal

A_PROV, A_AGENCY = "000.00.00.H98", "000.00.10.H98"
B_PROV, B_AGENCY, B_CLOSED = "000.00.00.H97", "000.00.10.H97", "000.00.11.H97"
_HASH = hash_password("correct-horse-9")
PG_BASE = f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}"


@dataclass
class Side:
    name: str
    url: str
    port: int
    data: Path
    db: Database
    tokens: dict[str, str]
    app: web.Application | None = None
    server: TestServer | None = None

    async def start(self) -> None:
        config = load_config(
            env={"LIENTHONG_DATA_DIR": str(self.data), "LIENTHONG_DATABASE_URL": self.db.url}
        )
        self.app = create_app(config, database=self.db)
        self.server = TestServer(self.app, port=self.port)
        await self.server.start_server()

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.close()
            self.server = None


async def _seed(
    db: Database, rows: list[AgencyRow], people: list[tuple[str, str, Role]]
) -> dict[str, str]:
    async def run(session: AsyncSession) -> dict[str, str]:
        await import_rows_txn(session, rows)
        tokens = {}
        for login, agency, role in people:
            user = await create_user_txn(
                session,
                login=login,
                full_name=f"Cán bộ {login}",
                agency_code=agency,
                roles=frozenset({role}),
                password_hash=_HASH,
            )
            tokens[login], _row = await create_token_txn(session, user.id, name="test")
        return tokens

    return await db.write("seed", run)


def _toml(
    side: str, seal: str, peer: str, url: str, token_env: str, login: str, agencies: list[str],
    deliver_to: list[str], peer_cert: str,
) -> str:  # fmt: skip
    return f"""
server_id = "{side}"
seal_p12 = "{seal}"
seal_password_env = "LT_TEST_SEAL_PASSWORD"
poll_seconds = 0.2
max_backoff = 1.0
lease_seconds = 5.0

[[peers]]
name = "{peer}"
url = "{url}"
token_env = "{token_env}"
login = "{login}"
agencies = {agencies!r}
deliver_to = {deliver_to!r}
seal_cert = "{peer_cert}"
""".replace("'", '"')


@pytest.fixture(params=["sqlite", "postgres"])
async def pair(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    doc_pki: DevPki,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[Side, Side]]:
    sides = []
    pg_names: list[str] = []
    for name in ("a", "b"):
        data = tmp_path / name
        data.mkdir()
        TrustStore(data / "trust").add(doc_pki.root_pem.read_bytes(), "dev root")
        if request.param == "sqlite":
            template: Path = request.getfixturevalue("sqlite_template")
            shutil.copy(template, data / "lienthong.db")
            url = f"sqlite+aiosqlite:///{data / 'lienthong.db'}"
        else:
            pg_template: str = request.getfixturevalue("pg_template")
            db_name = f"lt_fed_{os.getpid()}_{name}_{uuid.uuid4().hex[:6]}"
            await _pg_exec(f'CREATE DATABASE "{db_name}" TEMPLATE "{pg_template}"')
            pg_names.append(db_name)
            url = f"{PG_BASE}/{db_name}"
        db = Database(url)
        port = free_port()
        sides.append(Side(name, f"http://127.0.0.1:{port}", port, data, db, {}))
    a, b = sides
    a.tokens = await _seed(
        a.db,
        [AgencyRow(A_PROV, "UBND tỉnh A", None, 1), AgencyRow(A_AGENCY, "Sở Nội vụ A", A_PROV, 2)],
        [("vt_a", A_AGENCY, Role.CLERK), ("peer.b", A_PROV, Role.OFFICIAL)],
    )
    b.tokens = await _seed(
        b.db,
        [
            AgencyRow(B_PROV, "UBND tỉnh B", None, 1),
            AgencyRow(B_AGENCY, "Sở Nội vụ B", B_PROV, 2),
            AgencyRow(B_CLOSED, "Sở Tài chính B", B_PROV, 2),
        ],
        [("vt_b", B_AGENCY, Role.CLERK), ("peer.a", B_PROV, Role.OFFICIAL)],
    )
    monkeypatch.setenv("LT_TEST_SEAL_PASSWORD", doc_pki.p12_password)
    monkeypatch.setenv("LT_TOKEN_ON_B", b.tokens["peer.a"])
    monkeypatch.setenv("LT_TOKEN_ON_A", a.tokens["peer.b"])
    (a.data / "federation.toml").write_text(
        _toml(
            "tinh-a",
            str(doc_pki.p12("agency")),
            "tinh-b",
            b.url,
            "LT_TOKEN_ON_B",
            "peer.b",
            [B_AGENCY, B_CLOSED],
            [A_AGENCY],
            str(doc_pki.cert("clerk")),
        ),
        encoding="utf-8",
    )
    (b.data / "federation.toml").write_text(
        _toml(
            "tinh-b",
            str(doc_pki.p12("clerk")),
            "tinh-a",
            a.url,
            "LT_TOKEN_ON_A",
            "peer.a",
            [A_AGENCY],
            [B_AGENCY],
            str(doc_pki.cert("agency")),
        ),
        encoding="utf-8",
    )
    try:
        yield a, b
    finally:
        for side in (a, b):
            await side.stop()
            await side.db.close()
        for db_name in pg_names:
            await _pg_exec(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


async def _until(check: Callable[[], Awaitable[bool]], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached in time")


async def _get(url: str, token: str) -> Any:
    async with aiohttp.ClientSession() as s, s.get(url, headers=bearer(token)) as resp:
        return await resp.json()


async def _post_status(url: str, token: str, **body: Any) -> Any:
    async with aiohttp.ClientSession() as s, s.post(url, json=body, headers=bearer(token)) as r:
        assert r.status == 200, await r.text()
        return await r.json()


async def _statuses(side: Side, doc_id: str) -> dict[str, list[str]]:
    view = await _get(f"{side.url}/api/v1/documents/{doc_id}", side.tokens["vt_a"])
    return {r["agency_code"]: [e["code"] for e in r["timeline"]] for r in view["recipients"]}


async def _log(db: Database, direction: str) -> set[tuple[str, str]]:
    async def run(session: AsyncSession) -> set[tuple[str, str]]:
        rows = await session.execute(
            select(MessageLogEntry.message_id, MessageLogEntry.digest).where(
                MessageLogEntry.direction == direction
            )
        )
        return {(r[0], r[1]) for r in rows}

    return await db.read("log", run)


async def test_exchange_receipts_statuses_and_duplicates(
    pair: tuple[Side, Side], pdfs: SignedFiles, doc_pki: DevPki
) -> None:
    a, b = pair
    await a.start()
    # B is down: the document waits in A's outbox, retried with backoff
    async with aiohttp.ClientSession() as s:
        resp = await s.post(
            f"{a.url}/api/v1/documents",
            data=send_form(pdfs.signed, to=[B_AGENCY], attachments=[("pl.pdf", pdfs.unsigned)]),
            headers=bearer(a.tokens["vt_a"]),
        )
        assert resp.status == 201, await resp.text()
        doc_id = (await resp.json())["id"]
    assert (await _statuses(a, doc_id)) == {B_AGENCY: ["00"]}

    async def attempts() -> bool:
        async def run(session: AsyncSession) -> int:
            row = await session.scalar(select(OutboxMessage))
            return row.attempts if row is not None else 0

        return await a.db.read("attempts", run) >= 2

    await _until(attempts)
    await b.start()

    async def arrived() -> bool:
        return (await _statuses(a, doc_id))[B_AGENCY] == ["00", "01"]

    await _until(arrived)
    inbox = await _get(f"{b.url}/api/v1/documents/inbox", b.tokens["vt_b"])
    assert len(inbox["items"]) == 1
    b_doc = inbox["items"][0]["id"]
    assert inbox["items"][0]["sender"]["code"] == A_AGENCY

    # B registers: status 03 travels back to A
    await _post_status(f"{b.url}/api/v1/documents/{b_doc}/status", b.tokens["vt_b"], code="03")

    async def registered() -> bool:
        return (await _statuses(a, doc_id))[B_AGENCY][-1] == "03"

    try:
        await _until(registered)
    except AssertionError:

        async def errors(session: AsyncSession) -> list[str]:
            return [r.last_error for r in await session.scalars(select(OutboxMessage))]

        raise AssertionError(await b.db.read("e", errors)) from None

    # the receipt A holds verifies against B's pinned seal, over the digest of what was sent
    async def receipts(session: AsyncSession) -> list[Receipt]:
        return list(await session.scalars(select(Receipt).where(Receipt.direction == "out")))

    held = await a.db.read("receipts", receipts)
    assert len(held) == 1
    seal_b = load_certs(doc_pki.cert("clerk").read_bytes())[0]
    assert verify_receipt(held[0].cms, held[0].digest, seal_b).signer

    # a duplicate of the document message changes nothing and gets the same receipt
    from documents.interop import document_message
    from documents.keys import SERVICES_KEY

    assert a.app is not None
    body = await document_message(a.app[SERVICES_KEY], doc_id, [B_AGENCY])
    async with aiohttp.ClientSession() as s:
        resp = await s.post(
            f"{b.url}/api/v1/federation/messages",
            data=body,
            headers={
                **bearer(b.tokens["peer.a"]),
                "X-LT-Message-Id": held[0].message_id,
                "X-LT-Kind": "document",
                "X-LT-Ref": doc_id,
            },
        )
        again = await resp.json()
    assert base64.b64decode(again["receipt"]) == held[0].cms
    inbox = await _get(f"{b.url}/api/v1/documents/inbox", b.tokens["vt_b"])
    assert len(inbox["items"]) == 1

    # the evidence bundle checks out offline, with the peer's seal pinned; a changed byte does not
    async with (
        aiohttp.ClientSession() as s,
        s.get(f"{a.url}/api/v1/documents/{doc_id}/evidence", headers=bearer(a.tokens["vt_a"])) as r,
    ):
        assert r.status == 200
        bundle = await r.read()
    checks = verify_bundle(bundle, [doc_pki.cert("clerk")])
    assert checks and all(c.ok for c in checks), [c.what_vi for c in checks if not c.ok]
    assert sum("Biên nhận" in c.what_vi for c in checks) == 2  # ours for the status, theirs
    path = a.data / "bundle.zip"
    path.write_bytes(bundle)
    code = await asyncio.to_thread(
        cli_main,
        ["verify-bundle", str(path), "--seal-cert", str(doc_pki.cert("clerk")),
         "--trust-dir", str(a.data / "trust"), "--online"],
    )  # fmt: skip
    assert code == 0
    assert not all(c.ok for c in verify_bundle(bundle, [doc_pki.cert("agency")]))
    # the receiving side's bundle proves the document it received (its own receipt over the exact
    # bytes kept) and the status it sent (A's receipt, pinned)
    async with (
        aiohttp.ClientSession() as s,
        s.get(f"{b.url}/api/v1/documents/{b_doc}/evidence", headers=bearer(b.tokens["vt_b"])) as r,
    ):
        bundle_b = await r.read()
    checks_b = verify_bundle(bundle_b, [doc_pki.cert("agency")])
    assert all(c.ok for c in checks_b), [c.what_vi for c in checks_b if not c.ok]
    assert any("nhận từ tinh-a" in c.what_vi for c in checks_b)
    assert any("gửi tới tinh-a" in c.what_vi for c in checks_b)
    tampered = _tamper_zip(bundle, "envelope.edxml")
    assert not all(c.ok for c in verify_bundle(tampered))

    # both message logs hold the same messages, and both chains are intact
    assert await _log(a.db, "out") == await _log(b.db, "in")
    assert await _log(b.db, "out") == await _log(a.db, "in")
    assert len(await _log(a.db, "in")) == 1
    for side in (a, b):
        check = await side.db.read("verify", verify_log_txn)
        assert check.ok, side.name


def _tamper_zip(bundle: bytes, name: str) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(bundle))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.namelist():
            data = src.read(item)
            dst.writestr(
                item,
                data.replace(b"edXML:Subject>", b"edXML:Subject> ", 1) if item == name else data,
            )
    return out.getvalue()


async def test_a_peer_delivers_only_where_it_may(
    pair: tuple[Side, Side], pdfs: SignedFiles
) -> None:
    a, b = pair
    await a.start()
    await b.start()
    async with aiohttp.ClientSession() as s:
        resp = await s.post(
            f"{a.url}/api/v1/documents",
            data=send_form(pdfs.signed, to=[B_CLOSED]),
            headers=bearer(a.tokens["vt_a"]),
        )
        doc_id = (await resp.json())["id"]

    async def refused() -> bool:
        async def run(session: AsyncSession) -> str:
            row = await session.scalar(select(OutboxMessage))
            return row.last_error if row is not None else ""

        return "403" in await a.db.read("err", run)

    await _until(refused)
    assert (await _statuses(a, doc_id)) == {B_CLOSED: ["00"]}
    assert (await _get(f"{b.url}/api/v1/documents/inbox", b.tokens["vt_b"]))["items"] == []
    # a confidential document never leaves the server
    async with aiohttp.ClientSession() as s:
        resp = await s.post(
            f"{a.url}/api/v1/documents",
            data=send_form(pdfs.signed, to=[B_AGENCY], confidentiality=1),
            headers=bearer(a.tokens["vt_a"]),
        )
        assert resp.status == 422
        assert "Văn bản mật" in (await resp.json())["detail_vi"]
    # a peer may not send in the name of an agency it does not reach
    from documents.edxml import EdxmlAttachment, EdxmlDocument, Organ, document_to_xml

    forged = document_to_xml(
        EdxmlDocument(
            sender=Organ("000.00.99.H96", "Cơ quan khác"),
            to=(Organ(B_AGENCY),),
            code_number="1",
            code_notation="X",
            promulgation_date=dt.date(2026, 11, 23),
            subject="Giả mạo",
            attachments=(EdxmlAttachment("a.pdf", pdfs.signed),),
        )
    )
    async with aiohttp.ClientSession() as s:
        resp = await s.post(
            f"{b.url}/api/v1/federation/messages",
            data=forged,
            headers={
                **bearer(b.tokens["peer.a"]),
                "X-LT-Message-Id": "cd" * 16,
                "X-LT-Kind": "document",
                "X-LT-Ref": "x",
            },
        )
        assert resp.status == 403
    # an ordinary user of B's server is not a peer
    async with aiohttp.ClientSession() as s:
        resp = await s.post(
            f"{b.url}/api/v1/federation/messages",
            data=b"<x/>",
            headers={
                **bearer(b.tokens["vt_b"]),
                "X-LT-Message-Id": "ab" * 16,
                "X-LT-Kind": "document",
                "X-LT-Ref": "x",
            },
        )
        assert resp.status == 403


async def _received_as_edxml(side: Side) -> dict[str, list[int]]:
    """Every message ``side`` received, read from the exact bytes it kept: each must be an
    edXML package in the vendors' shape (root ``edXML``); per kind, the business types."""
    from lxml import etree

    config = load_config(
        env={"LIENTHONG_DATA_DIR": str(side.data), "LIENTHONG_DATABASE_URL": side.db.url}
    )
    store = LocalFileStore(config.files_dir)

    async def rows(session: AsyncSession) -> list[tuple[str, str]]:
        got = await session.execute(
            select(Receipt.kind, Receipt.digest).where(Receipt.direction == "in")
        )
        return [(k, d) for k, d in got.all()]

    kinds: dict[str, list[int]] = {}
    for kind, digest in await side.db.read("test_received", rows):
        body = await store.get(digest)
        assert etree.fromstring(body).tag == f"{{{NS}}}edXML", body[:200]
        if kind == "status":
            parse_status(body)
            kinds.setdefault(kind, []).append(0)
        else:
            message = parse_document(body)
            if kind == "request":
                assert message.replaces and not message.attachments
            kinds.setdefault(kind, []).append(message.business_type)
    return kinds


async def test_update_and_revoke_across_servers(pair: tuple[Side, Side], pdfs: SignedFiles) -> None:
    a, b = pair
    await a.start()
    await b.start()
    async with aiohttp.ClientSession() as s:
        resp = await s.post(
            f"{a.url}/api/v1/documents",
            data=send_form(pdfs.signed, to=[B_AGENCY], subject="Về việc họp"),
            headers=bearer(a.tokens["vt_a"]),
        )
        doc_id = (await resp.json())["id"]

    async def arrived() -> bool:
        return (await _statuses(a, doc_id))[B_AGENCY][-1] == "01"

    await _until(arrived)
    b_doc = (await _get(f"{b.url}/api/v1/documents/inbox", b.tokens["vt_b"]))["items"][0]["id"]

    async def a_post(path: str, **body: Any) -> None:
        async with aiohttp.ClientSession() as s:
            r = await s.post(f"{a.url}{path}", json=body, headers=bearer(a.tokens["vt_a"]))
            assert r.status == 200, await r.text()

    await a_post(f"/api/v1/documents/{doc_id}/update", reason="Sửa", subject="Về việc họp tổng kết")

    async def updated() -> bool:
        view = await _get(f"{b.url}/api/v1/documents/{b_doc}", b.tokens["vt_b"])
        return bool(
            view["subject"] == "Về việc họp tổng kết"
            and view["recipients"][0]["pending_request"] == "2"
        )

    await _until(updated)
    await _post_status(f"{b.url}/api/v1/documents/{b_doc}/status", b.tokens["vt_b"], code="15")
    await a_post(f"/api/v1/documents/{doc_id}/revoke", reason="Ban hành nhầm")

    async def asked() -> bool:
        view = await _get(f"{b.url}/api/v1/documents/{b_doc}", b.tokens["vt_b"])
        return bool(view["recipients"][0]["pending_request"] == "1")

    await _until(asked)
    await _post_status(f"{b.url}/api/v1/documents/{b_doc}/status", b.tokens["vt_b"], code="15")

    async def revoked() -> bool:
        view = await _get(f"{a.url}/api/v1/documents/{doc_id}", a.tokens["vt_a"])
        codes = [e["code"] for e in view["recipients"][0]["timeline"]]
        return bool(view["recipients"][0]["closed"] == "revoked" and codes.count("15") == 2)

    await _until(revoked)
    # the two answers may cross on the way; each is matched to its own request
    assert sorted((await _statuses(a, doc_id))[B_AGENCY]) == ["00", "01", "13", "13", "15", "15"]
    view = await _get(f"{a.url}/api/v1/documents/{doc_id}", a.tokens["vt_a"])
    assert view["recipients"][0]["pending_request"] is None
    mine = await _get(f"{b.url}/api/v1/documents/{b_doc}", b.tokens["vt_b"])
    assert mine["recipients"][0]["closed"] == "revoked"
    # between the servers, only edXML: the document, the update (2) and revoke (1) requests
    got = await _received_as_edxml(b)
    assert got["document"] == [0] and sorted(got["request"]) == [1, 2]
    assert (await _received_as_edxml(a))["status"]  # the 15s came back as status packages


async def test_replace_across_servers(pair: tuple[Side, Side], pdfs: SignedFiles) -> None:
    a, b = pair
    await a.start()
    await b.start()
    ids: list[str] = []
    for number in ("40", "41"):
        async with aiohttp.ClientSession() as s:
            path = "/api/v1/documents" if not ids else f"/api/v1/documents/{ids[0]}/replace"
            resp = await s.post(
                f"{a.url}{path}",
                data=send_form(pdfs.signed, to=[B_AGENCY], number=number),
                headers=bearer(a.tokens["vt_a"]),
            )
            assert resp.status == 201, await resp.text()
            ids.append((await resp.json())["id"])

    async def both_here() -> bool:
        inbox = await _get(f"{b.url}/api/v1/documents/inbox", b.tokens["vt_b"])
        if len(inbox["items"]) != 2:
            return False
        old = next(d for d in inbox["items"] if d["number"] == "40")
        view = await _get(f"{b.url}/api/v1/documents/{old['id']}", b.tokens["vt_b"])
        return bool(view["recipients"][0]["pending_request"] == "3" and view["replaced_by"])

    await _until(both_here)
    inbox = await _get(f"{b.url}/api/v1/documents/inbox", b.tokens["vt_b"])
    old_b = next(d["id"] for d in inbox["items"] if d["number"] == "40")
    await _post_status(f"{b.url}/api/v1/documents/{old_b}/status", b.tokens["vt_b"], code="15")

    async def replaced() -> bool:
        view = await _get(f"{a.url}/api/v1/documents/{ids[0]}", a.tokens["vt_a"])
        return bool(view["recipients"][0]["closed"] == "replaced")

    await _until(replaced)
    view = await _get(f"{a.url}/api/v1/documents/{ids[0]}", a.tokens["vt_a"])
    assert view["replaced_by"] == [ids[1]]
    got = await _received_as_edxml(b)
    assert sorted(got["document"]) == [0, 3] and got["request"] == [3]


async def test_a_document_for_an_ended_unit_reaches_its_successor_across_servers(
    pair: tuple[Side, Side], pdfs: SignedFiles
) -> None:
    """B merged B_CLOSED into B_AGENCY; A, whose directory still has B_CLOSED, sends to it: B
    delivers to B_AGENCY with the note, and A's timeline shows the successor's 01."""
    a, b = pair
    csv = (
        "old_code,new_code,change,effective_date,act,act_date\n"
        f"{B_CLOSED},{B_AGENCY},merged,2025-07-01,9999/NQ-UBTVQH15,2025-06-16\n"
    )

    async def merge(session: AsyncSession) -> None:
        await restructure_txn(session, parse_restructure(csv, "merge.csv"))

    await b.db.write("merge", merge)
    # B takes documents from A for the unit that ended as well as for its successor
    toml = b.data / "federation.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(
        text.replace(f'deliver_to = ["{B_AGENCY}"]', f'deliver_to = ["{B_AGENCY}", "{B_CLOSED}"]'),
        encoding="utf-8",
    )
    await a.start()
    await b.start()
    async with aiohttp.ClientSession() as s:
        resp = await s.post(
            f"{a.url}/api/v1/documents",
            data=send_form(pdfs.signed, to=[B_CLOSED]),
            headers=bearer(a.tokens["vt_a"]),
        )
        assert resp.status == 201, await resp.text()
        doc_id = (await resp.json())["id"]

    async def arrived() -> bool:
        inbox = await _get(f"{b.url}/api/v1/documents/inbox", b.tokens["vt_b"])
        return bool(inbox.get("items") if isinstance(inbox, dict) else inbox)

    await _until(arrived, within=60)
    inbox = await _get(f"{b.url}/api/v1/documents/inbox", b.tokens["vt_b"])
    items = inbox["items"] if isinstance(inbox, dict) else inbox
    assert len(items) == 1
    view = await _get(f"{b.url}/api/v1/documents/{items[0]['id']}", b.tokens["vt_b"])
    [mine] = [r for r in view["recipients"] if r["agency_code"] == B_AGENCY]
    assert "sáp nhập" in mine["timeline"][0]["note"]
    assert all(r["agency_code"] != B_CLOSED for r in view["recipients"])

    async def told() -> bool:
        return "01" in (await _statuses(a, doc_id)).get(B_CLOSED, [])

    await _until(told, within=60)


async def test_a_status_signed_by_another_agency_is_refused(
    pair: tuple[Side, Side], doc_pki: DevPki
) -> None:
    """A status package from B's agency whose envelope is signed by a third agency's seal is
    refused before anything is recorded, as a document's would be."""
    a, _b = pair
    await a.start()
    status = EdxmlStatus(
        document_id=f"{A_AGENCY},2026/12/06,1/SNV",
        sender_code=A_AGENCY,
        code_number="1",
        code_notation="SNV",
        promulgation_date=dt.date(2026, 12, 6),
        from_organ=Organ(B_AGENCY, "Sở Nội vụ B"),
        status_code="03",
        description="Đã vào sổ",
        timestamp=dt.datetime(2026, 12, 6, 9, 0, tzinfo=VN),
    )
    other = agency_seal(doc_pki, "000.00.00.G23", "Bộ Khác")
    signed = await sign_package(
        build_status(status), B_AGENCY, KeySigner(B_AGENCY, other.key, other.certs)
    )
    headers = {
        **bearer(a.tokens["peer.b"]),
        "Content-Type": "application/xml",
        "X-LT-Message-Id": uuid.uuid4().hex,
        "X-LT-Kind": "status",
        "X-LT-Ref": "0123456789abcdef",
    }
    async with (
        aiohttp.ClientSession() as s,
        s.post(f"{a.url}/api/v1/federation/messages", data=signed, headers=headers) as resp,
    ):
        problem = await resp.json()
        assert resp.status == 422, problem
    assert problem["code"] == "documents.envelope_signature"
    assert "Bộ Khác" in problem["detail_vi"]
