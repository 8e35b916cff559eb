"""Migration 0013 scopes every blocklist entry's match key with its merchant and mode, so that the key is
unique by itself, and its downgrade takes the scope off again, keeping every entry."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tessera.storage.migrate import downgrade, upgrade

WHEN = "2026-11-28 10:00:00.000000"


def test_migration_0013_scopes_each_match_key_with_its_merchant_and_mode_and_back(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    upgrade(url, "0012")
    with sqlite3.connect(path) as conn:
        for merchant in ("m1", "m2"):
            conn.execute(
                "INSERT INTO merchants (id, name, status, allowed_domains, created_at) "
                "VALUES (?, 'S', 'active', '[]', ?)",
                (merchant, WHEN),
            )
        # The same BIN listed by two merchants, and by one of them in both modes.
        for entry_id, merchant, mode in (("blk_1", "m1", "test"), ("blk_2", "m2", "test"), ("blk_3", "m1", "live")):
            conn.execute(
                "INSERT INTO risk_blocklist VALUES (?, ?, ?, 'bin', '424242', 'bin:424242', ?)",
                (entry_id, merchant, mode, WHEN),
            )
    upgrade(url)
    with sqlite3.connect(path) as conn:
        keys = dict(conn.execute("SELECT id, match_key FROM risk_blocklist").fetchall())
        assert keys == {"blk_1": "m1:test:bin:424242", "blk_2": "m2:test:bin:424242", "blk_3": "m1:live:bin:424242"}
        with pytest.raises(sqlite3.IntegrityError):  # unique on its own now
            conn.execute(
                "INSERT INTO risk_blocklist VALUES ('blk_4', 'm1', 'test', 'bin', '424242', 'm1:test:bin:424242', ?)",
                (WHEN,),
            )
    downgrade(url, "0012")
    with sqlite3.connect(path) as conn:
        keys = dict(conn.execute("SELECT id, match_key FROM risk_blocklist").fetchall())
    assert keys == {"blk_1": "bin:424242", "blk_2": "bin:424242", "blk_3": "bin:424242"}
