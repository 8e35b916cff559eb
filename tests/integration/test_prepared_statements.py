"""The hot path's driver-run statements (`storage.prepared`) store and read exactly what SQLAlchemy's
`execute` stores and reads, count the rows they change, and fail with SQLAlchemy's own exceptions, on both
databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from tessera.bootstrap import Container
from tessera.storage import tables as t
from tessera.storage.engine import Database, create_database
from tests.conftest import Backend, Merchant, auth


@pytest.fixture
async def db(backend: Backend) -> AsyncIterator[Database]:
    database = create_database(backend.url)
    yield database
    await database.dispose()


async def _row(db: Database, table: Any, key: str) -> dict[str, Any]:
    async with db.connect() as conn:
        row = (await conn.execute(select(table).where(table.c.id == key))).one()
    return dict(row._mapping)


async def _paid(client: httpx.AsyncClient, merchant: Merchant) -> str:
    body = {
        "amount": 1000,
        "currency": "INR",
        "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        "browser": {"ip": "203.0.113.7", "user_agent": "Mozilla/5.0"},
        "customer": {"email": "shopper@example.com"},
        "metadata": {"order": "A-1", "note": "gift"},
    }
    response = await client.post("/v1/payments", json=body, headers=auth(merchant.test.secret_key))
    assert response.status_code == 201, response.text
    payment_id: str = response.json()["id"]
    return payment_id


async def test_a_driver_run_insert_stores_every_column_as_sqlalchemys_insert_does(
    container: Container, client: httpx.AsyncClient, merchant: Merchant
) -> None:
    # A real payment's row (dates, JSON objects, JSON nulls, integers, text), written again under two new
    # ids: once through SQLAlchemy, once through the driver. Read back, the two rows are the same.
    db = container.db
    original = await _row(db, t.payments, await _paid(client, merchant))
    assert original["metadata"] == {"order": "A-1", "note": "gift"} and original["next_action"] is None
    # (The processor's reference is unique per processor: each copy gets its own.)
    by_sqlalchemy = original | {"id": "pay_via_sqlalchemy", "processor_ref": "ref_1"}
    by_driver = original | {"id": "pay_via_driver", "processor_ref": "ref_2"}
    async with db.begin() as conn:
        await conn.execute(insert(t.payments), by_sqlalchemy)
        assert await conn.write(insert(t.payments), by_driver) == 1
    one, other = await _row(db, t.payments, "pay_via_sqlalchemy"), await _row(db, t.payments, "pay_via_driver")
    own = {"id", "processor_ref"}
    assert {k: v for k, v in one.items() if k not in own} == {k: v for k, v in other.items() if k not in own}
    assert other["created_at"] == original["created_at"] and other["created_at"].tzinfo is not None


async def test_a_driver_run_update_counts_the_rows_it_changed(
    container: Container, client: httpx.AsyncClient, merchant: Merchant
) -> None:
    db = container.db
    payment_id = await _paid(client, merchant)
    version = (await _row(db, t.payments, payment_id))["version"]
    c = t.payments.c
    bump = update(t.payments).where(c.id == payment_id, c.version == version).values(version=version + 1)
    async with db.begin() as conn:
        assert await conn.write(bump, {}) == 1
    async with db.begin() as conn:
        assert await conn.write(bump, {}) == 0  # the version it expects is gone: nothing changed
    assert (await _row(db, t.payments, payment_id))["version"] == version + 1


def _event(event_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """An event row of no payment (the events table's foreign keys need no other row)."""
    from tessera.core.clock import utcnow

    return {
        "id": event_id,
        "merchant_id": "m",
        "mode": "test",
        "type": "x",
        "payment_id": None,
        "data": data,
        "created_at": utcnow(),
    }


async def test_several_rows_are_written_at_once(db: Database) -> None:
    rows = [_event(f"evt_many_{i}", {"i": i}) for i in range(3)]
    async with db.begin() as conn:
        await conn.write(insert(t.events), rows)
    for i in range(3):
        assert (await _row(db, t.events, f"evt_many_{i}"))["data"] == {"i": i}


async def test_a_driver_run_write_that_breaks_a_constraint_raises_sqlalchemys_integrity_error(db: Database) -> None:
    row = _event("evt_twice", {})
    async with db.begin() as conn:
        await conn.write(insert(t.events), row)
    with pytest.raises(IntegrityError) as raised:
        async with db.begin() as conn:
            await conn.write(insert(t.events), row | {"data": {"second": True}})
    assert raised.value.orig is not None  # the driver's own error, as SQLAlchemy wraps it
    # The failed transaction left nothing behind, and the database takes writes again.
    assert (await _row(db, t.events, "evt_twice"))["data"] == {}
    async with db.begin() as conn:
        await conn.write(insert(t.events), row | {"id": "evt_after"})
    assert (await _row(db, t.events, "evt_after"))["id"] == "evt_after"


async def _counts(db: Database, payment_id: str) -> tuple[int, int]:
    async with db.connect() as conn:
        ops = (await conn.execute(select(t.operations.c.id).where(t.operations.c.payment_id == payment_id))).all()
        events = (await conn.execute(select(t.events.c.id).where(t.events.c.payment_id == payment_id))).all()
    return len(ops), len(events)


async def test_a_change_to_a_payment_that_changed_meanwhile_writes_none_of_its_operations_or_events(
    container: Container, client: httpx.AsyncClient, merchant: Merchant
) -> None:
    # Two copies of the same payment; the first saves a refund. The second (stale) records a chargeback:
    # its save is refused, and even a caller that committed anyway would find nothing of it written (on
    # PostgreSQL the payment, its operations and its events are one statement, every part guarded by the
    # payment's version check).
    from tessera.core.clock import utcnow
    from tessera.core.ports import ConcurrentUpdateError

    payment_id = await _paid(client, merchant)
    async with container.uow(read_only=True) as tx:
        first = await tx.payments.get_by_id(payment_id)
        stale = await tx.payments.get_by_id(payment_id)
    assert first is not None and stale is not None
    first.begin_refund(100, utcnow())
    async with container.uow() as tx:
        await tx.payments.save(first)
        await tx.commit()
    before = await _counts(container.db, payment_id)
    stale.chargeback(200, "4837", None, utcnow())
    assert stale.new_operations and stale.events
    async with container.uow() as tx:
        with pytest.raises(ConcurrentUpdateError):
            await tx.payments.save(stale)
        await tx.commit()
    assert await _counts(container.db, payment_id) == before


async def test_a_driver_run_read_returns_the_values_sqlalchemy_returns(
    container: Container, client: httpx.AsyncClient, merchant: Merchant
) -> None:
    # Every column of a real payment and of its operations (times, JSON, booleans, integers, nulls), read
    # both ways, by attribute and by name.
    payment_id = await _paid(client, merchant)
    for table, column in ((t.payments, t.payments.c.id), (t.operations, t.operations.c.payment_id)):
        query = select(table).where(column == bindparam("key")).order_by(table.c.id)
        async with container.db.connect() as conn:
            expected = [dict(r._mapping) for r in (await conn.execute(query, {"key": payment_id})).all()]
            rows = await conn.read(query, {"key": payment_id})
        assert expected and [dict(r._mapping) for r in rows] == expected
        assert [r.created_at for r in rows] == [e["created_at"] for e in expected]
        assert all(r.created_at.tzinfo is not None for r in rows)
