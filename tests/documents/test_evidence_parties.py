"""Evidence bundles per party: a recipient's bundle holds its own messages in full and only
salted commitments to other recipients' handling (issue 9, finding 8)."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import zipfile
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from documents.evidence import verify_bundle
from documents.models import MessageLogEntry
from documents.msglog import commitment, digest_of
from lienthong.cli import main as cli_main
from server.auth.principal import Role
from server.db import Database
from tests.conftest import People, bearer
from tests.documents.conftest import AGENCY_A, AGENCY_B, PROVINCE, SignedFiles, send


async def _bundle(client: TestClient[Any, Any], token: str, doc_id: str) -> bytes:
    resp = await client.get(f"/api/v1/documents/{doc_id}/evidence", headers=bearer(token))
    assert resp.status == 200, await resp.text()
    return await resp.read()


def _manifest(bundle: bytes) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(zipfile.ZipFile(io.BytesIO(bundle)).read("manifest.json"))
    return loaded


async def test_a_recipient_sees_only_its_own_handling(
    client: TestClient[Any, Any],
    people: People,
    pdfs: SignedFiles,
    database: Database,
    tmp_path: Path,
) -> None:
    await people.add("vt_a", Role.CLERK, agency=AGENCY_A)
    await people.add("vt_b", Role.CLERK, agency=AGENCY_B)
    await people.add("vt_p", Role.CLERK, agency=PROVINCE)
    ta, tb, tp = [await people.token(x) for x in ("vt_a", "vt_b", "vt_p")]
    doc_id = await send(client, ta, pdfs.signed, to=[AGENCY_B, PROVINCE])
    for token in (tb, tp):
        resp = await client.post(
            f"/api/v1/documents/{doc_id}/status", json={"code": "03"}, headers=bearer(token)
        )
        assert resp.status == 200, await resp.text()
    sender_view = await (await client.get(f"/api/v1/documents/{doc_id}", headers=bearer(ta))).json()
    p_note = next(r for r in sender_view["recipients"] if r["agency_code"] == PROVINCE)["timeline"][
        -1
    ]["note"]
    assert p_note.startswith("Số đến ")
    p_digest = digest_of({"id": doc_id, "from": PROVINCE, "code": "03", "note": p_note})

    bundle_b = await _bundle(client, tb, doc_id)
    manifest = _manifest(bundle_b)
    text = json.dumps(manifest, ensure_ascii=False)
    assert manifest["party"] == {"agency_code": AGENCY_B, "role": "recipient"}
    assert [r["agency_code"] for r in manifest["timeline"]] == [AGENCY_B]
    shown = [e for e in manifest["message_log"] if "message_id" in e]
    hidden = [e for e in manifest["message_log"] if "commitment" in e]
    assert len(shown) == 2 and len(hidden) == 2  # B's copy and status; P's copy and status
    assert all(set(e) == {"seq", "commitment"} for e in hidden)
    # the province's status is not there, and guessing its low-entropy content gets nowhere
    year = dt.datetime.now(dt.UTC).year
    guesses = {
        digest_of({"id": doc_id, "from": PROVINCE, "code": code, "note": f"Số đến {n}/{y}"})
        for code in ("02", "03")
        for n in range(1, 30)
        for y in (year - 1, year, year + 1)
    }
    assert p_digest in guesses
    assert not any(g in text for g in guesses)
    assert {e["commitment"] for e in hidden}.isdisjoint(guesses)

    # each commitment is the salted hash of an entry the server can open later
    async def rows(session: AsyncSession) -> list[MessageLogEntry]:
        return list(await session.scalars(select(MessageLogEntry).order_by(MessageLogEntry.seq)))

    by_seq = {e.seq: e for e in await database.read("log", rows)}
    for e in hidden:
        row = by_seq[e["seq"]]
        assert row.agencies == PROVINCE and e["commitment"] == commitment(row.salt, row.hash)

    checks = verify_bundle(bundle_b)
    assert checks and all(c.ok for c in checks), [c.what_vi for c in checks if not c.ok]
    assert sum("chuỗi băm" in c.what_vi for c in checks) == 2
    path = tmp_path / "bundle-b.zip"
    path.write_bytes(bundle_b)
    assert await asyncio.to_thread(cli_main, ["verify-bundle", str(path)]) == 0

    # the sender is a party to every message of its document: its bundle shows them all
    bundle_a = await _bundle(client, ta, doc_id)
    manifest_a = _manifest(bundle_a)
    assert all("message_id" in e for e in manifest_a["message_log"])
    assert p_digest in {e["digest"] for e in manifest_a["message_log"]}
    assert all(c.ok for c in verify_bundle(bundle_a))
    # the province's bundle hides B's entries the same way
    log_p = _manifest(await _bundle(client, tp, doc_id))["message_log"]
    assert sum("commitment" in e for e in log_p) == 2
