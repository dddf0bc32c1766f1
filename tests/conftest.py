"""Fixtures shared by every test: a migrated database on SQLite and on PostgreSQL, the app, people.

Each test that takes ``database`` runs twice, once per backend.  PostgreSQL tests run in a fresh
database cloned from a migrated template and dropped afterwards; when no PostgreSQL answers on
127.0.0.1:5432 they are skipped, except under CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from lienthong.app import MIGRATION_DIRS, create_app
from server.accounts.agencies import AgencyRow, import_rows_txn
from server.accounts.certificates import facts_of, register_txn
from server.accounts.passwords import hash_password
from server.accounts.tokens import create_token_txn
from server.accounts.users import create_user_txn, get_user_txn
from server.auth.principal import Role
from server.config import Config, load_config
from server.db import Database
from server.db.migrate import upgrade
from tests.hsm import token_pki  # noqa: F401  (a session fixture for every package's tests)

PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_ADMIN = f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/postgres"
PASSWORD = "correct-horse-9"


def pg_available() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


def require_pg() -> None:
    if not pg_available():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is required under CI but 127.0.0.1:5432 does not answer")
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")


async def _pg_exec(sql: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(user="postgres", host=PG_HOST, port=PG_PORT, database="postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _sync(coro: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine to the end from a session fixture, which may be set up inside a loop."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tmpl") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}", MIGRATION_DIRS)
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    require_pg()
    name = f"lt_tmpl_{uuid.uuid4().hex[:10]}"
    _sync(_pg_exec(f'CREATE DATABASE "{name}"'))
    try:
        upgrade(f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}", MIGRATION_DIRS)
        yield name
    finally:
        _sync(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


_counter = itertools.count()


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "lienthong.db"
        shutil.copy(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    template_name: str = request.getfixturevalue("pg_template")
    name = f"lt_t_{os.getpid()}_{next(_counter)}"
    await _pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    try:
        yield f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        await _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    yield db
    await db.close()


@pytest.fixture
def config(database_url: str, tmp_path: Path) -> Config:
    base = load_config(
        env={"LIENTHONG_DATA_DIR": str(tmp_path / "data"), "LIENTHONG_DATABASE_URL": database_url}
    )
    return replace(base, auth=replace(base.auth, max_failed_logins=3))


@pytest.fixture
async def app(config: Config, database: Database) -> web.Application:
    return create_app(config, database=database)


@pytest.fixture
async def client(
    app: web.Application,
    aiohttp_client: Callable[[web.Application], Awaitable[TestClient[Any, Any]]],
) -> TestClient[Any, Any]:
    return await aiohttp_client(app)


PROVINCE = "000.00.00.H98"
AGENCY_A = "000.00.10.H98"
AGENCY_B = "000.00.11.H98"

_PASSWORD_HASH = hash_password(PASSWORD)


@pytest.fixture
async def agencies(database: Database) -> list[str]:
    rows = [
        AgencyRow(PROVINCE, "UBND tỉnh Thử nghiệm", None, 1),
        AgencyRow(AGENCY_A, "Sở Nội vụ", PROVINCE, 2),
        AgencyRow(AGENCY_B, "Sở Tài chính", PROVINCE, 2),
    ]

    async def run(session: AsyncSession) -> None:
        await import_rows_txn(session, rows)

    await database.write("test_agencies", run)
    return [r.code for r in rows]


class People:
    """Makes officials and API tokens for tests."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, login: str, *roles: Role, agency: str = AGENCY_A, name: str = "") -> str:
        async def run(session: AsyncSession) -> None:
            await create_user_txn(
                session,
                login=login,
                full_name=name or f"Cán bộ {login}",
                agency_code=agency,
                roles=frozenset(roles),
                password_hash=_PASSWORD_HASH,
            )

        await self.db.write("test_user", run)
        return login

    async def certificate(self, login: str, pem: Path) -> None:
        """Register the certificate in ``pem`` (PEM or DER) to ``login``, approved, as an
        administrator would: only then may they sign with it (``signing.binding``)."""
        data = await asyncio.to_thread(pem.read_bytes)
        if data.startswith(b"-----"):
            from cryptography import x509
            from cryptography.hazmat.primitives.serialization import Encoding

            data = x509.load_pem_x509_certificate(data).public_bytes(Encoding.DER)
        facts = facts_of(data)

        async def run(session: AsyncSession) -> None:
            user = await get_user_txn(session, login)
            await register_txn(session, user, facts, status="approved", by=None)

        await self.db.write("test_certificate", run)

    async def token(self, login: str) -> str:
        async def run(session: AsyncSession) -> str:
            user = await get_user_txn(session, login)
            value, _row = await create_token_txn(session, user.id, name="test")
            return value

        return await self.db.write("test_token", run)


@pytest.fixture
async def people(database: Database, agencies: list[str]) -> People:
    return People(database)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
