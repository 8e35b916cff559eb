"""Alembic's environment: runs migrations on the async engine for SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from tessera.storage.engine import create_database
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


async def _run_async() -> None:
    db = create_database(config.get_main_option("sqlalchemy.url") or "")
    # Migrations manage their own transaction; skip our BEGIN IMMEDIATE handling.
    async with db.engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await db.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `tessera migrate`")
asyncio.run(_run_async())
