"""Payment intents through the native API, on SQLite and PostgreSQL: a payment made without a card
waits in `requires_payment_method`, is confirmed with a token, card data or a saved card, and a
declined card returns it there until the merchant's attempt budget (default 3) is spent."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from httpx import AsyncClient

from tessera.bootstrap import Container
from tessera.core.errors import ValidationError
from tessera.core.merchants import UpdateMerchant, update_merchant
from tests.conftest import Merchant, auth
from tests.factories import BROWSER, card

DECLINED = "4000000000000002"
CHALLENGE = "4000002500003155"


async def _intent(client: AsyncClient, merchant: Merchant, **extra: Any) -> dict[str, Any]:
    body = {"amount": 2500, "currency": "INR", "reference": "cart-7", **extra}
    made = await client.post("/v1/payments", json=body, headers=auth(merchant.test.secret_key))
    assert made.status_code == 201, made.text
    return dict(made.json())


async def _confirm(client: AsyncClient, merchant: Merchant, payment_id: str, **body: Any) -> Any:
    body.setdefault("browser", BROWSER)
    return await client.post(f"/v1/payments/{payment_id}/confirm", json=body, headers=auth(merchant.test.secret_key))


async def test_a_payment_without_a_card_is_an_intent_waiting_for_one(client: AsyncClient, merchant: Merchant) -> None:
    intent = await _intent(client, merchant)
    assert intent["status"] == "requires_payment_method"
    assert intent["card"] is None and intent["operations"] == [] and intent["attempts"] == []
    assert intent["attempts_remaining"] == 3 and intent["error"] is None and intent["last_error"] is None
    fetched = await client.get(f"/v1/payments/{intent['id']}", headers=auth(merchant.test.secret_key))
    assert fetched.json()["status"] == "requires_payment_method"
    events = (await client.get("/v1/events", headers=auth(merchant.test.secret_key))).json()["data"]
    assert [e["type"] for e in events if e["payment_id"] == intent["id"]] == ["payment.created"]


async def test_an_intent_confirmed_with_a_token_completes(client: AsyncClient, merchant: Merchant) -> None:
    intent = await _intent(client, merchant)
    tok = await client.post("/v1/tokens", json={"card": card()}, headers=auth(merchant.test.publishable_key))
    done = await _confirm(client, merchant, intent["id"], token=tok.json()["id"])
    assert done.status_code == 200, done.text
    p = done.json()
    assert p["status"] == "completed" and p["amount_captured"] == 2500
    assert p["card"]["last4"] == "4242" and [op["type"] for op in p["operations"]] == ["DB"]
    assert [(a["status"], a["card"]["last4"]) for a in p["attempts"]] == [("succeeded", "4242")]
    again = await _confirm(client, merchant, intent["id"], card=card())
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_state"


async def test_a_declined_card_returns_the_intent_for_another_until_the_budget_is_spent(
    client: AsyncClient, merchant: Merchant
) -> None:
    intent = await _intent(client, merchant)
    first = await _confirm(client, merchant, intent["id"], card=card(DECLINED))
    assert first.status_code == 402, first.text
    p = first.json()
    assert p["status"] == "requires_payment_method" and p["error"] is None
    assert p["last_error"]["code"] == "CARD_DECLINED" and p["attempts_remaining"] == 2
    second = (await _confirm(client, merchant, intent["id"], card=card(DECLINED))).json()
    assert second["status"] == "requires_payment_method" and second["attempts_remaining"] == 1
    third = await _confirm(client, merchant, intent["id"], card=card(DECLINED))
    assert third.status_code == 400
    last = third.json()
    assert last["status"] == "failed" and last["error"]["code"] == "CARD_DECLINED"
    assert [a["status"] for a in last["attempts"]] == ["failed", "failed", "failed"]
    assert all(a["error_code"] == "CARD_DECLINED" and a["card"]["last4"] == "0002" for a in last["attempts"])
    refused = await _confirm(client, merchant, intent["id"], card=card())
    assert refused.status_code == 409
    events = (await client.get("/v1/events", headers=auth(merchant.test.secret_key))).json()["data"]
    kinds = [e["type"] for e in events if e["payment_id"] == intent["id"]]
    assert kinds == ["payment.created", "payment.attempt_failed", "payment.attempt_failed", "payment.failed"]


async def test_a_declined_attempt_then_a_good_card_completes_and_keeps_both_attempts(
    client: AsyncClient, merchant: Merchant
) -> None:
    intent = await _intent(client, merchant, capture_method="manual")
    await _confirm(client, merchant, intent["id"], card=card(DECLINED))
    done = (await _confirm(client, merchant, intent["id"], card=card("5555555555554444"))).json()
    assert done["status"] == "authorized" and done["amount_authorized"] == 2500
    assert [(a["status"], a["card"]["last4"]) for a in done["attempts"]] == [("failed", "0002"), ("succeeded", "4444")]
    assert [(op["type"], op["status"]) for op in done["operations"]] == [("PA", "failed"), ("PA", "succeeded")]
    captured = await client.post(f"/v1/payments/{intent['id']}/capture", headers=auth(merchant.test.secret_key))
    assert captured.json()["status"] == "completed"


async def test_a_one_call_decline_still_fails_at_once(client: AsyncClient, merchant: Merchant) -> None:
    body = {"amount": 1000, "currency": "INR", "card": card(DECLINED), "browser": BROWSER}
    r = await client.post("/v1/payments", json=body, headers=auth(merchant.test.secret_key))
    assert r.status_code == 400 and r.json()["status"] == "failed"
    assert len(r.json()["attempts"]) == 1


async def test_an_intent_confirmed_with_a_challenge_card_waits_for_the_shopper(
    client: AsyncClient, merchant: Merchant
) -> None:
    intent = await _intent(client, merchant, return_url="https://yoursite.com/back")
    started = await _confirm(client, merchant, intent["id"], card=card(CHALLENGE))
    assert started.status_code == 202, started.text
    p = started.json()
    assert p["status"] == "requires_action" and p["redirect_url"].endswith(f"/shopper/payments/{p['id']}/authenticate")
    assert [a["status"] for a in p["attempts"]] == ["requires_action"]


async def test_a_confirmation_needs_the_shoppers_browser_and_cvc(client: AsyncClient, merchant: Merchant) -> None:
    intent = await _intent(client, merchant)
    no_browser = await client.post(
        f"/v1/payments/{intent['id']}/confirm", json={"card": card()}, headers=auth(merchant.test.secret_key)
    )
    assert no_browser.status_code == 400 and no_browser.json()["error"]["param"] == "browser.ip"
    no_cvc = await _confirm(client, merchant, intent["id"], card={k: v for k, v in card().items() if k != "cvc"})
    assert no_cvc.status_code == 400 and no_cvc.json()["error"]["param"] == "card.cvc"
    bad_return = await _confirm(client, merchant, intent["id"], card=card(), return_url="https://evil.example/x")
    assert bad_return.status_code == 400 and bad_return.json()["error"]["code"] == "return_url_not_allowed"
    still = (await client.get(f"/v1/payments/{intent['id']}", headers=auth(merchant.test.secret_key))).json()
    assert still["status"] == "requires_payment_method" and still["attempts"] == []


async def test_an_unknown_intent_is_404_and_another_merchants_cannot_confirm_it(
    client: AsyncClient, merchant: Merchant
) -> None:
    missing = await _confirm(client, merchant, "pay_nope", card=card())
    assert missing.status_code == 404
    intent = await _intent(client, merchant)
    live = await client.post(
        f"/v1/payments/{intent['id']}/confirm",
        json={"card": card(), "browser": BROWSER},
        headers=auth(merchant.live.secret_key),
    )
    assert live.status_code in (404, 503)


async def test_two_confirmations_racing_charge_once(client: AsyncClient, merchant: Merchant) -> None:
    intent = await _intent(client, merchant)
    first, second = await asyncio.gather(
        _confirm(client, merchant, intent["id"], card=card()),
        _confirm(client, merchant, intent["id"], card=card("5555555555554444")),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 409], (first.text, second.text)
    final = (await client.get(f"/v1/payments/{intent['id']}", headers=auth(merchant.test.secret_key))).json()
    assert final["status"] == "completed" and final["amount_captured"] == 2500
    assert len(final["attempts"]) == 1 and [op["type"] for op in final["operations"]] == ["DB"]


async def test_the_attempt_budget_is_the_merchants_setting(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    shown = await update_merchant(UpdateMerchant(merchant.id, attempt_budget=1), uow=container.uow)
    assert shown.attempt_budget == 1
    intent = await _intent(client, merchant)
    assert intent["attempts_remaining"] == 1
    declined = await _confirm(client, merchant, intent["id"], card=card(DECLINED))
    assert declined.status_code == 400 and declined.json()["status"] == "failed"
    with pytest.raises(ValidationError):
        await update_merchant(UpdateMerchant(merchant.id, attempt_budget=0), uow=container.uow)
