"""Seed 001's steps 2 and 3: the S2S card post, the shopper's callback_url, and what the status API then
says, with every message of the seed's list that a card or a key causes; on both databases."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import parse_qs, urlsplit

from httpx import AsyncClient

from tessera.core.merchants import UpdateMerchant, update_merchant
from tests.conftest import Merchant, auth
from tests.integration.paysecure.helpers import BASE, SEED_S2S, create, post_card, s2s, status

PUBLIC = "http://127.0.0.1:8000"


def _path(url: str) -> str:
    return url.removeprefix(PUBLIC)


async def test_seed_001s_own_example_body_is_refused_for_its_expiry(client: AsyncClient, merchant: Merchant) -> None:
    made = await create(client, merchant)
    found = await post_card(client, merchant, made["purchaseId"], SEED_S2S)
    assert (found.status_code, found.json()) == (
        400,
        {
            "message": "Invalid Card Expiry(Valid Format:MM/YY) must be greater than current month/year",
            "code": "transaction_error",
        },
    )
    for bad in ("1/30", "10/2030", "13/30", "1030"):
        refused = await post_card(client, merchant, made["purchaseId"], s2s(expires=bad))
        assert refused.json()["message"].startswith("Invalid Card Expiry"), bad
    assert (await status(client, merchant, made["purchaseId"]))["status"] == "CREATED"  # still payable


async def test_a_frictionless_card_is_paid_and_the_shopper_lands_on_success_redirect(
    client: AsyncClient, merchant: Merchant
) -> None:
    made = await create(client, merchant)
    pid = made["purchaseId"]
    found = await post_card(client, merchant, pid, s2s())
    assert (found.status_code, found.json()) == (
        202,
        {"status": "pending", "callback_url": f"{PUBLIC}/paysecure/api/v1/payment/{pid}/", "method": "GET"},
    )
    back = await client.get(_path(found.json()["callback_url"]))  # the shopper's browser: no key
    assert back.status_code == 303
    target = urlsplit(back.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == "https://yoursite.com/ok"
    assert parse_qs(target.query) == {"purchaseId": [pid], "status": ["paid"]}
    paid = await status(client, merchant, pid)
    assert paid["status"] == "PAID" and paid["errorMsg"] == "Transaction succeeded-APPROVED"
    assert paid["transaction_data"]["extra"]["masked_pan"] == "444433******1111"
    assert [a["successful"] for a in paid["transaction_data"]["attempts"]] == [True]
    assert "4444333322221111" not in str(paid)


async def test_a_challenge_card_sends_the_shopper_to_the_acs(client: AsyncClient, merchant: Merchant) -> None:
    made = await create(client, merchant)
    found = await post_card(client, merchant, made["purchaseId"], s2s("4000002500003155"))
    assert found.status_code == 202
    assert (await status(client, merchant, made["purchaseId"]))["status"] == "PENDING_EXECUTE"
    page = await client.get(_path(found.json()["callback_url"]))
    assert page.status_code == 200 and re.search(r'action="[^"]*/sandbox/acs/challenge"', page.text)
    assert 'name="creq"' in page.text


async def test_a_declined_card_lands_on_failure_redirect_and_says_error(
    client: AsyncClient, merchant: Merchant
) -> None:
    made = await create(client, merchant)
    pid = made["purchaseId"]
    found = await post_card(client, merchant, pid, s2s("4000000000009995"))
    assert found.status_code == 202
    back = await client.get(_path(found.json()["callback_url"]))
    assert back.headers["location"].startswith("https://yoursite.com/ko?")
    failed = await status(client, merchant, pid)
    assert failed["status"] == "ERROR" and failed["errorMsg"] == "Insufficient fund"
    assert failed["transaction_data"]["attempts"][0]["error"] == {
        "message": "Insufficient fund",
        "code": "insufficient_funds",
    }


async def test_a_card_the_network_refuses_is_invalid_card_information(client: AsyncClient, merchant: Merchant) -> None:
    made = await create(client, merchant)
    for number in ("4444333322221112", "44443333", "4444 3333 abcd 1111"):
        found = await post_card(client, merchant, made["purchaseId"], s2s(number))
        assert (found.status_code, found.json()) == (
            400,
            {"message": "Invalid Card Information", "code": "transaction_error"},
        ), number
    missing = await post_card(client, merchant, made["purchaseId"], s2s(cardholder_name=""))
    assert missing.json() == {"message": "Card Detail is missing", "code": "parameter_missing"}
    for field in ("remote_ip", "user_agent", "accept_header"):
        body = s2s()
        del body[field]
        refused = await post_card(client, merchant, made["purchaseId"], body)
        assert refused.json() == {"message": f"{field} cannot be null", "code": "parameter_missing"}


async def test_a_key_of_the_other_mode_is_a_different_type_of_key(client: AsyncClient, merchant: Merchant) -> None:
    made = await create(client, merchant)  # with the test key
    found = await post_card(client, merchant, made["purchaseId"], s2s(), key=merchant.live.secret_key)
    assert (found.status_code, found.json()) == (
        400,
        {"message": "Different Type of key used to create purchase and payment", "code": "transaction_error"},
    )


async def test_a_paid_purchase_cannot_take_another_card(client: AsyncClient, merchant: Merchant) -> None:
    made = await create(client, merchant)
    assert (await post_card(client, merchant, made["purchaseId"], s2s())).status_code == 202
    again = await post_card(client, merchant, made["purchaseId"], s2s())
    assert again.json() == {
        "message": "Only purchases that can be paid for can be initiated for payment.",
        "code": "transaction_error",
    }


async def test_the_attempt_budget_spent_is_allowed_attempt_consumed(client: AsyncClient, merchant: Merchant) -> None:
    container = client._transport.app.state.container  # type: ignore[attr-defined]
    await update_merchant(UpdateMerchant(merchant.id, attempt_budget=2), uow=container.uow)
    made = await create(client, merchant)
    for _ in range(2):  # two declined cards use the budget of two
        assert (await post_card(client, merchant, made["purchaseId"], s2s("4000000000000002"))).status_code == 202
    third = await post_card(client, merchant, made["purchaseId"], s2s())
    assert (third.status_code, third.json()) == (
        400,
        {"message": "Allowed Attempt for this Transaction has been consumed", "code": "transaction_error"},
    )
    assert (await status(client, merchant, made["purchaseId"]))["status"] == "ERROR"


async def test_twenty_concurrent_card_posts_start_one_payment(client: AsyncClient, merchant: Merchant) -> None:
    made = await create(client, merchant)
    answers = await asyncio.gather(*(post_card(client, merchant, made["purchaseId"], s2s()) for _ in range(20)))
    assert sorted(a.status_code for a in answers).count(202) == 1
    assert {a.json()["message"] for a in answers if a.status_code != 202} <= {
        "Only purchases that can be paid for can be initiated for payment."
    }
    paid = await status(client, merchant, made["purchaseId"])
    assert paid["status"] == "PAID" and len(paid["transaction_data"]["attempts"]) == 1


async def test_the_callback_url_of_an_unknown_or_unpaid_purchase_is_refused(
    client: AsyncClient, merchant: Merchant
) -> None:
    unknown = await client.get(f"{BASE}/payment/{'0' * 24}/")
    assert (unknown.status_code, unknown.json()["message"]) == (404, "PurchaseId Not found.")
    made = await create(client, merchant)
    unpaid = await client.get(f"{BASE}/payment/{made['purchaseId']}/")
    assert unpaid.status_code == 400
    assert auth  # the page takes no key
