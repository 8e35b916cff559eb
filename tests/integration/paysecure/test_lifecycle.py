"""The rest of a purchase's life (paysecure.md section 5): cancel, capture of a skip_capture purchase,
full and partial refunds and their status, and saved cards; on both databases."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient

from tessera.dialects.paysecure.requests import payment_id_of
from tests.conftest import Merchant, auth
from tests.integration.paysecure.helpers import BASE, create, post_card, s2s, status


async def _paid(client: AsyncClient, merchant: Merchant, **changes: Any) -> str:
    made = await create(client, merchant, **changes)
    assert (await post_card(client, merchant, made["purchaseId"], s2s())).status_code == 202
    return str(made["purchaseId"])


async def test_a_skip_capture_purchase_is_held_then_captured_in_part(client: AsyncClient, merchant: Merchant) -> None:
    key = merchant.test.secret_key
    pid = await _paid(client, merchant, skip_capture=True)
    held = await status(client, merchant, pid)
    assert held["status"] == "HOLD" and held["skip_capture"] is True
    found = await client.post(f"{BASE}/purchases/{pid}/capture/", json={"amount": "12.50"}, headers=auth(key))
    assert found.status_code == 202, found.text
    body = found.json()
    assert (body["status"], body["captured_amount"], body["released_amount"]) == ("PARTIALLY_CAPTURED", 12.5, 7.5)
    assert (await status(client, merchant, pid))["status"] == "PAID"
    again = await client.post(f"{BASE}/purchases/{pid}/capture/", json={}, headers=auth(key))
    assert again.status_code == 400 and again.json()["code"] == "transaction_error"


async def test_a_whole_capture_needs_no_body(client: AsyncClient, merchant: Merchant) -> None:
    pid = await _paid(client, merchant, skip_capture=True)
    found = await client.post(f"{BASE}/purchases/{pid}/capture/", headers=auth(merchant.test.secret_key))
    assert found.status_code == 202 and found.json()["status"] == "PAID" and found.json()["captured_amount"] == 20.0


async def test_cancel_releases_a_held_purchase_and_refuses_a_paid_one(client: AsyncClient, merchant: Merchant) -> None:
    key = merchant.test.secret_key
    held = await _paid(client, merchant, skip_capture=True)
    found = await client.post(f"{BASE}/purchases/{held}/cancel/", headers=auth(key))
    assert found.status_code == 202 and found.json()["status"] == "CANCELLED"
    paid = await _paid(client, merchant)
    refused = await client.get(f"{BASE}/purchases/{paid}/cancel/", headers=auth(key))
    assert refused.json() == {
        "message": "Only purchases that can be paid for can be cancelled.",
        "code": "transaction_error",
    }


async def test_cancel_calls_off_an_unpaid_purchase_which_then_takes_no_card(
    client: AsyncClient, merchant: Merchant
) -> None:
    key = merchant.test.secret_key
    made = await create(client, merchant)
    found = await client.get(f"{BASE}/purchases/{made['purchaseId']}/cancel/", headers=auth(key))
    assert found.status_code == 202 and found.json()["status"] == "CANCELLED"
    refused = await post_card(client, merchant, made["purchaseId"], s2s())
    assert refused.json()["message"] == "Only purchases that can be paid for can be initiated for payment."
    payment_id = payment_id_of(made["purchaseId"])
    native = await client.get(f"/v1/payments/{payment_id}", headers=auth(key))
    assert native.json()["status"] == "canceled"  # the same payment, in the native API's words
    again = await client.post(f"{BASE}/purchases/{made['purchaseId']}/cancel/", headers=auth(key))
    assert again.json()["message"] == "Only purchases that can be paid for can be cancelled."


async def test_full_refund_then_no_more(client: AsyncClient, merchant: Merchant) -> None:
    key = merchant.test.secret_key
    pid = await _paid(client, merchant)
    found = await client.get(f"{BASE}/purchases/{pid}/refund/", headers=auth(key))
    assert found.status_code == 202 and found.json()["status"] == "REFUNDED"
    assert found.json()["totalRefunded"] == 20.0
    again = await client.get(f"{BASE}/purchases/{pid}/refund/", headers=auth(key))
    assert again.json() == {"message": "This Purchase was already fully refunded.", "code": "transaction_error"}


async def test_partial_refunds_up_to_the_total_with_their_status(client: AsyncClient, merchant: Merchant) -> None:
    key = merchant.test.secret_key
    pid = await _paid(client, merchant)
    first = await client.post(
        f"{BASE}/purchases/{pid}/refund", json={"amount": 5, "reason": "damaged"}, headers=auth(key)
    )
    assert first.status_code == 202, first.text
    refund = first.json()
    assert (refund["purchaseId"], refund["amount"], refund["status"], refund["reason"]) == (
        pid,
        5.0,
        "REFUNDED",
        "damaged",
    )
    assert (await status(client, merchant, pid))["status"] == "PARTIAL_REFUNDED"
    looked = await client.post(f"{BASE}/refundStatus/{pid}/", json={"refundId": refund["refundId"]}, headers=auth(key))
    assert looked.status_code == 200 and looked.json()["status"] == "REFUNDED" and looked.json()["refundOn"] > 0
    too_much = await client.post(
        f"{BASE}/purchases/{pid}/refund", json={"amount": "15.01", "reason": "x"}, headers=auth(key)
    )
    assert too_much.json() == {"message": "Refund amount exceeds refundable amount: 15.0", "code": "invalid_amount"}
    no_reason = await client.post(f"{BASE}/purchases/{pid}/refund", json={"amount": "1"}, headers=auth(key))
    assert no_reason.json() == {"message": "reason for refund is required", "code": "parameter_missing"}
    zero = await client.post(f"{BASE}/purchases/{pid}/refund", json={"amount": "0", "reason": "x"}, headers=auth(key))
    assert zero.json()["message"] == "Refund amount must be greater than zero."
    rest = await client.post(
        f"{BASE}/purchases/{pid}/refund", json={"amount": "15.00", "reason": "rest"}, headers=auth(key)
    )
    assert rest.status_code == 202 and (await status(client, merchant, pid))["status"] == "REFUNDED"


async def test_an_unpaid_purchase_cannot_be_refunded(client: AsyncClient, merchant: Merchant) -> None:
    made = await create(client, merchant)
    found = await client.get(f"{BASE}/purchases/{made['purchaseId']}/refund/", headers=auth(merchant.test.secret_key))
    assert found.json() == {
        "message": "Only Purchases with `status == (paid)` can be refunded.",
        "code": "transaction_error",
    }


async def test_a_remembered_card_pays_again_by_token_reference_and_is_deleted(
    client: AsyncClient, merchant: Merchant
) -> None:
    key = merchant.test.secret_key
    await _paid(client, merchant)  # remember_card "on", for the client's e-mail
    listed = await client.get(f"{BASE}/listSavedCards", params={"customerId": "user@example.com"}, headers=auth(key))
    assert listed.status_code == 200
    [card] = listed.json()
    assert card["card_last_four"] == "1111"
    made = await create(client, merchant)
    again = await post_card(
        client, merchant, made["purchaseId"], s2s() | {"token_reference": card["token_reference"], "card_number": None}
    )
    assert again.status_code == 202, again.text
    assert (await status(client, merchant, made["purchaseId"]))["status"] == "PAID"
    deleted = await client.delete(f"{BASE}/tokens/v1/deleteToken/{card['token_reference']}", headers=auth(key))
    assert deleted.json() == {"message": "Token deleted successfully"}
    gone = await client.delete(f"{BASE}/tokens/v1/deleteToken/{card['token_reference']}", headers=auth(key))
    assert gone.status_code == 400 and gone.json()["code"] == "token_reference_invalid"
    empty = await client.get(f"{BASE}/listSavedCards", params={"customerId": "user@example.com"}, headers=auth(key))
    assert empty.json() == []
