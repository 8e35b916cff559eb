"""Defects the payment lifecycle's state machine (tests/faults/test_lifecycle_stateful.py) found, each
pinned by the smallest request sequence that shows it; on SQLite and PostgreSQL."""

from __future__ import annotations

from httpx import AsyncClient

from tests.conftest import Merchant, auth
from tests.factories import payment


async def test_a_chargeback_of_all_that_is_left_when_nothing_is_left_is_refused_as_an_amount_conflict(
    client: AsyncClient, merchant: Merchant
) -> None:
    # Asked for "all that can be" with no amount, on a payment wholly charged back: the answer was 400
    # `parameter_invalid` blaming an `amount` the client never sent. Like a refund with nothing left, it is
    # a 409 `amount_too_large`, and nothing is recorded.
    h = auth(merchant.test.secret_key)
    made = await client.post("/v1/payments", json=payment(amount=1000), headers=h)
    pay_id = made.json()["id"]
    whole = await client.post(f"/v1/test_helpers/payments/{pay_id}/chargeback", headers=h)
    assert whole.status_code == 200 and whole.json()["amount_charged_back"] == 1000
    again = await client.post(f"/v1/test_helpers/payments/{pay_id}/chargeback", headers=h)
    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"] == "amount_too_large"
    after = (await client.get(f"/v1/payments/{pay_id}", headers=h)).json()
    assert [o["type"] for o in after["operations"]] == ["DB", "CB"] and after["amount_charged_back"] == 1000
