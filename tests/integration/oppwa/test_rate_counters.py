"""The rate counters behind OPPWA's status limit (migration 0015, `core.risk.admit`), on both databases:
concurrent requests never pass the limit, a new window starts afresh, the worker's purge drops ended
windows only, and the migration comes and goes."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from tessera.bootstrap import Container
from tessera.core.risk import service as risk
from tessera.storage.migrate import downgrade, upgrade


async def test_twenty_concurrent_requests_admit_exactly_the_limit(container: Container) -> None:
    calls = [container.services.risk.admit("oppwa:status:pay_x", limit=2, window_seconds=3600) for _ in range(20)]
    assert sorted(await asyncio.gather(*calls)) == [False] * 18 + [True] * 2
    assert await container.services.risk.admit("oppwa:status:pay_y", limit=2, window_seconds=3600)


async def test_a_new_window_starts_afresh_and_the_purge_drops_only_ended_windows(container: Container) -> None:
    start = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
    later = datetime(2026, 11, 28, 12, 1, 0, tzinfo=UTC)
    admit = risk.admit
    assert [await admit("k", limit=1, window_seconds=60, uow=container.uow, now=start) for _ in range(2)] == [
        True,
        False,
    ]
    assert await admit("k", limit=1, window_seconds=60, uow=container.uow, now=later)
    assert await risk.purge_counters(uow=container.uow, now=later) == 1  # the 12:00 window, not the 12:01 one
    assert not await admit("k", limit=1, window_seconds=60, uow=container.uow, now=later)


def test_migration_0015_adds_the_rate_counters_and_back(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO rate_counters VALUES ('k', 60, 120, 1)")
    downgrade(url, "0014")
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "rate_counters" not in tables and "risk_counters" in tables
    upgrade(url)
