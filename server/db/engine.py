"""The async engine and :class:`Database`, the single labelled gateway for units of work.

Every unit of work runs as ``await db.write("register_incoming", fn)`` or ``db.read(...)``, where
``fn`` receives an :class:`AsyncSession` inside one transaction (synapse's ``runInteraction``).
Functions that run inside it are named ``*_txn`` by convention.

SQLite: WAL with synchronous=FULL (a commit survives a power cut), foreign keys on, a busy timeout, and write transactions opened with ``BEGIN
IMMEDIATE`` on a separate engine so that two writers queue on SQLite's lock instead of failing
with "database is locked" when a read lock would have to be upgraded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from server.errors import BadRequest, ServiceUnavailable
from server.secret import mask_url

T = TypeVar("T")
log = logging.getLogger(__name__)


class ValueOutOfRange(BadRequest):
    """A value the database cannot store or compare (an id past int32 on PostgreSQL, an integer
    past 64 bits on SQLite): the caller's input, never worth a 500.  Raised inside the unit of
    work, so nothing was committed."""

    code = "bad_value"


def _sqlite_engine(url: str, *, immediate: bool, echo: bool) -> AsyncEngine:
    pool: dict[str, Any] = {}
    if immediate:
        # One kept writer connection: opening one (and running its PRAGMAs) costs ~10 ms, more
        # than a small write transaction. Writers beyond it open an overflow connection and
        # queue on SQLite's lock (BEGIN IMMEDIATE + busy_timeout), as other processes do.
        pool = {"pool_size": 1, "max_overflow": 16, "pool_timeout": 30}
    engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30}, **pool)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        # SQLite's own lower() folds ASCII only ("ĐÊ" stays "ĐÊ"); Vietnamese searches need the
        # Unicode rules PostgreSQL applies, so the connection's lower() is Python's.
        dbapi_conn.create_function("lower", 1, _unicode_lower, deterministic=True)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        # FULL: a commit (a vote, a received document) survives a power cut, not only a crash
        # of the process; in WAL mode it costs one fsync per commit (~0.25 ms on this disk).
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    begin_sql = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin_sql)

    return engine


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


class Database:
    """Owns the engines; opened at start-up, disposed at shutdown."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        if self.dialect == "sqlite":
            self.engine = _sqlite_engine(url, immediate=False, echo=echo)
            self._write_engine = _sqlite_engine(url, immediate=True, echo=echo)
        else:
            # No pool_pre_ping: it cost a round trip before every transaction (~6 per
            # exchanged document). A connection found dead instead fails its one transaction
            # (answered 503 by ``_run``); SQLAlchemy then invalidates the whole pool (every
            # connection opened before the failure is replaced at its next checkout), so a
            # restarted PostgreSQL costs one failed request, not one per pooled connection.
            # pool_recycle retires connections that idled past a firewall's or proxy's timeout.
            self.engine = create_async_engine(
                url, echo=echo, pool_size=10, max_overflow=20, pool_recycle=1800
            )
            self._write_engine = self.engine
        self._read = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write = async_sessionmaker(self._write_engine, expire_on_commit=False)
        # One statement is atomic by itself: on PostgreSQL it runs without BEGIN and COMMIT,
        # one round trip instead of three (per request for the API token, for instance).
        self._single = (
            self._read
            if self.dialect == "sqlite"
            else async_sessionmaker(
                self.engine.execution_options(isolation_level="AUTOCOMMIT"),
                expire_on_commit=False,
            )
        )

    def __repr__(self) -> str:
        return f"Database({mask_url(self.url)!r})"

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    async def write(self, desc: str, fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``fn`` in one read-write transaction, committed when it returns."""
        return await self._run(self._write, desc, fn)

    async def read(self, desc: str, fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``fn`` in one transaction meant for reading (a deferred BEGIN on SQLite)."""
        return await self._run(self._read, desc, fn)

    async def read_one(self, desc: str, fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``fn``, which reads with exactly one statement, outside an explicit transaction
        on PostgreSQL (autocommit: the statement is its own transaction, so it sees one
        snapshot); as :meth:`read` on SQLite. ``fn`` must not write."""
        return await self._run(self._single, desc, fn)

    async def _run(
        self,
        maker: async_sessionmaker[AsyncSession],
        desc: str,
        fn: Callable[[AsyncSession], Awaitable[T]],
    ) -> T:
        start = time.perf_counter()
        try:
            async with maker() as session, session.begin():
                # A read transaction commits nothing it did not write; committing rather than
                # rolling back keeps the loaded objects usable after the transaction.
                return await fn(session)
        except OverflowError as exc:  # sqlite3 binding an int past 64 bits
            raise _out_of_range(desc, exc) from exc
        except (DBAPIError, OSError) as exc:
            if isinstance(exc, DBAPIError) and _is_bad_value(exc):
                raise _out_of_range(desc, exc) from exc
            # integrity errors and the like are bugs or races the caller must handle
            if (
                isinstance(exc, DBAPIError)
                and not exc.connection_invalidated
                and not _is_connection_problem(exc)
            ):
                raise
            log.error("database unavailable during %s: %s", desc, exc.__class__.__name__)
            raise ServiceUnavailable(
                "The database is unavailable.",
                detail_vi="Cơ sở dữ liệu tạm thời không truy cập được.",
            ) from exc
        finally:
            log.debug("txn %s took %.1f ms", desc, (time.perf_counter() - start) * 1000)

    async def ping(self) -> bool:
        """True when the database answers ``SELECT 1``."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def close(self) -> None:
        await self.engine.dispose()
        if self._write_engine is not self.engine:
            await self._write_engine.dispose()


def _is_connection_problem(exc: DBAPIError) -> bool:
    name = type(exc.orig).__name__ if exc.orig is not None else ""
    return any(s in name for s in ("Connection", "CannotConnect", "InterfaceError")) or (
        "unable to open database" in str(exc.orig)
    )


def _is_bad_value(exc: DBAPIError) -> bool:
    """A number PostgreSQL cannot take: asyncpg refusing to encode an argument (``value out of
    int32 range``, its ``DataError``) or the server's ``numeric_value_out_of_range`` (22003)."""
    cause = exc.orig.__cause__ if exc.orig is not None else None
    state = getattr(exc.orig, "sqlstate", None) or getattr(cause, "sqlstate", None)
    return state == "22003" or type(cause).__name__ == "DataError"


def _out_of_range(desc: str, exc: Exception) -> ValueOutOfRange:
    log.warning("value out of range during %s: %s", desc, exc.__class__.__name__)
    return ValueOutOfRange(
        "A value is out of range.", detail_vi="Giá trị gửi lên vượt quá giới hạn cho phép."
    )
