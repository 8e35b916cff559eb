"""OPPWA's holder-code convention through the native API, on SQLite and PostgreSQL: a test payment whose
card holder is a rejection code fails with the code's core error and its operation keeps the exact
code as the acquirer's response code; the same live payment (sandbox as live processor) is approved."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from tessera.bootstrap import Container
from tests.conftest import Merchant, auth
from tests.factories import BROWSER


def _payment(holder: str, capture_method: str = "automatic") -> dict[str, object]:
    card = {"number": "4200000000000000", "exp_month": 5, "exp_year": 2034, "cvc": "123", "name": holder}
    return {"amount": 9200, "currency": "EUR", "card": card, "browser": BROWSER, "capture_method": capture_method}


@pytest.mark.parametrize(
    ("holder", "error", "capture_method"),
    [
        ("800.100.152", "CARD_DECLINED", "automatic"),
        ("800.100.153", "INVALID_CVV", "manual"),
        ("100.100.303", "EXPIRED_CARD", "automatic"),
    ],
)
async def test_a_rejection_code_as_holder_fails_the_test_payment_and_stays_on_its_operation(
    client: AsyncClient, merchant: Merchant, container: Container, holder: str, error: str, capture_method: str
) -> None:
    r = await client.post("/v1/payments", json=_payment(holder, capture_method), headers=auth(merchant.test.secret_key))
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["status"] == "failed" and body["error"]["code"] == error
    assert [(op["type"], op["status"], op["error_code"]) for op in body["operations"]] == [
        ("DB" if capture_method == "automatic" else "PA", "failed", error)
    ]
    async with container.uow(read_only=True) as tx:
        stored = await tx.payments.get_by_id(body["id"])
    assert stored is not None
    assert [op.response_code for op in stored.operations] == [holder]


async def test_a_success_code_as_holder_is_just_a_name(client: AsyncClient, merchant: Merchant) -> None:
    r = await client.post("/v1/payments", json=_payment("000.100.110"), headers=auth(merchant.test.secret_key))
    assert r.status_code == 201 and r.json()["status"] == "completed", r.text


async def test_a_live_payment_ignores_the_convention(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    r = await client.post("/v1/payments", json=_payment("800.100.152"), headers=auth(merchant.live.secret_key))
    assert r.status_code == 201 and r.json()["status"] == "completed", r.text
    async with container.uow(read_only=True) as tx:
        stored = await tx.payments.get_by_id(r.json()["id"])
    assert stored is not None and stored.mode == "live" and stored.processor == "sandbox"
    assert [op.response_code for op in stored.operations] == ["00"]
