"""Migration 0009 on a database with data: seed 000's order columns become the EximPe channel's data,
the reference stays unique, rebills become merchant-initiated, nothing is lost or left dangling, and
the downgrade puts the columns back."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tessera.storage.migrate import downgrade, upgrade

WHEN = "2026-11-21 10:00:00.000000"


def _payment(conn: sqlite3.Connection, id_: str, **extra: object) -> None:
    values = {
        "id": id_,
        "merchant_id": "m1",
        "mode": "test",
        "status": "captured",
        "amount": 1000,
        "currency": "INR",
        "capture_method": "automatic",
        "card_bin": "424242",
        "card_last4": "4242",
        "card_brand": "visa",
        "card_exp_month": 12,
        "card_exp_year": 2030,
        "processor": "sandbox",
        "created_at": WHEN,
        "updated_at": WHEN,
        **extra,
    }
    names = ", ".join(values)
    conn.execute(f"INSERT INTO payments ({names}) VALUES ({', '.join('?' for _ in values)})", tuple(values.values()))
    conn.execute(
        "INSERT INTO operations (id, payment_id, merchant_id, type, amount, status, created_at, updated_at) "
        "VALUES (?, ?, 'm1', 'DB', 1000, 'succeeded', ?, ?)",
        (f"op_{id_}", id_, WHEN, WHEN),
    )


def test_migration_0009_moves_seed_000_orders_into_channel_data_and_back(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    upgrade(url, "0008")
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO merchants (id, name, status, allowed_domains, webhook_secret, created_at) "
            "VALUES ('m1', 'Old', 'active', '[]', 'whsec_AAAA', ?)",
            (WHEN,),
        )
        details = {"collection_mode": "s2s", "product": {"name": "Tea"}}
        _payment(
            conn,
            "pay_order",
            mop_type="debit_card",
            order_reference="ORD-1",
            order_details=json.dumps(details),
            processor_ref="sbx_1",
        )
        _payment(conn, "pay_native", processor_ref="sbx_2")
        _payment(conn, "pay_rebill", original_payment_id="pay_native", processor_ref="sbx_3")
    upgrade(url)
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        rows = {r["id"]: r for r in conn.execute("SELECT * FROM payments")}
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        operations = conn.execute("SELECT count(*) FROM operations").fetchone()[0]
        attempt_budget = conn.execute("SELECT attempt_budget FROM merchants").fetchone()[0]
    order = rows["pay_order"]
    assert order["channel"] == "eximpe" and order["unique_reference"] == "ORD-1"
    assert json.loads(order["channel_data"]) == {"mop_type": "debit_card", "order_details": details}
    assert rows["pay_native"]["channel"] == "native" and rows["pay_native"]["channel_data"] is None
    assert rows["pay_rebill"]["initiator"] == "merchant" and rows["pay_native"]["initiator"] == "cardholder"
    assert operations == 3 and attempt_budget == 3
    downgrade(url, "0008")
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        back = {r["id"]: r for r in conn.execute("SELECT id, mop_type, order_reference, order_details FROM payments")}
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert back["pay_order"]["mop_type"] == "debit_card" and back["pay_order"]["order_reference"] == "ORD-1"
    assert json.loads(back["pay_order"]["order_details"]) == details
    assert back["pay_native"]["order_reference"] is None
