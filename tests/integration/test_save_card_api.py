"""Seed 004's Save Card API under /eximpe, exactly as the seed describes it, on both databases."""

from __future__ import annotations

import re
from typing import Any

import pytest
from httpx import AsyncClient

from tessera.bootstrap import Container
from tessera.core.vault.pan import luhn_valid
from tests.conftest import Merchant

SEED_EXAMPLE = {
    "identifier": "USER_PS_001",
    "card_number": "5506900480000008",
    "nickname": "HDFC Regalia Credit Card",
    "cardholder_name": "Priya Sharma",
    "expiry_month": 5,
    "expiry_year": 2030,
    "network": "MASTERCARD",
    "card_type": "CREDIT",
    "card_holder_consent": True,
}
USAGE_EXAMPLES = [
    {
        "identifier": "customer_12345",
        "card_number": "4111111111111111",
        "nickname": "My VISA Card",
        "cardholder_name": "John Doe",
        "expiry_month": 12,
        "expiry_year": 2030,
        "network": "VISA",
        "card_type": "CREDIT",
        "card_holder_consent": True,
    },
    {
        "identifier": "customer_67890",
        "card_number": "5506900480000008",
        "nickname": "Business Debit",
        "cardholder_name": "Jane Smith",
        "expiry_month": 8,
        "expiry_year": 2029,
        "network": "MASTERCARD",
        "card_type": "DEBIT",
        "card_holder_consent": True,
    },
    {
        "identifier": "customer_98765",
        "card_number": "6521123456789012",
        "nickname": "Rupay Debit",
        "cardholder_name": "Raj Patel",
        "expiry_month": 6,
        "expiry_year": 2031,
        "network": "RUPAY",
        "card_type": "DEBIT",
        "card_holder_consent": True,
        "authorization_reference_number": "AUTH_REF_789012345",
    },
    {
        "identifier": "customer_54321",
        "card_number": "378282246310005",
        "nickname": "AMEX Business",
        "cardholder_name": "Sarah Johnson",
        "expiry_month": 10,
        "expiry_year": 2032,
        "network": "AMEX",
        "card_type": "CREDIT",
        "card_holder_consent": True,
        "authorization_reference_number": "AEVV_ABC123DEF456",
    },
]


def headers(merchant: Merchant, *, secret: str | None = None) -> dict[str, str]:
    return {
        "X-Client-ID": merchant.test.client_id,
        "X-Client-Secret": secret or merchant.test.secret_key,
        "X-Merchant-ID": merchant.id,
        "X-API-Version": "1.0",
    }


async def save(client: AsyncClient, merchant: Merchant, body: Any, **kw: str) -> Any:
    return await client.post("/eximpe/pg/tokens/", json=body, headers=headers(merchant, **kw))


def attrs(response: Any) -> list[str]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["success"] is False and body["error"]["type"] == "validation_error"
    assert all(e["code"] == "invalid" and e["detail"] for e in body["error"]["errors"])
    return [e["attr"] for e in body["error"]["errors"]]


@pytest.mark.parametrize("body", [SEED_EXAMPLE, *USAGE_EXAMPLES], ids=lambda b: b["identifier"])
async def test_the_seeds_examples_save_and_answer_in_the_seeds_shape(
    client: AsyncClient, merchant: Merchant, body: dict[str, Any]
) -> None:
    r = await save(client, merchant, body)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert set(answer) == {"success", "message", "data"}
    assert answer["success"] is True and answer["message"] == "Card details saved successfully"
    data = answer["data"]
    assert set(data) == {"card_label", "card_token", "issuer_token", "network_token"}
    assert data["card_label"] == body["nickname"] and data["issuer_token"] is None
    assert re.fullmatch(r"[0-9a-f]{20}", data["card_token"])
    token, pan = data["network_token"], body["card_number"]
    # A number of the card's network (a token service's DPAN), from a token range, not the card's BIN.
    assert re.fullmatch(r"[0-9]{15,16}", token) and luhn_valid(token) and token[0] == pan[0]
    assert not token.startswith(pan[:6]) and pan not in token
    assert pan not in r.text


async def test_each_owner_and_each_merchant_saving_the_same_card_gets_its_own_network_token(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    from tessera.core.merchants import create_merchant

    other_m, other = await create_merchant("Other", uow=container.uow, modes=("test", "live"))
    first = (await save(client, merchant, SEED_EXAMPLE)).json()["data"]
    second = (await save(client, merchant, {**SEED_EXAMPLE, "identifier": "someone_else"})).json()["data"]
    third = (await save(client, Merchant(other_m.id, other[0], other[1]), SEED_EXAMPLE)).json()["data"]
    assert len({first["network_token"], second["network_token"], third["network_token"]}) == 3
    assert len({first["card_token"], second["card_token"], third["card_token"]}) == 3


async def test_network_and_card_type_are_accepted_in_any_letter_case(client: AsyncClient, merchant: Merchant) -> None:
    r = await save(client, merchant, {**USAGE_EXAMPLES[0], "network": "visa", "card_type": "Debit"})
    assert r.status_code == 200


async def test_the_same_card_for_the_same_identifier_is_a_409(client: AsyncClient, merchant: Merchant) -> None:
    assert (await save(client, merchant, SEED_EXAMPLE)).status_code == 200
    again = await save(client, merchant, {**SEED_EXAMPLE, "nickname": "again"})
    assert again.status_code == 409
    assert again.json()["success"] is False and again.json()["error"]["code"] == "ERR_CARD_EXISTS"


async def test_every_failing_field_is_listed_in_one_response(client: AsyncClient, merchant: Merchant) -> None:
    body = {
        "identifier": "x",
        "card_number": "4242424242424241",
        "expiry_month": 13,
        "expiry_year": 2023,
        "network": "RUPAY",
        "card_type": "GOLD",
        "card_holder_consent": False,
    }
    assert sorted(attrs(await save(client, merchant, body))) == sorted(
        [
            "cardholder_name",
            "card_number",
            "expiry_month",
            "expiry_year",
            "card_type",
            "card_holder_consent",
            "authorization_reference_number",
        ]
    )


async def test_an_empty_body_lists_every_required_field(client: AsyncClient, merchant: Merchant) -> None:
    assert sorted(attrs(await save(client, merchant, {}))) == sorted(
        [
            "identifier",
            "card_number",
            "cardholder_name",
            "expiry_month",
            "expiry_year",
            "network",
            "card_type",
            "card_holder_consent",
        ]
    )


@pytest.mark.parametrize(
    ("change", "attr", "detail"),
    [
        ({"card_holder_consent": False}, "card_holder_consent", "Consent must be true to save card details."),
        ({"card_holder_consent": "yes"}, "card_holder_consent", "Consent must be true to save card details."),
        ({"network": "VISA"}, "network", "The card number is not a VISA card."),
        ({"network": "JCB"}, "network", None),
        ({"expiry_month": 0}, "expiry_month", "Ensure this value is between 1 and 12."),
        ({"expiry_year": 2023}, "expiry_year", "Ensure this value is greater than or equal to 2024."),
        ({"expiry_year": 2024, "expiry_month": 1}, "expiry_year", "The card has expired."),
        ({"expiry_month": "five"}, "expiry_month", "A valid integer is required."),
        ({"card_number": "5506 9004 8000 0009"}, "card_number", "Invalid card number format."),
        (
            {"authorization_reference_number": "AUTH_1"},
            "authorization_reference_number",
            "Authorization reference number must not be sent for MASTERCARD cards.",
        ),
    ],
)
async def test_each_rule_of_the_seed_is_enforced_naming_the_field(
    client: AsyncClient, merchant: Merchant, change: dict[str, Any], attr: str, detail: str | None
) -> None:
    r = await save(client, merchant, {**SEED_EXAMPLE, **change})
    assert attrs(r) == [attr]
    if detail:
        assert r.json()["error"]["errors"][0]["detail"] == detail
    assert "5506900480000008" not in r.text


@pytest.mark.parametrize("network", ["RUPAY", "AMEX"])
async def test_authorization_reference_number_is_required_for_rupay_and_amex(
    client: AsyncClient, merchant: Merchant, network: str
) -> None:
    example = next(e for e in USAGE_EXAMPLES if e["network"] == network)
    body = {k: v for k, v in example.items() if k != "authorization_reference_number"}
    r = await save(client, merchant, body)
    assert attrs(r) == ["authorization_reference_number"]
    expected = "Rupay" if network == "RUPAY" else "AMEX"
    assert (
        r.json()["error"]["errors"][0]["detail"] == f"Authorization reference number is required for {expected} cards."
    )


async def test_seed_000s_short_form_gets_number_accepted_cvv_ignored_and_consent_never_assumed(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    body = {
        "identifier": "EX0001",
        "number": "4895380110000003",
        "cvv": "123",
        "cardholder_name": "John Doe",
        "expiry_month": "05",
        "expiry_year": "2030",
        "network": "visa",
        "nickname": "VISA Debit",
    }
    assert sorted(attrs(await save(client, merchant, body))) == ["card_holder_consent", "card_type"]
    ok = await save(client, merchant, {**body, "card_type": "DEBIT", "card_holder_consent": True})
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"X-Client-Secret": None}, 401, "ERR_AUTH_000"),
        ({"X-Client-ID": "cl_test_wrong"}, 401, "ERR_AUTH_000"),
        ({"X-Merchant-ID": "mer_wrong"}, 401, "ERR_AUTH_000"),
        ({"X-Client-Secret": "sk_test_" + "x" * 43}, 401, "ERR_AUTH_000"),
    ],
)
async def test_missing_or_wrong_credentials_are_401_err_auth_000(
    client: AsyncClient, merchant: Merchant, change: dict[str, str | None], status: int, code: str
) -> None:
    sent = {k: v for k, v in {**headers(merchant), **change}.items() if v is not None}
    r = await client.post("/eximpe/pg/tokens/", json=SEED_EXAMPLE, headers=sent)
    assert r.status_code == status
    body = r.json()
    assert body["success"] is False and body["error"]["code"] == code
    assert set(body["error"]["details"]) == {"authentication"}


async def test_no_credentials_at_all_is_the_seeds_missing_credentials_body(client: AsyncClient) -> None:
    r = await client.post("/eximpe/pg/tokens/", json=SEED_EXAMPLE)
    assert r.status_code == 401
    assert r.json() == {
        "success": False,
        "error": {
            "code": "ERR_AUTH_000",
            "message": "Missing credentials",
            "details": {"authentication": "Missing credentials."},
        },
    }


async def test_a_publishable_key_may_not_save_cards(client: AsyncClient, merchant: Merchant) -> None:
    r = await save(client, merchant, SEED_EXAMPLE, secret=merchant.test.publishable_key)
    assert r.status_code == 403 and r.json()["success"] is False


async def test_a_suspended_merchant_may_not_save_cards(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    async with container.uow() as tx:
        await tx.merchants.set_status(merchant.id, "suspended")
        await tx.commit()
    assert (await save(client, merchant, SEED_EXAMPLE)).status_code == 403


async def test_token_management_lists_fetches_and_deletes(client: AsyncClient, merchant: Merchant) -> None:
    h = headers(merchant)
    token = (await save(client, merchant, SEED_EXAMPLE)).json()["data"]["card_token"]
    await save(client, merchant, {**USAGE_EXAMPLES[0], "identifier": "USER_PS_001"})
    listed = (await client.get("/eximpe/pg/tokens/", params={"identifier": "USER_PS_001"}, headers=h)).json()
    assert listed["success"] is True and len(listed["data"]) == 2
    assert {c["masked_card_number"] for c in listed["data"]} == {"550690XXXXXX0008", "411111XXXXXX1111"}
    one = (await client.get(f"/eximpe/pg/tokens/{token}/", headers=h)).json()["data"]
    assert one["card_token"] == token and one["network"] == "MASTERCARD" and one["card_last4"] == "0008"
    assert "5506900480000008" not in str(listed) + str(one)
    gone = await client.delete(f"/eximpe/pg/tokens/{token}/", headers=h)
    assert gone.status_code == 200 and gone.json()["data"] == {"card_token": token, "deleted": True}
    assert (await client.get(f"/eximpe/pg/tokens/{token}/", headers=h)).status_code == 404
    after = (await client.get("/eximpe/pg/tokens/", params={"identifier": "USER_PS_001"}, headers=h)).json()
    assert [c["card_token"] for c in after["data"]] != [token] and len(after["data"]) == 1
    missing = await client.get("/eximpe/pg/tokens/", headers=h)
    assert attrs(missing) == ["identifier"]


async def test_another_merchants_card_is_not_found(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    from tessera.core.merchants import create_merchant

    other_m, other = await create_merchant("Other", uow=container.uow)
    token = (await save(client, merchant, SEED_EXAMPLE)).json()["data"]["card_token"]
    h = {"X-Client-ID": other[0].client_id, "X-Client-Secret": other[0].secret_key, "X-Merchant-ID": other_m.id}
    assert (await client.get(f"/eximpe/pg/tokens/{token}/", headers=h)).status_code == 404
    assert (await client.delete(f"/eximpe/pg/tokens/{token}/", headers=h)).status_code == 404


async def test_a_body_that_is_not_json_is_a_validation_error(client: AsyncClient, merchant: Merchant) -> None:
    r = await client.post(
        "/eximpe/pg/tokens/", content=b"{not json", headers={**headers(merchant), "content-type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["error"]["type"] == "validation_error"
