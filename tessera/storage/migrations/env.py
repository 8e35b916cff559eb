"""Alembic's environment: migrations on SQLite (pysqlite) and PostgreSQL (asyncpg) alike."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from tessera.storage.engine import async_url, configure_sqlite, ensure_sqlite_folder, is_sqlite
from tessera.storage.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `tessera migrate`")
_url = async_url(config.get_main_option("sqlalchemy.url") or "")
if is_sqlite(_url):
    ensure_sqlite_folder(_url)
    _engine = create_engine(_url)
    configure_sqlite(_engine)
    with _engine.connect() as _connection:
        # SQLite alters a table by rebuilding it: the old table's DROP must not trip the rows that refer
        # to it. Foreign keys are off for the migration (a PRAGMA that only works outside a transaction,
        # hence on the raw connection) and every reference is checked once it is done.
        _raw = _connection.connection.dbapi_connection
        assert _raw is not None
        _raw.execute("PRAGMA foreign_keys=OFF")
        _run(_connection)
        _connection.commit()
        _broken = _raw.execute("PRAGMA foreign_key_check").fetchall()
        if _broken:
            raise RuntimeError(f"the migration left rows whose references are broken: {_broken[:5]}")
    _engine.dispose()
else:
    asyncio.run(_run_async(_url))
