"""Database engines: URL handling, SQLite's durability pragmas, and one async connection interface.

PostgreSQL runs on SQLAlchemy's async engine with asyncpg, and row locks (`SELECT ... FOR UPDATE`).

SQLite runs on SQLAlchemy's synchronous pysqlite engine, called directly on the event loop. A SQLite
statement takes microseconds in-process, while every hop to aiosqlite's worker thread cost about
0.2 ms (several per statement): measured, direct calls made a payment about 3x cheaper. Only a
commit's fsync (about 0.25 ms here) and a wait for another *process's* write lock block the loop.
SQLite runs in WAL mode with `synchronous=FULL`, foreign keys and a busy timeout. Within one process,
every write transaction goes through `GroupCommitter` (one writer connection, writers queued on the
loop, one fsync per batch); `BEGIN IMMEDIATE` takes the database's write lock at the start of a batch,
so two processes never deadlock upgrading a read lock.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

import orjson
from sqlalchemy import Connection, Engine, Select, create_engine, event
from sqlalchemy.engine import CursorResult, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from tessera.storage.group_commit import GroupCommitter, WriteTransaction
from tessera.storage.prepared import Writable, compile_read, compile_write, run_read, run_write

WRITE = "tessera_write"
T = TypeVar("T")


def async_url(url: str) -> str:
    """Accept plain `postgresql://` URLs and pick asyncpg."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif parsed.drivername == "sqlite+aiosqlite":
        parsed = parsed.set(drivername="sqlite")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def ensure_sqlite_folder(url: str) -> None:
    """SQLite creates its file but not the folders above it."""
    database = make_url(url).database
    if is_sqlite(url) and database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


class Conn(Protocol):
    """What repositories and queries need of a connection, on either database."""

    async def execute(self, statement: Any, parameters: Any = None) -> CursorResult[Any]: ...
    async def driver_rows(self, sql: str, parameters: dict[str, Any]) -> list[Any]:
        """Rows of `sql` (`:name` parameters) run by the driver in this transaction, without SQLAlchemy's
        compilation and result set-up: for the few hot statements where those were measured to cost more
        than the statement (a text statement with RETURNING builds its result metadata anew each time)."""
        ...

    async def write(self, statement: Writable, rows: dict[str, Any] | list[dict[str, Any]]) -> int:
        """Run a hot-path write (`storage.prepared`) for one row or several, in this transaction; returns
        the rows affected. The same SQL, values and errors as `execute`, at a fraction of its cost."""
        ...

    async def read(self, statement: Select[Any], parameters: dict[str, Any]) -> list[Any]:
        """The rows of a hot-path SELECT (`storage.prepared`), converted as `execute` converts them, with
        attribute access and `_mapping`; at a fraction of `execute`'s cost."""
        ...

    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...
    def in_transaction(self) -> bool: ...
    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T: ...


class _InlineConnection:
    """A synchronous SQLAlchemy connection behind the async interface, run on the calling thread."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def execute(self, statement: Any, parameters: Any = None) -> CursorResult[Any]:
        if parameters is None:
            return self._conn.execute(statement)
        return self._conn.execute(statement, parameters)

    async def driver_rows(self, sql: str, parameters: dict[str, Any]) -> list[Any]:
        # sqlite3 takes `:name` parameters as they are; the transaction is the one SQLAlchemy began (BEGIN
        # is issued explicitly on this connection, see `_on_begin`).
        driver = self._conn.connection.driver_connection
        assert driver is not None
        return list(driver.execute(sql, parameters).fetchall())

    async def write(self, statement: Writable, rows: dict[str, Any] | list[dict[str, Any]]) -> int:
        return _cursor_write(self._conn, statement, rows)

    async def read(self, statement: Select[Any], parameters: dict[str, Any]) -> list[Any]:
        return _cursor_read(self._conn, statement, parameters)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    def in_transaction(self) -> bool:
        return self._conn.in_transaction()

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        return fn(self._conn, *args)


class _AsyncConnection:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def execute(self, statement: Any, parameters: Any = None) -> CursorResult[Any]:
        if parameters is None:
            result: CursorResult[Any] = await self._conn.execute(statement)
            return result
        result = await self._conn.execute(statement, parameters)
        return result

    async def driver_rows(self, sql: str, parameters: dict[str, Any]) -> list[Any]:
        # On the DBAPI cursor of SQLAlchemy's asyncpg adapter, as `$n` positional parameters: the adapter
        # begins the transaction if this is its first statement and keeps its prepared statements, while
        # `exec_driver_sql` spent as much again on its execution context and result set-up (145 against 290
        # µs of this process's CPU for the velocity count, measured in a loop of write transactions).
        positional, names = _numbered(sql)
        values = tuple(parameters[name] for name in names)
        return await self._conn.run_sync(_cursor_rows, positional, values)

    async def write(self, statement: Writable, rows: dict[str, Any] | list[dict[str, Any]]) -> int:
        # On the adapter's DBAPI cursor, as `driver_rows`: it begins the transaction if this is its first
        # statement and reuses its prepared statement.
        return await self._conn.run_sync(_cursor_write, statement, rows)

    async def read(self, statement: Select[Any], parameters: dict[str, Any]) -> list[Any]:
        return await self._conn.run_sync(_cursor_read, statement, parameters)

    async def commit(self) -> None:
        await self._conn.commit()

    async def rollback(self) -> None:
        await self._conn.rollback()

    def in_transaction(self) -> bool:
        return self._conn.in_transaction()

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._conn.run_sync(fn, *args)


def _cursor(conn: Connection) -> contextlib.closing[Any]:
    """A cursor of `conn`'s DBAPI connection, in its transaction, closed after use."""
    return contextlib.closing(conn.connection.dbapi_connection.cursor())  # type: ignore[union-attr]


def _cursor_rows(conn: Connection, sql: str, values: tuple[Any, ...]) -> list[Any]:
    """Rows of `sql` on `conn`'s DBAPI connection, in its transaction (run in SQLAlchemy's greenlet)."""
    with _cursor(conn) as cursor:
        cursor.execute(sql, values)
        return list(cursor.fetchall())


def _cursor_write(conn: Connection, statement: Writable, rows: dict[str, Any] | list[dict[str, Any]]) -> int:
    """`statement` for one row or several on `conn`'s DBAPI connection (see `storage.prepared`)."""
    rows = [rows] if isinstance(rows, dict) else rows
    compiled = compile_write(statement, conn.dialect, tuple(rows[0]))
    with _cursor(conn) as cursor:
        return run_write(cursor, compiled, rows, conn.dialect)


def _cursor_read(conn: Connection, statement: Select[Any], parameters: dict[str, Any]) -> list[Any]:
    """`statement`'s rows on `conn`'s DBAPI connection, in its transaction (see `storage.prepared`)."""
    with _cursor(conn) as cursor:
        return run_read(cursor, compile_read(statement, conn.dialect), parameters, conn.dialect)


_NAMED = re.compile(r"(?<![:\w]):(\w+)")


@lru_cache(maxsize=256)
def _numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """`sql` with its `:name` parameters as PostgreSQL's `$1, $2, ...`, and the names in that order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return _NAMED.sub(number, sql), tuple(names)


class _GroupConnection(_InlineConnection):
    """A SQLite write transaction's connection: commit joins the group commit."""

    def __init__(self, txn: WriteTransaction) -> None:
        super().__init__(txn.connection)
        self._txn = txn

    async def commit(self) -> None:
        await self._txn.commit()

    async def rollback(self) -> None:
        await self._txn.rollback()

    def in_transaction(self) -> bool:
        return not self._txn.finished


@dataclass
class Database:
    url: str
    sqlite: bool
    sync_engine: Engine | None = None
    async_engine: AsyncEngine | None = None
    committer: GroupCommitter | None = None

    @contextlib.asynccontextmanager
    async def connect(self, *, write: bool = False) -> AsyncIterator[Conn]:
        """A connection inside a transaction, rolled back unless committed. On SQLite, every write
        goes through the group committer (one writer connection per process); reads use the pool.
        PostgreSQL locks rows instead."""
        if self.committer is not None and write:
            async with self.committer.transaction() as txn:
                yield _GroupConnection(txn)
            return
        if self.sync_engine is not None:
            with self.sync_engine.connect() as sync:
                sync.begin()
                yield _InlineConnection(sync)
            return
        assert self.async_engine is not None
        async with self.async_engine.connect() as conn:
            await conn.begin()
            yield _AsyncConnection(conn)

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[Conn]:
        """A write transaction that commits when the block ends without an error."""
        async with self.connect(write=True) as conn:
            yield conn
            await conn.commit()

    async def dispose(self) -> None:
        if self.committer is not None:
            await self.committer.close()
        if self.sync_engine is not None:
            self.sync_engine.dispose()
        if self.async_engine is not None:
            await self.async_engine.dispose()


def json_text(value: Any) -> str:
    """A JSON column's text. orjson writes it in a fraction of the standard library's time (a payment
    writes about fifteen JSON values); what orjson refuses (integers beyond 64 bits, keys that are not
    text) is written by the standard library instead. Both give JSON that reads back to the same value;
    orjson's is compact and keeps non-ASCII characters as UTF-8 rather than escaping them."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


def create_database(url: str, *, pool_size: int = 40) -> Database:
    """The database at `url`. On PostgreSQL, `pool_size` connections per process at most, each kept open
    once made: with an overflow beyond a smaller pool, SQLAlchemy closes an overflow connection when it is
    returned to a full pool, and under load that reopened a backend every 40-65 payments (each a new
    PostgreSQL process whose statements are prepared again), some 10% of a one-call payment's throughput
    at c=64 on two processes (docs/benchmarks.md)."""
    full = async_url(url)
    if is_sqlite(full):
        ensure_sqlite_folder(full)
        engine = create_engine(
            full, pool_size=8, max_overflow=8, connect_args={"check_same_thread": False}, json_serializer=json_text
        )
        configure_sqlite(engine)
        return Database(full, sqlite=True, sync_engine=engine, committer=GroupCommitter(engine, {WRITE: True}))
    async_engine = create_async_engine(full, pool_size=pool_size, max_overflow=0, json_serializer=json_text)
    return Database(full, sqlite=False, async_engine=async_engine)


def configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (pysqlite's own transaction handling defers it).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=FULL",
            "PRAGMA foreign_keys=ON",
            "PRAGMA busy_timeout=10000",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")
