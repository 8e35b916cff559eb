"""Screening a payment reads the blocklist through its unique index, and no velocity counter at all, on SQLite
and PostgreSQL: a scan would make every payment cost more as the list and the window's shoppers grow
(SQLite scanned the whole counter table for a row-value `IN (VALUES ...)`; PostgreSQL, without statistics
yet, read `match_key IN (...)` through the listing index and filtered the merchant's whole list)."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient
from sqlalchemy import event

from tessera.bootstrap import Container
from tessera.core.clock import utcnow
from tessera.core.risk.service import purge_counters
from tests.conftest import Merchant, auth
from tests.factories import payment

_RISK_TABLES = ("risk_blocklist", "risk_counters")


def _index_for(statement: str, sqlite: bool) -> str:
    """The index a screening statement is to be read through, as each database names it: an entry's look-up
    by match key through the unique one, a merchant's whole list (read into the process's copy) through the
    listing one, counters through their primary key."""
    if "risk_counters" in statement:
        return "sqlite_autoindex_risk_counters_1" if sqlite else "pk_risk_counters"
    return "ix_risk_blocklist_match" if "match_key IN" in statement else "ix_risk_blocklist_list"


def _engine(container: Container) -> Any:
    db = container.db
    return db.sync_engine if db.sync_engine is not None else db.async_engine.sync_engine  # type: ignore[union-attr]


async def _plan(container: Container, statement: str, parameters: Any) -> str:
    async with container.db.connect() as conn:
        if container.db.sqlite:
            rows = await conn.run_sync(lambda c: c.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all())
            return "\n".join(str(row[-1]) for row in rows)

        def explain(c: Any) -> list[Any]:
            # With sequential scans priced out, a plan that still scans has no index to use.
            c.exec_driver_sql("SET LOCAL enable_seqscan = off")
            return list(c.exec_driver_sql("EXPLAIN " + statement, parameters).all())

        return "\n".join(str(row[0]) for row in await conn.run_sync(explain))


async def test_screening_a_payment_reads_the_lists_through_indexes_and_no_counter(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    h = auth(merchant.test.secret_key)
    for entry in ({"type": "email", "value": "fraud@example.com"}, {"type": "ip", "value": "198.51.100.0/24"}):
        assert (await client.post("/v1/blocklist", json=entry, headers=h)).status_code == 201
    for rule in (
        {"key": "email", "metric": "count", "limit": 5, "window_seconds": 60},
        {"key": "card", "metric": "amount", "currency": "INR", "limit": 10**7, "window_seconds": 3600},
    ):
        assert (await client.post("/v1/risk_rules", json=rule, headers=h)).status_code == 201
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and any(t in statement for t in _RISK_TABLES):
            seen.append((statement, parameters))

    engine = _engine(container)
    event.listen(engine, "before_cursor_execute", record)
    try:
        body = payment() | {"customer": {"email": "shopper@example.com"}}
        assert (await client.post("/v1/payments", json=body, headers=h)).json()["status"] == "completed"
        assert (await client.post("/v1/payments", json=body, headers=h)).json()["status"] == "completed"
        blocked = payment() | {"customer": {"email": "fraud@example.com"}}
        assert (await client.post("/v1/payments", json=blocked, headers=h)).json()["error"][
            "code"
        ] == "customer_blocked"
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert seen, "no risk statement was run: the payment was not screened"
    assert any("match_key IN" in s for s, _ in seen)
    # The counters are not read at all: the check before 3-D Secure uses what this process committed, and
    # the count is an upsert on their primary key.
    assert not any("risk_counters" in s for s, _ in seen), seen
    for statement, parameters in seen:
        plan = await _plan(container, statement, parameters)
        for table in _RISK_TABLES:
            assert f"SCAN {table}" not in plan and f"Seq Scan on {table}" not in plan, f"{statement}\n{plan}"
        for part in statement.split("UNION ALL"):
            assert _index_for(part, container.db.sqlite) in plan, f"{statement}\n{plan}"


async def test_the_workers_purge_reads_only_the_counters_whose_window_has_ended(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("DELETE") and "risk_counters" in statement:
            seen.append((statement, parameters))

    engine = _engine(container)
    event.listen(engine, "before_cursor_execute", record)
    try:
        await purge_counters(uow=container.uow, now=utcnow())
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(seen) == 1
    plan = await _plan(container, *seen[0])
    assert "ix_risk_counters_ends" in plan, plan
