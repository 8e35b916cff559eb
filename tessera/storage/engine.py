"""Database engines: URL handling, SQLite's durability pragmas, and write transactions.

SQLite runs in WAL mode with `synchronous=FULL`, foreign keys and a busy timeout. Its writers are
serialised twice over: `BEGIN IMMEDIATE` takes the database's write lock at the start of a write
transaction (so two processes never deadlock upgrading a read lock), and within one process an
asyncio lock queues writers so they wait without polling SQLite's busy handler.
PostgreSQL uses asyncpg and row locks (`SELECT ... FOR UPDATE`) instead.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

WRITE = "tessera_write"


def async_url(url: str) -> str:
    """Accept plain `postgresql://` and `sqlite:///` URLs and pick the async drivers."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


@dataclass
class Database:
    engine: AsyncEngine
    sqlite: bool
    write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def dispose(self) -> None:
        await self.engine.dispose()


def create_database(url: str, *, pool_size: int = 20) -> Database:
    full = async_url(url)
    if is_sqlite(full):
        database = make_url(full).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(full, pool_size=8, max_overflow=8)
        _configure_sqlite(engine)
        return Database(engine, sqlite=True)
    engine = create_async_engine(full, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False)
    return Database(engine, sqlite=False)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
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

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")
