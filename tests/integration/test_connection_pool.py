"""PostgreSQL's connection pool (`storage.engine.create_database`): a process opens at most `pool_size`
connections and keeps each one open, so load does not close and reopen backends."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from tessera.storage.engine import Database, create_database
from tests.conftest import Backend

POOL = 6


async def _burst(db: Database, concurrent: int) -> int:
    """`concurrent` units of work holding a connection at once; the most backends of this database seen
    open meanwhile (each counts the database's sessions while all are holding theirs)."""
    all_in = asyncio.Barrier(min(concurrent, POOL))
    seen: list[int] = []

    async def hold() -> None:
        async with db.connect() as conn:
            if len(seen) < POOL:
                await all_in.wait()
            query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            seen.append(int((await conn.execute(text(query))).scalar_one()))
            await asyncio.sleep(0.05)

    await asyncio.gather(*(hold() for _ in range(concurrent)))
    return max(seen)


async def _sessions(db: Database) -> int:
    """How many sessions PostgreSQL has opened on this database so far (`pg_stat_database.sessions`)."""
    async with db.connect() as conn:
        await conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        query = "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
        return int((await conn.execute(text(query))).scalar_one())


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # SQLite has no server connections to pool
async def test_a_process_keeps_its_connections_open_and_opens_no_more_than_its_pool(backend: Backend) -> None:
    db = create_database(backend.url, pool_size=POOL)
    try:
        assert await _burst(db, POOL) == POOL  # the pool filled to its size
        opened = await _sessions(db)
        for _ in range(3):
            # Twice the pool's size at once: the extra units of work wait for a connection instead of opening
            # one, and every connection is reused, so PostgreSQL sees no new session.
            assert await _burst(db, 2 * POOL) <= POOL
        assert await _sessions(db) == opened
    finally:
        await db.dispose()
