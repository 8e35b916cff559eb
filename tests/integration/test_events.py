"""Events: written with every change, numbered per merchant and mode once committed (in the order they
are found committed, with no gaps), listed in order."""

from __future__ import annotations

import asyncio

import pytest
from httpx import AsyncClient
from sqlalchemy import select, text

from tessera.bootstrap import Container
from tessera.core.clock import utcnow
from tessera.core.payments.events import PAYMENT_COMPLETED, Event
from tessera.storage import tables as t
from tessera.storage.events import insert_events
from tests.conftest import Merchant, auth
from tests.factories import payment


async def _events(client: AsyncClient, key: str, **params: object) -> dict[str, object]:
    r = await client.get("/v1/events", params=params, headers=auth(key))
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


async def test_events_are_numbered_without_gaps_in_the_order_they_happened(
    client: AsyncClient, merchant: Merchant
) -> None:
    h = auth(merchant.test.secret_key)
    p = (await client.post("/v1/payments", json=payment(capture_method="manual"), headers=h)).json()
    await client.post(f"/v1/payments/{p['id']}/capture", json={"amount": 600}, headers=h)
    await client.post(f"/v1/payments/{p['id']}/refunds", json={"amount": 100}, headers=h)
    listed = await _events(client, merchant.test.secret_key)
    data = listed["data"]
    assert [(e["sequence"], e["type"]) for e in data] == [  # type: ignore[index, union-attr]
        (1, "payment.authorized"),
        (2, "payment.completed"),
        (3, "refund.succeeded"),
    ]
    assert all(e["payment_id"] == p["id"] and "4242424242424242" not in str(e) for e in data)  # type: ignore[index, union-attr]
    page = await _events(client, merchant.test.secret_key, after=1, limit=1)
    assert [e["sequence"] for e in page["data"]] == [2] and page["has_more"] is True  # type: ignore[index, union-attr]
    only = await _events(client, merchant.test.secret_key, type="refund.succeeded")
    assert [e["sequence"] for e in only["data"]] == [3]  # type: ignore[index, union-attr]


async def test_concurrent_payments_leave_one_gapless_sequence_per_merchant_and_mode(
    client: AsyncClient, merchant: Merchant
) -> None:
    await asyncio.gather(
        *(client.post("/v1/payments", json=payment(), headers=auth(merchant.test.secret_key)) for _ in range(15)),
        *(client.post("/v1/payments", json=payment(), headers=auth(merchant.live.secret_key)) for _ in range(5)),
    )
    test_events = (await _events(client, merchant.test.secret_key, limit=100))["data"]
    live_events = (await _events(client, merchant.live.secret_key, limit=100))["data"]
    assert [e["sequence"] for e in test_events] == list(range(1, 16))  # type: ignore[index, union-attr]
    assert [e["sequence"] for e in live_events] == list(range(1, 6))  # type: ignore[index, union-attr]
    assert all(e["livemode"] for e in live_events)  # type: ignore[index, union-attr]


async def test_saving_a_card_is_an_event_in_the_same_sequence(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    h = auth(merchant.test.secret_key)
    paid = await client.post("/v1/payments", json=payment(), headers=h)
    assert paid.status_code == 201, paid.text
    await client.post(
        "/v1/cards",
        headers=h,
        json={
            "card": {"number": "5555555555554444", "exp_month": 1, "exp_year": 2031},
            "identifier": "c",
            "card_type": "DEBIT",
            "consent": True,
        },
    )
    data = (await _events(client, merchant.test.secret_key))["data"]
    assert [(e["sequence"], e["type"]) for e in data] == [(1, "payment.completed"), (2, "card.saved")]  # type: ignore[index, union-attr]


async def test_an_unknown_event_type_filter_is_refused_naming_the_parameter(
    client: AsyncClient, merchant: Merchant
) -> None:
    # It listed nothing with a 200 before (the soak's fuzzing, issue 11): a misspelt type looked like "none yet".
    response = await client.get(
        "/v1/events", params={"type": ["refund.succeeded", "refund.succeded"]}, headers=auth(merchant.test.secret_key)
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "type"
    assert "refund.succeded" in error["message"]


async def test_a_payments_transaction_leaves_its_events_unnumbered_and_a_list_numbers_them(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    h = auth(merchant.test.secret_key)
    paid = (await client.post("/v1/payments", json=payment(), headers=h)).json()
    async with container.db.connect() as conn:
        stored = (await conn.execute(select(t.events.c.sequence).where(t.events.c.payment_id == paid["id"]))).all()
        counters = (await conn.execute(select(t.event_sequences))).all()
    assert [r.sequence for r in stored] == [None] and counters == []  # no shared row taken by the payment
    listed = (await _events(client, merchant.test.secret_key))["data"]
    assert [(e["sequence"], e["payment_id"]) for e in listed] == [(1, paid["id"])]  # type: ignore[index, union-attr]


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_payments_commit_while_the_merchants_event_counter_is_held(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    """The counter row used to be locked by every transaction that wrote an event, until it committed:
    a merchant's payments queued behind each other. Now a payment never waits for it."""
    h = auth(merchant.test.secret_key)
    await client.post("/v1/payments", json=payment(), headers=h)
    await _events(client, merchant.test.secret_key)  # the counter row exists now
    async with container.db.connect(write=True) as holder:
        await holder.execute(text("SELECT * FROM event_sequences FOR UPDATE"))
        paid = await asyncio.wait_for(client.post("/v1/payments", json=payment(), headers=h), 10)
        assert paid.status_code == 201 and paid.json()["status"] == "completed"
    listed = (await _events(client, merchant.test.secret_key))["data"]
    assert [e["sequence"] for e in listed] == [1, 2]  # type: ignore[index, union-attr]


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_an_event_that_commits_late_gets_a_later_number_and_no_cursor_passes_it(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    def event(name: str) -> Event:
        return Event(merchant.id, "test", PAYMENT_COMPLETED, None, {"name": name}, utcnow())

    async with container.db.connect(write=True) as slow:
        await insert_events(slow, [event("written first, committed last")])  # the lower seq
        async with container.db.connect(write=True) as fast:
            await insert_events(fast, [event("written second, committed first")])
            await fast.commit()
        first = (await _events(client, merchant.test.secret_key))["data"]
        assert [(e["sequence"], e["data"]["name"]) for e in first] == [(1, "written second, committed first")]  # type: ignore[index, union-attr]
        await slow.commit()
    after = (await _events(client, merchant.test.secret_key, after=1))["data"]
    assert [(e["sequence"], e["data"]["name"]) for e in after] == [(2, "written first, committed last")]  # type: ignore[index, union-attr]
