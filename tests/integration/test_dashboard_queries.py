"""The dashboard's payment list: each filter answers what it says, pages by id without gaps or repeats, and
reads through its own index on SQLite and PostgreSQL (a scan of the merchant's payments would grow with
them: the list must stay fast on a million). Migration 0016 comes and goes on a SQLite file."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

from httpx import AsyncClient
from sqlalchemy import event

from tessera.bootstrap import Container
from tessera.core.clock import utcnow
from tessera.core.dashboard.model import PaymentFilter
from tessera.core.dashboard.service import DashboardServices
from tessera.storage.migrate import downgrade, upgrade
from tests.conftest import Merchant, auth
from tests.factories import payment

# Each filter, and the index it is to be read through (the same name on both databases).
_INDEXED = {
    "status": (PaymentFilter(status="authorized"), "ix_payments_dash_status"),
    "last4": (PaymentFilter(last4="4444"), "ix_payments_dash_last4"),
    "dialect": (PaymentFilter(channel="eximpe"), "ix_payments_dash_channel"),
    "amount": (PaymentFilter(amount_min=100, amount_max=200), "ix_payments_dash_amount"),
    "customer email": (PaymentFilter(email="Ana@Shop.test"), "ix_payments_dash_email"),
    "reference": (PaymentFilter(reference="order-1"), "ix_payments_reference"),
    "date range": (
        PaymentFilter(created_from=utcnow() - timedelta(days=2), created_to=utcnow()),
        "ix_payments_dash_created",
    ),
    "none (the list, newest first)": (PaymentFilter(), "ix_payments_list"),
}
# PostgreSQL weighs a range against the newest-first order by its statistics: on a handful of rows it walks
# the ordered list index (never the table); the range's own index is there for a narrow range of many.
_RANGES = ("amount", "date range")


def _dash(container: Container) -> DashboardServices:
    assert container.services.dashboard is not None
    return container.services.dashboard


def _engine(container: Container) -> Any:
    db = container.db
    return db.sync_engine if db.sync_engine is not None else db.async_engine.sync_engine  # type: ignore[union-attr]


async def _plan(container: Container, statement: str, parameters: Any) -> str:
    async with container.db.connect() as conn:
        if container.db.sqlite:
            rows = await conn.run_sync(lambda c: c.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all())
            return "\n".join(str(row[-1]) for row in rows)

        def explain(c: Any) -> list[Any]:
            c.exec_driver_sql("SET LOCAL enable_seqscan = off")
            return list(c.exec_driver_sql("EXPLAIN " + statement, parameters).all())

        return "\n".join(str(row[0]) for row in await conn.run_sync(explain))


async def _pay(client: AsyncClient, merchant: Merchant, number: str, amount: int, **extra: Any) -> str:
    r = await client.post(
        "/v1/payments", json=payment(number, amount=amount, **extra), headers=auth(merchant.test.secret_key)
    )
    assert r.status_code in (200, 201), r.text
    return str(r.json()["id"])


async def test_each_filter_finds_its_payments_and_pages_without_gaps(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    held = await _pay(client, merchant, "4242424242424242", 150, capture_method="manual")
    master = await _pay(client, merchant, "5555555555554444", 900, customer={"email": "Ana@Shop.test"})
    rest = [await _pay(client, merchant, "4111111111111111", 300 + n, reference=f"r-{n}") for n in range(5)]
    dash = _dash(container)

    async def ids(f: PaymentFilter) -> list[str]:
        return [p.id for p in (await dash.list_payments(merchant.id, "test", f, limit=50, before=None))[0]]

    assert await ids(PaymentFilter(status="authorized")) == [held]
    assert await ids(PaymentFilter(last4="4444")) == [master]
    assert await ids(PaymentFilter(email="ana@shop.test")) == [master]
    assert await ids(PaymentFilter(reference="r-3")) == [rest[3]]
    assert await ids(PaymentFilter(amount_min=100, amount_max=200)) == [held]
    assert await ids(PaymentFilter(channel="eximpe")) == []
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    assert len(await ids(PaymentFilter(created_from=today, created_to=today + timedelta(days=1)))) == 7
    assert await ids(PaymentFilter(created_to=today)) == []
    assert await ids(PaymentFilter()) == (await ids(PaymentFilter()))  # stable
    assert (await dash.list_payments("mer_other", "test", PaymentFilter(), limit=50, before=None))[0] == []

    seen: list[str] = []
    before = None
    while True:
        page, more = await dash.list_payments(merchant.id, "test", PaymentFilter(), limit=3, before=before)
        seen += [p.id for p in page]
        if not more:
            break
        before = page[-1].id
    assert seen == sorted([held, master, *rest], reverse=True)


async def test_each_filter_reads_through_its_own_index(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    await _pay(client, merchant, "4242424242424242", 150)
    for name, (filters, index) in _INDEXED.items():
        seen: list[tuple[str, Any]] = []

        def record(_c: Any, _cur: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> None:
            if statement.lstrip().upper().startswith("SELECT") and "FROM payments" in statement:
                seen.append((statement, parameters))  # noqa: B023 - read before the next filter

        engine = _engine(container)
        event.listen(engine, "before_cursor_execute", record)
        try:
            await _dash(container).list_payments(merchant.id, "test", filters, limit=25, before=None)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert len(seen) == 1, name
        plan = await _plan(container, *seen[0])
        assert "SCAN payments" not in plan and "Seq Scan on payments" not in plan, f"{name}\n{plan}"
        if name in _RANGES and not container.db.sqlite:
            continue
        assert index in plan, f"{name}: {plan}"


def test_migration_0016_adds_the_dashboard_tables_and_takes_them_away(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    upgrade(url, "0015")
    upgrade(url)

    def names() -> set[str]:
        with sqlite3.connect(path) as conn:
            return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")}

    added = {"dashboard_users", "dashboard_sessions", "dashboard_signin_failures", "audit_log", "ix_events_payment"}
    assert added | {index for _, index in _INDEXED.values()} <= names()
    downgrade(url, "0015")
    assert not added & names() and "ix_payments_dash_status" not in names()


def test_migration_0017_fills_in_existing_payments_customer_email_and_goes_back(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    upgrade(url, "0016")
    when = "2026-11-21 10:00:00.000000"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO merchants (id, name, status, allowed_domains, created_at) "
            "VALUES ('m1', 'Old', 'active', '[]', ?)",
            (when,),
        )
        for id_, customer in (("pay_1", '{"email": " Ana@Shop.test "}'), ("pay_2", '{"name": "B"}'), ("pay_3", None)):
            conn.execute(
                "INSERT INTO payments (id, merchant_id, mode, status, amount, currency, capture_method, processor, "
                "customer, created_at, updated_at) VALUES (?, 'm1', 'test', 'captured', 100, 'INR', 'automatic', "
                "'sandbox', ?, ?, ?)",
                (id_, customer, when, when),
            )
    upgrade(url)
    with sqlite3.connect(path) as conn:
        found = dict(conn.execute("SELECT id, customer_email FROM payments ORDER BY id").fetchall())
        plan = " ".join(
            str(r[-1])
            for r in conn.execute(
                "EXPLAIN QUERY PLAN SELECT id FROM payments WHERE merchant_id = 'm1' AND mode = 'test' "
                "AND customer_email = 'ana@shop.test' ORDER BY id DESC LIMIT 26"
            )
        )
    assert found == {"pay_1": "ana@shop.test", "pay_2": None, "pay_3": None}
    assert "ix_payments_dash_email" in plan
    downgrade(url, "0016")
    with sqlite3.connect(path) as conn:
        kept = {r[1] for r in conn.execute("PRAGMA table_info(payments)")}
        keys = {r[1] for r in conn.execute("PRAGMA table_info(api_keys)")}
    assert "customer_email" not in kept and "public_value" not in keys
