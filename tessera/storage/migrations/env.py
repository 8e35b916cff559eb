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
        _run(_connection)
        _connection.commit()
    _engine.dispose()
else:
    asyncio.run(_run_async(_url))
