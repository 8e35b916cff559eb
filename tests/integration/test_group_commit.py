"""SQLite's group commit: batches form under concurrency, each transaction stays all-or-nothing, and no
commit returns before its batch is on disk (visible to a separate connection)."""

from __future__ import annotations

import asyncio
import base64
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from tessera.storage import tables as t
from tessera.storage.engine import Database, create_database
from tessera.storage.migrate import upgrade
from tests.conftest import Backend


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite:///{tmp_path / 'gc.db'}"
    upgrade(url)
    database = create_database(url)
    yield database
    await database.dispose()


def _event(i: int) -> dict[str, object]:
    from tessera.core.clock import utcnow

    return {
        "id": f"evt_{i}",
        "sequence": i,
        "merchant_id": "m",
        "mode": "test",
        "type": "x",
        "payment_id": None,
        "data": {},
        "created_at": utcnow(),
    }


def _committed_ids(path: str) -> set[str]:
    """What a separate connection (another process, after a crash) would find on disk."""
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM events")}


async def _write(db: Database, i: int, *, fail: bool = False) -> str:
    async with db.connect(write=True) as conn:
        await conn.execute(insert(t.events), _event(i))
        await asyncio.sleep(0)  # let others queue behind us, as real requests do
        if fail:
            raise RuntimeError("boom")
        await conn.commit()
    return "durable" if f"evt_{i}" in _committed_ids(db.url.removeprefix("sqlite:///")) else "missing"


async def test_concurrent_writers_share_fsyncs_and_each_is_durable_when_commit_returns(db: Database) -> None:
    assert db.committer is not None
    results = await asyncio.gather(*(_write(db, i) for i in range(50)))
    assert results == ["durable"] * 50
    assert db.committer.commits == 50
    assert db.committer.batches < 50  # batches really formed


async def test_a_failing_writer_rolls_back_alone(db: Database) -> None:
    outcomes = await asyncio.gather(*(_write(db, i, fail=(i % 3 == 0)) for i in range(12)), return_exceptions=True)
    failed = {i for i, o in enumerate(outcomes) if isinstance(o, RuntimeError)}
    assert failed == {0, 3, 6, 9}
    on_disk = _committed_ids(db.url.removeprefix("sqlite:///"))
    assert on_disk == {f"evt_{i}" for i in range(12) if i not in failed}


async def test_a_cancelled_writer_leaves_no_trace_and_does_not_block_others(db: Database) -> None:
    started = asyncio.Event()

    async def slow() -> None:
        async with db.connect(write=True) as conn:
            await conn.execute(insert(t.events), _event(1000))
            started.set()
            await asyncio.sleep(10)
            await conn.commit()

    task = asyncio.create_task(slow())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.wait_for(_write(db, 1), 2) == "durable"
    assert "evt_1000" not in _committed_ids(db.url.removeprefix("sqlite:///"))


async def test_reads_see_only_committed_batches(db: Database) -> None:
    async with db.connect(write=True) as conn:
        await conn.execute(insert(t.events), _event(7))
        async with db.connect() as reader:
            assert (await reader.execute(select(t.events.c.id))).all() == []
        await conn.commit()
    async with db.connect() as reader:
        assert [r.id for r in await reader.execute(select(t.events.c.id))] == ["evt_7"]


def test_migrating_a_sqlite_file_in_a_folder_that_does_not_exist_yet_creates_it(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "x.db"
    upgrade(f"sqlite:///{path}")
    assert path.exists()


def test_migrating_numbers_the_events_already_written_per_merchant_and_mode(tmp_path: Path) -> None:
    from tessera.storage.migrate import upgrade as migrate_to

    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    migrate_to(url, "0004")
    with sqlite3.connect(path) as conn:
        for i, (merchant, mode) in enumerate([("m1", "test"), ("m2", "test"), ("m1", "test"), ("m1", "live")]):
            conn.execute(
                "INSERT INTO events (id, merchant_id, mode, type, data, created_at) VALUES (?, ?, ?, 'x', '{}', ?)",
                (f"evt_{i}", merchant, mode, "2026-11-21 10:00:00.000000"),
            )
    migrate_to(url)
    with sqlite3.connect(path) as conn:
        numbered = conn.execute("SELECT id, sequence FROM events ORDER BY seq").fetchall()
        counters = sorted(conn.execute("SELECT merchant_id, mode, last_sequence FROM event_sequences").fetchall())
    assert numbered == [("evt_0", 1), ("evt_1", 1), ("evt_2", 2), ("evt_3", 1)]
    assert counters == [("m1", "live", 1), ("m1", "test", 2), ("m2", "test", 1)]


async def test_the_migrations_build_exactly_the_schema_the_code_declares(backend: Backend) -> None:
    """Alembic's comparison of the migrated database with `tables.py` finds nothing to add or change."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy.ext.asyncio import create_async_engine

    if backend.pg_database:
        url = backend.url.replace("postgresql://", "postgresql+asyncpg://")
    else:
        url = backend.url.replace("sqlite://", "sqlite+aiosqlite://")
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), t.metadata)
            )
    finally:
        await engine.dispose()
    assert differences == []


def test_migrating_keeps_a_url_safe_webhook_secrets_bytes_in_standard_base64(tmp_path: Path) -> None:
    from tessera.storage.migrate import upgrade as migrate_to

    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    migrate_to(url, "0005")
    raw = bytes(range(250, 256)) + bytes(range(0, 18))
    old = "whsec_" + base64.urlsafe_b64encode(raw).decode()
    assert "-" in old or "_" in old[6:]
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO merchants (id, name, status, allowed_domains, webhook_secret, created_at) "
            "VALUES ('m1', 'Old', 'active', '[]', ?, '2026-11-21 10:00:00.000000')",
            (old,),
        )
    migrate_to(url)
    with sqlite3.connect(path) as conn:
        [(secret,)] = conn.execute("SELECT webhook_secret FROM merchants").fetchall()
    assert secret.startswith("whsec_") and base64.b64decode(secret[6:], validate=True) == raw


def test_migrating_gives_merchants_that_had_a_callback_url_their_callback_endpoints(tmp_path: Path) -> None:
    from tessera.storage.migrate import upgrade as migrate_to

    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    migrate_to(url, "0005")
    with sqlite3.connect(path) as conn:
        for merchant, callback in (("m1", "https://shop.example/cb"), ("m2", None)):
            conn.execute(
                "INSERT INTO merchants (id, name, status, allowed_domains, callback_url, webhook_secret, created_at) "
                "VALUES (?, 'Old', 'active', '[]', ?, 'whsec_AAAA', '2026-11-21 10:00:00.000000')",
                (merchant, callback),
            )
            for mode in ("test", "live"):
                conn.execute(
                    "INSERT INTO api_keys (id, merchant_id, mode, kind, client_id, key_hash, prefix, created_at) "
                    "VALUES (?, ?, ?, 'secret', 'c', ?, 'sk', '2026-11-21 10:00:00.000000')",
                    (f"k_{merchant}_{mode}", merchant, mode, f"h_{merchant}_{mode}"),
                )
    migrate_to(url)
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT merchant_id, mode, kind, url, secret, status FROM webhook_endpoints ORDER BY mode"
        ).fetchall()
    assert rows == [
        ("m1", "live", "callback", "https://shop.example/cb", "whsec_AAAA", "enabled"),
        ("m1", "test", "callback", "https://shop.example/cb", "whsec_AAAA", "enabled"),
    ]


def test_migration_0019_keeps_event_numbers_and_going_back_numbers_the_unnumbered(tmp_path: Path) -> None:
    from tessera.storage.migrate import downgrade
    from tessera.storage.migrate import upgrade as migrate_to

    path = tmp_path / "events.db"
    url = f"sqlite:///{path}"
    migrate_to(url, "0018")
    insert = (
        "INSERT INTO events (id, merchant_id, mode, type, data, created_at, sequence) VALUES (?, ?, ?, 'x', '{}', ?, ?)"
    )
    with sqlite3.connect(path) as conn:
        conn.execute(insert, ("evt_old", "m1", "test", "2026-11-29 10:00:00.000000", 1))
        conn.execute("INSERT INTO event_sequences (merchant_id, mode, last_sequence) VALUES ('m1', 'test', 1)")
    migrate_to(url)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT sequence FROM events").fetchall() == [(1,)]  # kept
        for i, merchant in enumerate(["m1", "m2", "m1"]):  # written by the new code: no number yet
            conn.execute(insert, (f"evt_{i}", merchant, "test", "2026-11-29 10:00:01.000000", None))
    downgrade(url, "0018")
    with sqlite3.connect(path) as conn:
        numbered = conn.execute("SELECT id, sequence FROM events ORDER BY seq").fetchall()
        counters = sorted(conn.execute("SELECT merchant_id, mode, last_sequence FROM event_sequences").fetchall())
    assert numbered == [("evt_old", 1), ("evt_0", 2), ("evt_1", 1), ("evt_2", 3)]
    assert counters == [("m1", "test", 3), ("m2", "test", 1)]
