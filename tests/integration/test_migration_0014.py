"""Migration 0014 gives every velocity counter the end of its window (its rule's window after its start; at
once for a counter whose rule is gone), and its downgrade drops it again, keeping every counter."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tessera.storage.migrate import downgrade, upgrade

WHEN = "2026-11-28 10:00:00.000000"


def test_migration_0014_sets_each_counters_window_end_and_back(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    upgrade(url, "0013")
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO merchants (id, name, status, allowed_domains, created_at) "
            "VALUES ('m1', 'S', 'active', '[]', ?)",
            (WHEN,),
        )
        conn.execute(
            'INSERT INTO risk_rules (id, merchant_id, mode, "key", metric, "limit", window_seconds, created_at) '
            "VALUES ('rrl_1', 'm1', 'test', 'card', 'count', 3, 3600, ?)",
            (WHEN,),
        )
        conn.execute("INSERT INTO risk_counters VALUES ('rrl_1', 'a', 7200, 2), ('rrl_gone', 'b', 7200, 1)")
    upgrade(url)
    with sqlite3.connect(path) as conn:
        ends = dict(conn.execute("SELECT rule_id, ends_at FROM risk_counters").fetchall())
    assert ends == {"rrl_1": 7200 + 3600, "rrl_gone": 7200}
    downgrade(url, "0013")
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT * FROM risk_counters ORDER BY rule_id").fetchall()
    assert rows == [("rrl_1", "a", 7200, 2), ("rrl_gone", "b", 7200, 1)]
