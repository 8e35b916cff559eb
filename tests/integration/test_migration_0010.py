"""Migration 0010 on a database with keys in flight: a key claimed before the upgrade has no recovery
point, so its lease is its expiry (as before: a retry could otherwise charge twice); the downgrade
drops the lease columns."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tessera.storage.migrate import downgrade, upgrade

WHEN = "2026-12-01 10:00:00.000000"
EXPIRES = "2026-12-02 10:00:00.000000"


def test_migration_0010_gives_keys_in_flight_their_expiry_as_lease_and_back(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    upgrade(url, "0009")
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO idempotency_keys (merchant_id, mode, key, fingerprint, state, created_at, expires_at) "
            "VALUES ('m1', 'test', 'k1', 'fp', 'in_progress', ?, ?)",
            (WHEN, EXPIRES),
        )
    upgrade(url)
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT state, claim, locked_until, resource_id FROM idempotency_keys").fetchone()
    assert row == ("in_progress", None, EXPIRES, None)
    downgrade(url, "0009")
    with sqlite3.connect(path) as conn:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(idempotency_keys)")}
        assert conn.execute("SELECT count(*) FROM idempotency_keys").fetchone() == (1,)
    assert not columns & {"claim", "locked_until", "resource_id"}
