"""The hash-chained audit log detects an edited, deleted or reordered row."""

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.log import NewEntry, append_many_txn, append_txn, verify_txn
from server.audit.models import AuditEntry
from server.db import Database


async def _append(db: Database, n: int) -> None:
    for i in range(n):

        async def run(session: AsyncSession, i: int = i) -> None:
            await append_txn(
                session,
                "test.act",
                actor=f"user{i}",
                target=f"t{i}",
                details={"i": i, "tên": "Bình"},
            )

        await db.write("append", run)


async def test_chain_verifies(database: Database) -> None:
    await _append(database, 5)
    result = await database.read("verify", verify_txn)
    assert result.ok and result.count == 5 and len(result.head_hash) == 64


async def test_many_entries_in_one_statement_extend_the_same_chain(database: Database) -> None:
    await _append(database, 2)

    async def many(session: AsyncSession) -> list[AuditEntry]:
        return await append_many_txn(
            session,
            [NewEntry("vote.cast", "tablets", f"poll:{i}", {"ballots": i}) for i in (7, 8, 9)],
        )

    written = await database.write("append_many", many)
    assert [e.seq for e in written] == [3, 4, 5]
    assert written[1].prev_hash == written[0].hash and written[2].prev_hash == written[1].hash
    await _append(database, 1)  # a single append after a batch links to the batch's last entry
    result = await database.read("verify", verify_txn)
    assert result.ok and result.count == 6

    async def tamper(session: AsyncSession) -> None:
        await session.execute(update(AuditEntry).where(AuditEntry.seq == 4).values(target="x"))

    await database.write("tamper", tamper)
    broken = await database.read("verify", verify_txn)
    assert not broken.ok and broken.first_bad_seq == 4


@pytest.mark.parametrize("tamper", ["edit_target", "edit_details", "delete_middle", "swap_seq"])
async def test_tampering_is_detected(database: Database, tamper: str) -> None:
    await _append(database, 5)

    async def change(session: AsyncSession) -> None:
        if tamper == "edit_target":
            await session.execute(
                update(AuditEntry).where(AuditEntry.seq == 3).values(target="other")
            )
        elif tamper == "edit_details":
            await session.execute(
                update(AuditEntry).where(AuditEntry.seq == 2).values(details='{"i":99}')
            )
        elif tamper == "delete_middle":
            await session.execute(delete(AuditEntry).where(AuditEntry.seq == 3))
        else:
            await session.execute(update(AuditEntry).where(AuditEntry.seq == 4).values(seq=100))
            await session.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(seq=4))
            await session.execute(update(AuditEntry).where(AuditEntry.seq == 100).values(seq=3))

    await database.write("tamper", change)
    result = await database.read("verify", verify_txn)
    assert not result.ok
    assert result.first_bad_seq in (2, 3)


def test_cli_audit_verify_fails_on_tampering(tmp_path: Path) -> None:
    env = {"LIENTHONG_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    cli = [sys.executable, "-m", "lienthong.cli"]
    for args in (["db", "upgrade"], ["demo"], ["audit", "verify"]):
        subprocess.run([*cli, *args], env=env, check=True, capture_output=True)
    import sqlite3

    with sqlite3.connect(tmp_path / "lienthong.db") as conn:
        conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1")
    out = subprocess.run([*cli, "audit", "verify"], env=env, capture_output=True, text=True)
    assert out.returncode == 1
    assert "BROKEN at entry 1" in out.stderr
