"""Migration 0011 adds the risk controls' tables and columns to a database with merchants and payments, and
its downgrade removes them again, keeping every row."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tessera.storage.migrate import downgrade, upgrade

WHEN = "2026-11-28 10:00:00.000000"


def test_migration_0011_adds_the_risk_tables_and_columns_and_back(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    upgrade(url, "0010")
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO merchants (id, name, status, allowed_domains, created_at) "
            "VALUES ('m1', 'S', 'active', '[]', ?)",
            (WHEN,),
        )
    upgrade(url)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT allowed_ips, charges, risk_summary FROM merchants").fetchone() == (None,) * 3
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"risk_blocklist", "risk_rules", "risk_counters"} <= tables
        conn.execute(
            "INSERT INTO risk_blocklist VALUES ('blk_1', 'm1', 'test', 'bin', '424242', 'bin:424242', ?)", (WHEN,)
        )
    downgrade(url, "0010")
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        merchant_columns = {r[1] for r in conn.execute("PRAGMA table_info(merchants)")}
        payment_columns = {r[1] for r in conn.execute("PRAGMA table_info(payments)")}
        assert conn.execute("SELECT count(*) FROM merchants").fetchone() == (1,)
    assert not tables & {"risk_blocklist", "risk_rules", "risk_counters"}
    assert not merchant_columns & {"allowed_ips", "charges", "risk_summary"} and "fee" not in payment_columns
