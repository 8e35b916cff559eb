"""Seed 003's money movements beyond capture, void and refund: chargebacks and their reversals,
receipts, rebills, and authorisations that expire; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from httpx import AsyncClient
from sqlalchemy import select, update

from tessera import worker
from tessera.bootstrap import Container
from tessera.core.clock import utcnow
from tessera.storage import tables as t
from tests.conftest import Merchant, auth
from tests.factories import payment


async def _paid(client: AsyncClient, merchant: Merchant, **extra: object) -> dict[str, object]:
    r = await client.post("/v1/payments", json=payment(**extra), headers=auth(merchant.test.secret_key))
    assert r.status_code == 201, r.text
    body: dict[str, object] = r.json()
    return body


def _helper(payment_id: object, what: str) -> str:
    return f"/v1/test_helpers/payments/{payment_id}/{what}"


async def test_a_chargeback_and_its_reversal(client: AsyncClient, merchant: Merchant, container: Container) -> None:
    h = auth(merchant.test.secret_key)
    p = await _paid(client, merchant)
    cb = await client.post(_helper(p["id"], "chargeback"), json={"amount": 400, "reason_code": "10.4"}, headers=h)
    assert cb.status_code == 200, cb.text
    body = cb.json()
    assert body["status"] == "charged_back" and body["amount_charged_back"] == 400
    assert [(o["type"], o["amount"], o["reason_code"]) for o in body["operations"]][-1] == ("CB", 400, "10.4")
    rest = (await client.post(_helper(p["id"], "chargeback"), headers=h)).json()
    assert rest["amount_charged_back"] == 1000
    back = await client.post(_helper(p["id"], "chargeback_reversal"), json={"amount": 1000}, headers=h)
    assert back.status_code == 200 and back.json()["status"] == "completed" and back.json()["amount_charged_back"] == 0
    async with container.db.connect() as conn:
        kinds = [r.type for r in await conn.execute(select(t.events.c.type).order_by(t.events.c.seq))]
    assert kinds == ["payment.completed", "chargeback.created", "chargeback.created", "chargeback.reversed"]


async def test_a_chargeback_cannot_exceed_what_is_left_after_refunds(client: AsyncClient, merchant: Merchant) -> None:
    h = auth(merchant.test.secret_key)
    p = await _paid(client, merchant)
    await client.post(f"/v1/payments/{p['id']}/refunds", json={"amount": 300}, headers=h)
    too_much = await client.post(_helper(p["id"], "chargeback"), json={"amount": 701}, headers=h)
    assert too_much.status_code == 409 and too_much.json()["error"]["code"] == "amount_too_large"
    ok = await client.post(_helper(p["id"], "chargeback"), json={"amount": 700}, headers=h)
    assert ok.status_code == 200 and ok.json()["amount_charged_back"] == 700
    refund = await client.post(f"/v1/payments/{p['id']}/refunds", json={"amount": 1}, headers=h)
    assert refund.status_code == 409  # nothing left to give back
    undo = (await client.post(_helper(p["id"], "chargeback_reversal"), headers=h)).json()
    assert undo["status"] == "partially_refunded" and undo["amount_charged_back"] == 0


async def test_chargebacks_need_a_captured_payment_and_reversals_a_chargeback(
    client: AsyncClient, merchant: Merchant
) -> None:
    h = auth(merchant.test.secret_key)
    authorized = await _paid(client, merchant, capture_method="manual")
    assert (await client.post(_helper(authorized["id"], "chargeback"), headers=h)).status_code == 409
    p = await _paid(client, merchant)
    assert (await client.post(_helper(p["id"], "chargeback_reversal"), headers=h)).status_code == 409
    await client.post(_helper(p["id"], "chargeback"), json={"amount": 100}, headers=h)
    over = await client.post(_helper(p["id"], "chargeback_reversal"), json={"amount": 101}, headers=h)
    assert over.status_code == 409
    declined = await client.post("/v1/payments", json=payment("4000000000000002"), headers=h)
    assert (await client.post(_helper(declined.json()["id"], "chargeback"), headers=h)).status_code == 409


async def test_test_helpers_are_refused_in_live_mode(client: AsyncClient, merchant: Merchant) -> None:
    live = await client.post("/v1/payments", json=payment(), headers=auth(merchant.live.secret_key))
    r = await client.post(_helper(live.json()["id"], "chargeback"), headers=auth(merchant.live.secret_key))
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"


async def test_a_receipt_confirms_an_authorised_payment(client: AsyncClient, merchant: Merchant) -> None:
    p = await _paid(client, merchant, capture_method="manual")
    r = await client.post(_helper(p["id"], "receipt"), headers=auth(merchant.test.secret_key))
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "completed" and body["amount_captured"] == 1000
    assert [o["type"] for o in body["operations"]] == ["PA", "RC"]


async def test_a_rebill_charges_the_saved_card_again_linked_to_the_original(
    client: AsyncClient, merchant: Merchant
) -> None:
    h = auth(merchant.test.secret_key)
    first = await _paid(client, merchant, save_card=True, identifier="cust_r")
    keyed = {**h, "Idempotency-Key": "rebill-1"}
    r = await client.post(
        f"/v1/payments/{first['id']}/rebill", json={"amount": 2500, "reference": "month-2"}, headers=keyed
    )
    assert r.status_code == 201, r.text
    again = await client.post(
        f"/v1/payments/{first['id']}/rebill", json={"amount": 2500, "reference": "month-2"}, headers=keyed
    )
    assert again.json()["id"] == r.json()["id"]  # retried with its key: charged once
    rebill = r.json()
    assert rebill["id"] != first["id"] and rebill["original_payment_id"] == first["id"]
    assert rebill["status"] == "completed" and rebill["amount_captured"] == 2500 and rebill["reference"] == "month-2"
    assert [o["type"] for o in rebill["operations"]] == ["RB"]
    assert rebill["authentication"] is None  # merchant-initiated: no 3-D Secure
    assert rebill["card"]["card_token"] == first["card"]["card_token"]  # type: ignore[index]


async def test_a_rebill_needs_a_saved_card_and_a_payment_that_was_captured(
    client: AsyncClient, merchant: Merchant
) -> None:
    h = auth(merchant.test.secret_key)
    unsaved = await _paid(client, merchant)
    r = await client.post(f"/v1/payments/{unsaved['id']}/rebill", json={"amount": 100}, headers=h)
    assert r.status_code == 409
    card = (
        await client.post(
            "/v1/cards",
            headers=h,
            json={
                "card": {"number": "4000000000000002", "exp_month": 1, "exp_year": 2031},
                "identifier": "c",
                "card_type": "DEBIT",
                "consent": True,
            },
        )
    ).json()
    declined = await client.post(
        "/v1/payments",
        json={"amount": 100, "currency": "INR", "saved_card": card["card_token"], "identifier": "c"},
        headers=h,
    )
    assert declined.json()["status"] == "failed"
    r = await client.post(f"/v1/payments/{declined.json()['id']}/rebill", json={"amount": 100}, headers=h)
    assert r.status_code == 409
    missing = await client.post("/v1/payments/pay_nope/rebill", json={"amount": 100}, headers=h)
    assert missing.status_code == 404


async def test_an_authorisation_nobody_captures_is_reversed_and_expires(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    h = auth(merchant.test.secret_key)
    old = await _paid(client, merchant, capture_method="manual")
    fresh = await _paid(client, merchant, capture_method="manual")
    async with container.db.begin() as conn:
        await conn.execute(
            update(t.payments).where(t.payments.c.id == old["id"]).values(created_at=utcnow() - timedelta(days=8))
        )
    assert (await worker.run_once(container))["expired"] == 1
    expired = (await client.get(f"/v1/payments/{old['id']}", headers=h)).json()
    assert expired["status"] == "expired"
    assert [(o["type"], o["status"], o["reason_code"]) for o in expired["operations"]] == [
        ("PA", "succeeded", None),
        ("RV", "succeeded", "expired"),
    ]
    assert (await client.get(f"/v1/payments/{fresh['id']}", headers=h)).json()["status"] == "authorized"
    assert (await client.post(f"/v1/payments/{old['id']}/capture", headers=h)).status_code == 409


async def test_refunds_racing_chargebacks_never_return_more_than_was_captured(
    client: AsyncClient, merchant: Merchant
) -> None:
    h = auth(merchant.test.secret_key)
    p = await _paid(client, merchant)
    calls = [client.post(f"/v1/payments/{p['id']}/refunds", json={"amount": 150}, headers=h) for _ in range(6)]
    calls += [client.post(_helper(p["id"], "chargeback"), json={"amount": 150}, headers=h) for _ in range(6)]
    results = await asyncio.gather(*calls)
    assert all(r.status_code in (200, 201, 409) for r in results)
    final = (await client.get(f"/v1/payments/{p['id']}", headers=h)).json()
    assert final["amount_refunded"] + final["amount_charged_back"] <= 1000
    assert final["amount_refunded"] + final["amount_charged_back"] == 900  # six of twelve fit, 150 each
    succeeded = [o for o in final["operations"] if o["type"] in ("RF", "CB") and o["status"] == "succeeded"]
    assert sum(o["amount"] for o in succeeded) == 900
