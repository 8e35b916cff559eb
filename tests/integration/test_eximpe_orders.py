"""Seed 000's S2S card payments under /eximpe/pg/orders/, with every example body of the seed as written
(only the credentials, and the buyer's placeholder email, changed), on both databases."""

from __future__ import annotations

import asyncio
import base64
import copy
import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from httpx import AsyncClient, Response

from tests.conftest import Merchant, auth

EMAIL = "john.doe@example.com"  # the seed's "[email protected] " is a placeholder left by its web page

NEW_CARD_ORDER: dict[str, Any] = {
    "amount": "1000.00",
    "currency": "INR",
    "reference_id": "CARD_13MYHALESH7",
    "return_url": "https://yoursite.com/payment/callback/",
    "collection_mode": "s2s",
    "mop_type": "debit_card",
    "card_details": {
        "nickname": "VISA Debit",
        "number": "4895380110000003",
        "cardholder_name": "John Doe",
        "expiry_month": "05",
        "expiry_year": "2030",
        "cvv": "123",
        "network": "visa",
        "identifier": "EX0001",
        "save_card": True,
    },
    "buyer": {
        "name": "John Doe",
        "email": EMAIL,
        "phone": "+919876543210",
        "address": {
            "line_1": "123 Main Street",
            "line_2": "Apt 4B",
            "city": "City",
            "state": "State",
            "postal_code": "123456",
        },
        "ip_address": "192.168.1.100",
        "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36",
    },
    "product": {
        "name": "Sample Product",
        "description": "This is a sample product description",
        "hs_code": "98051000",
        "hs_code_description": "Portable automatic data processing machines",
        "type_of_goods": "physical_goods",
    },
    "invoice": {"number": "INV_0HOZ0C", "date": "2025-09-04"},
}

SAVED_CARD_ORDER: dict[str, Any] = {
    "amount": "1000.00",
    "currency": "INR",
    "reference_id": "CARD_4FQ0AIHQEI9",
    "return_url": "https://yoursite.com/payment/callback/",
    "collection_mode": "s2s",
    "mop_type": "credit_card",
    "card_details": {"token": "1e6709282a21e83f43a020", "identifier": "EX0001", "network": "visa"},
    "buyer": copy.deepcopy(NEW_CARD_ORDER["buyer"]),
    "product": copy.deepcopy(NEW_CARD_ORDER["product"]),
    "invoice": {"number": "INV_3MUK2I", "date": "2025-09-04"},
}

# Seed 000's shortened bodies, as written (their "// ... other required fields" left out).
FLOW_1_BODY: dict[str, Any] = {
    "amount": "1000.00",
    "collection_mode": "s2s",
    "mop_type": "debit_card",
    "card_details": {
        "number": "4895380110000003",
        "cardholder_name": "John Doe",
        "expiry_month": "05",
        "expiry_year": "2030",
        "cvv": "123",
        "network": "visa",
        "identifier": "EX0001",
        "save_card": True,
    },
}
TOKENIZATION_EXAMPLE_BODY: dict[str, Any] = {
    "amount": "1000.00",
    "collection_mode": "s2s",
    "mop_type": "CREDIT_CARD",
    "card_details": {
        "number": "4895380110000003",
        "cardholder_name": "John Doe",
        "expiry_month": "05",
        "expiry_year": "2030",
        "cvv": "123",
        "network": "visa",
        "identifier": "EX0001",
    },
}
USING_SAVED_TOKENS_BODY: dict[str, Any] = {
    "card_details": {"token": "1e6709282a21e83f43a020", "identifier": "EX0001", "network": "visa"}
}
SHORT_SAVE_CARD_BODY: dict[str, Any] = {
    "number": "4895380110000003",
    "cardholder_name": "John Doe",
    "expiry_month": "05",
    "expiry_year": "2030",
    "cvv": "123",
    "network": "visa",
    "identifier": "EX0001",
}
FRICTIONLESS = "4242424242424242"


def headers(merchant: Merchant, *, secret: str | None = None) -> dict[str, str]:
    return {
        "X-Client-ID": merchant.test.client_id,
        "X-Client-Secret": secret or merchant.test.secret_key,
        "X-Merchant-ID": merchant.id,
        "X-API-Version": "1.0.0",
    }


def order_body(number: str = FRICTIONLESS, reference: str = "ORDER-1", **card: Any) -> dict[str, Any]:
    body = copy.deepcopy(NEW_CARD_ORDER)
    body["reference_id"] = reference
    body["card_details"] = {**body["card_details"], "number": number, "save_card": False, **card}
    return body


async def create(client: AsyncClient, merchant: Merchant, body: Any) -> Response:
    return await client.post("/eximpe/pg/orders/", json=body, headers=headers(merchant))


async def status_of(client: AsyncClient, merchant: Merchant, order_id: str) -> dict[str, Any]:
    r = await client.get(f"/eximpe/pg/orders/{order_id}/status/", headers=headers(merchant))
    assert r.status_code == 200, r.text
    assert r.json()["success"] is True
    data: dict[str, Any] = r.json()["data"]
    return data


def attrs(response: Response) -> list[str]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["success"] is False and body["error"]["type"] == "validation_error"
    assert all(e["code"] == "invalid" and e["detail"] for e in body["error"]["errors"])
    return [e["attr"] for e in body["error"]["errors"]]


def _form(page: str) -> tuple[str, str, dict[str, str]]:
    """A page's first form: its method, action (as a path) and hidden fields."""
    tag = re.search(r"<form\b[^>]*>", page)
    assert tag, page
    action = html.unescape(re.search(r'action="([^"]+)"', tag.group(0)).group(1))  # type: ignore[union-attr]
    method = re.search(r'method="([^"]+)"', tag.group(0)).group(1)  # type: ignore[union-attr]
    fields = {html.unescape(n): html.unescape(v) for n, v in re.findall(r'name="([^"]+)" value="([^"]*)"', page)}
    return method, urlsplit(action).path, fields


async def complete_challenge(client: AsyncClient, acs_template: str, *, otp: str = "123456") -> dict[str, list[str]]:
    """What a browser does with the decoded acs_template: post its form to the ACS, answer the challenge,
    post the CRes back; returns the query of the return_url it is sent to."""
    page = base64.b64decode(acs_template).decode()
    method, path, fields = _form(page)
    assert method == "post" and path == "/sandbox/acs/challenge" and set(fields) == {"creq", "threeDSSessionData"}
    challenge = await client.post(path, data=fields)
    assert challenge.status_code == 200 and 'name="otp"' in challenge.text
    _, answer_path, answer_fields = _form(challenge.text)
    reply = await client.post(answer_path, data={**answer_fields, "otp": otp, "action": "submit"})
    _, notify_path, notify_fields = _form(reply.text)
    back = await client.post(notify_path, data=notify_fields)
    assert back.status_code == 303
    location = urlsplit(back.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == "https://yoursite.com/payment/callback/"
    return parse_qs(location.query)


# ------------------------------------------------------------------------------------- the seed's flows


async def test_seed_new_card_order_answers_an_acs_template_that_auto_posts_to_the_sandbox_acs(
    client: AsyncClient, merchant: Merchant
) -> None:
    r = await create(client, merchant, NEW_CARD_ORDER)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["success"] is True and answer["message"] == "S2S Card Payment Request created successfully"
    data = answer["data"]
    assert data["order_id"].startswith("pay_") and data["status"] == "payment_pending"
    page = base64.b64decode(data["acs_template"], validate=True).decode()
    assert page.startswith("<!doctype html>") and page.endswith("</html>")
    assert "<noscript>" in page and 'type="submit"' in page and ".submit()" in page
    method, path, fields = _form(page)
    assert (method, path) == ("post", "/sandbox/acs/challenge") and fields["creq"]
    assert "4895380110000003" not in r.text and '"123"' not in r.text
    found = await status_of(client, merchant, data["order_id"])
    assert found["status"] == "payment_pending" and found["mop_type"] == "debit_card"
    assert found["reference_id"] == "CARD_13MYHALESH7" and found["amount"] == "1000.00"


async def test_seed_new_card_order_after_the_challenge_is_successful_and_its_card_saved(
    client: AsyncClient, merchant: Merchant
) -> None:
    data = (await create(client, merchant, NEW_CARD_ORDER)).json()["data"]
    back = await complete_challenge(client, data["acs_template"])
    assert back == {"order_id": [data["order_id"]], "status": ["payment_successful"]}
    found = await status_of(client, merchant, data["order_id"])
    assert found["status"] == "payment_successful" and found["error_code"] is None
    assert found["payment_id"].startswith("op_") and found["bank_ref_num"]
    card = found["card"]
    assert card["masked_card_number"] == "489538XXXXXX0003" and card["network"] == "VISA"
    token = card["card_token"]
    assert token, "save_card: true saves the card once the challenged payment succeeds"
    listed = await client.get("/eximpe/pg/tokens/", params={"identifier": "EX0001"}, headers=headers(merchant))
    assert [(c["card_token"], c["card_type"], c["nickname"]) for c in listed.json()["data"]] == [
        (token, "DEBIT", "VISA Debit")
    ]


async def test_seed_saved_card_order_pays_with_the_token_saved_by_the_new_card_order(
    client: AsyncClient, merchant: Merchant
) -> None:
    first = (await create(client, merchant, NEW_CARD_ORDER)).json()["data"]
    await complete_challenge(client, first["acs_template"])
    token = (await status_of(client, merchant, first["order_id"]))["card"]["card_token"]
    body = copy.deepcopy(SAVED_CARD_ORDER)
    body["card_details"]["token"] = token
    r = await create(client, merchant, body)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["acs_template"]  # the seed's card is a challenge card, saved or not
    await complete_challenge(client, data["acs_template"])
    found = await status_of(client, merchant, data["order_id"])
    assert found["status"] == "payment_successful" and found["mop_type"] == "credit_card"
    assert found["card"]["card_token"] == token


async def test_seed_saved_card_order_pays_with_a_card_from_the_save_card_api(
    client: AsyncClient, merchant: Merchant
) -> None:
    saved = await client.post(
        "/eximpe/pg/tokens/",
        json={
            "identifier": "EX0001",
            "card_number": "4111111111111111",
            "cardholder_name": "John Doe",
            "expiry_month": 12,
            "expiry_year": 2030,
            "network": "VISA",
            "card_type": "CREDIT",
            "card_holder_consent": True,
        },
        headers=headers(merchant),
    )
    token = saved.json()["data"]["card_token"]
    body = copy.deepcopy(SAVED_CARD_ORDER)
    body["card_details"]["token"] = token
    r = await create(client, merchant, body)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert "acs_template" not in data  # a frictionless card needs no browser: the answer has its status
    assert data["status"] == "payment_successful" and data["card"]["card_token"] == token
    assert data["payment_id"].startswith("op_") and data["bank_ref_num"]


async def test_seed_saved_card_order_as_written_names_its_unknown_token(
    client: AsyncClient, merchant: Merchant
) -> None:
    assert attrs(await create(client, merchant, SAVED_CARD_ORDER)) == ["card_details.token"]


async def test_a_saved_card_pays_only_for_its_own_identifier(client: AsyncClient, merchant: Merchant) -> None:
    made = (await create(client, merchant, order_body(save_card=True))).json()["data"]
    token = made["card"]["card_token"]
    body = copy.deepcopy(SAVED_CARD_ORDER)
    body["card_details"].update(token=token, identifier="SOMEONE_ELSE")
    assert attrs(await create(client, merchant, body)) == ["card_details.token"]


@pytest.mark.parametrize(
    "body", [FLOW_1_BODY, TOKENIZATION_EXAMPLE_BODY, USING_SAVED_TOKENS_BODY], ids=["flow1", "tokenize", "tokens"]
)
async def test_seed_shortened_bodies_as_written_list_the_fields_they_leave_out(
    client: AsyncClient, merchant: Merchant, body: dict[str, Any]
) -> None:
    missing = set(attrs(await create(client, merchant, body)))
    assert {"currency", "reference_id", "return_url", "buyer"} <= missing
    if "mop_type" not in body:
        assert {"amount", "collection_mode", "mop_type"} <= missing
    assert not any(a.startswith("card_details") for a in missing)


async def test_seed_000s_short_save_card_body_gets_seed_004s_validation_error(
    client: AsyncClient, merchant: Merchant
) -> None:
    r = await client.post("/eximpe/pg/tokens/", json=SHORT_SAVE_CARD_BODY, headers=headers(merchant))
    assert sorted(attrs(r)) == ["card_holder_consent", "card_type"]
    assert "4895380110000003" not in r.text


# --------------------------------------------------------------------------------- payments without browser


async def test_a_frictionless_card_answers_its_status_without_acs_template(
    client: AsyncClient, merchant: Merchant
) -> None:
    r = await create(client, merchant, order_body(save_card=True))
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert "acs_template" not in data and data["status"] == "payment_successful"
    assert data["card"]["card_token"] and data["card"]["card_last4"] == "4242"


async def test_mop_type_in_capitals_is_accepted_and_kept_in_lower_case(client: AsyncClient, merchant: Merchant) -> None:
    r = await create(client, merchant, {**order_body(), "mop_type": "CREDIT_CARD"})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["mop_type"] == "credit_card"


async def test_expiry_may_be_numbers_and_network_any_case(client: AsyncClient, merchant: Merchant) -> None:
    r = await create(client, merchant, order_body(expiry_month=5, expiry_year=2030, network="VISA"))
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("4000000000000002", "CARD_DECLINED"),
        ("4000000000009995", "INSUFFICIENT_FUNDS"),
        ("4000000000000069", "EXPIRED_CARD"),
        ("4000000000000127", "INVALID_CVV"),
        ("4000000000003089", "3DS_FAILED"),
        ("4000000000000119", "NETWORK_ERROR"),
    ],
)
async def test_a_failed_payment_answers_its_error_code_and_saves_nothing(
    client: AsyncClient, merchant: Merchant, number: str, code: str
) -> None:
    r = await create(client, merchant, order_body(number, save_card=True))
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["success"] is False and body["error"]["code"] == code and body["error"]["message"]
    order_id = body["error"]["details"]["order_id"]
    found = await status_of(client, merchant, order_id)
    assert found["status"] == "failed" and found["error_code"] == code
    assert found["card"]["card_token"] is None
    assert number not in r.text


async def test_a_card_past_its_expiry_is_refused_before_any_order(client: AsyncClient, merchant: Merchant) -> None:
    r = await create(client, merchant, order_body(expiry_month="01", expiry_year="2020"))
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "EXPIRED_CARD"
    listed = await client.get("/v1/payments", headers=auth(merchant.test.secret_key))
    assert listed.json()["data"] == []


# ---------------------------------------------------------------------------------------- references


async def test_a_repeated_reference_is_409_naming_the_existing_order_and_never_charges_again(
    client: AsyncClient, merchant: Merchant
) -> None:
    first = (await create(client, merchant, order_body(reference="REF-1"))).json()["data"]
    again = await create(client, merchant, order_body("4111111111111111", reference="REF-1"))
    assert again.status_code == 409
    error = again.json()["error"]
    assert again.json()["success"] is False and error["code"] == "ERR_DUPLICATE_REFERENCE"
    assert error["details"]["order_id"] == first["order_id"]
    listed = await client.get("/v1/payments", params={"reference": "REF-1"}, headers=auth(merchant.test.secret_key))
    assert [p["id"] for p in listed.json()["data"]] == [first["order_id"]]


async def test_racing_orders_with_one_reference_make_one_payment(client: AsyncClient, merchant: Merchant) -> None:
    answers = await asyncio.gather(*(create(client, merchant, order_body(reference="RACE-1")) for _ in range(6)))
    made = [r for r in answers if r.status_code == 200]
    refused = [r for r in answers if r.status_code == 409]
    assert len(made) == 1 and len(refused) == 5, [r.text for r in answers]
    order_id = made[0].json()["data"]["order_id"]
    assert {r.json()["error"]["details"]["order_id"] for r in refused} == {order_id}
    listed = await client.get("/v1/payments", params={"reference": "RACE-1"}, headers=auth(merchant.test.secret_key))
    assert len(listed.json()["data"]) == 1 and len(listed.json()["data"][0]["operations"]) == 1


async def test_the_same_reference_is_free_for_another_merchant(
    client: AsyncClient, merchant: Merchant, container: Any
) -> None:
    from tessera.core.merchants import create_merchant

    other, creds = await create_merchant("Other", uow=container.uow, allowed_domains=["yoursite.com"])
    other_headers = {
        "X-Client-ID": creds[0].client_id,
        "X-Client-Secret": creds[0].secret_key,
        "X-Merchant-ID": other.id,
    }
    assert (await create(client, merchant, order_body(reference="SHARED"))).status_code == 200
    r = await client.post("/eximpe/pg/orders/", json=order_body(reference="SHARED"), headers=other_headers)
    assert r.status_code == 200, r.text
    mine = r.json()["data"]["order_id"]
    assert (await client.get(f"/eximpe/pg/orders/{mine}/", headers=headers(merchant))).status_code == 404


async def test_an_idempotency_key_replays_the_first_answer(client: AsyncClient, merchant: Merchant) -> None:
    sent = {**headers(merchant), "Idempotency-Key": "k-1"}
    first = await client.post("/eximpe/pg/orders/", json=order_body(reference="IDEM"), headers=sent)
    second = await client.post("/eximpe/pg/orders/", json=order_body(reference="IDEM"), headers=sent)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() and second.headers["Idempotent-Replayed"] == "true"


# ----------------------------------------------------------------------------------------- validation


async def test_an_empty_body_lists_every_required_field(client: AsyncClient, merchant: Merchant) -> None:
    assert sorted(attrs(await create(client, merchant, {}))) == sorted(
        ["amount", "currency", "reference_id", "return_url", "collection_mode", "mop_type", "buyer", "card_details"]
    )


def _with(path: str, value: Any) -> dict[str, Any]:
    body = order_body()
    *parents, last = path.split(".")
    node = body
    for part in parents:
        node = node[part]
    if value is _DROP:
        node.pop(last)
    else:
        node[last] = value
    return body


_DROP = object()


@pytest.mark.parametrize(
    ("path", "value", "attr"),
    [
        ("amount", "1000", "amount"),
        ("amount", "1000.0", "amount"),
        ("amount", "1000.000", "amount"),
        ("amount", 1000.0, "amount"),
        ("amount", "0.00", "amount"),
        ("amount", "-5.00", "amount"),
        ("currency", "XYZ", "currency"),
        ("collection_mode", "redirect", "collection_mode"),
        ("mop_type", "upi", "mop_type"),
        ("return_url", "yoursite.com/back", "return_url"),
        ("buyer.email", "[email protected] ", "buyer.email"),
        ("buyer.ip_address", _DROP, "buyer.ip_address"),
        ("buyer.ip_address", "999.1.1.1", "buyer.ip_address"),
        ("buyer.user_agent", _DROP, "buyer.user_agent"),
        ("card_details.number", "4242424242424241", "card_details.number"),
        ("card_details.cvv", "12", "card_details.cvv"),
        ("card_details.cvv", 123, "card_details.cvv"),
        ("card_details.expiry_month", "13", "card_details.expiry_month"),
        ("card_details.expiry_year", "twenty", "card_details.expiry_year"),
        ("card_details.network", "mastercard", "card_details.network"),
        ("card_details.network", "paypal", "card_details.network"),
        ("card_details.cardholder_name", _DROP, "card_details.cardholder_name"),
        ("card_details.save_card", "yes", "card_details.save_card"),
        ("invoice.date", "04-09-2025", "invoice.date"),
        ("product.hs_code", "98-05", "product.hs_code"),
    ],
)
async def test_each_rule_names_its_field(
    client: AsyncClient, merchant: Merchant, path: str, value: Any, attr: str
) -> None:
    r = await create(client, merchant, _with(path, value))
    assert attrs(r) == [attr]
    assert FRICTIONLESS not in r.text


async def test_the_jpy_amount_has_no_decimals(client: AsyncClient, merchant: Merchant) -> None:
    assert attrs(await create(client, merchant, {**order_body(), "currency": "JPY"})) == ["amount"]
    r = await create(client, merchant, {**order_body(), "currency": "JPY", "amount": "1000"})
    assert r.status_code == 200, r.text and r.json()["data"]["amount"] == "1000"


async def test_saving_a_card_needs_its_identifier(client: AsyncClient, merchant: Merchant) -> None:
    body = order_body(save_card=True)
    body["card_details"].pop("identifier")
    assert attrs(await create(client, merchant, body)) == ["card_details.identifier"]


async def test_a_token_and_a_number_together_are_refused(client: AsyncClient, merchant: Merchant) -> None:
    assert attrs(await create(client, merchant, order_body(token="abc"))) == ["card_details"]


async def test_every_bad_field_is_listed_at_once_without_echoing_the_card(
    client: AsyncClient, merchant: Merchant
) -> None:
    body = order_body("4895380110000004")
    body.update(amount="10", collection_mode="hosted", mop_type="wallet")
    body["buyer"].update(email="nope", ip_address="x")
    body["card_details"].update(cvv="1", expiry_month="00")
    r = await create(client, merchant, body)
    assert sorted(attrs(r)) == sorted(
        [
            "amount",
            "collection_mode",
            "mop_type",
            "buyer.email",
            "buyer.ip_address",
            "card_details.number",
            "card_details.expiry_month",
            "card_details.cvv",
        ]
    )
    assert "4895380110000004" not in r.text


async def test_a_body_that_is_not_json_is_a_validation_error(client: AsyncClient, merchant: Merchant) -> None:
    r = await client.post(
        "/eximpe/pg/orders/", content=b"{not json", headers={**headers(merchant), "Content-Type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["error"]["type"] == "validation_error"


async def test_a_return_url_off_the_whitelist_is_a_clear_error(client: AsyncClient, merchant: Merchant) -> None:
    r = await create(client, merchant, {**order_body(), "return_url": "https://evil.example/steal"})
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "ERR_DOMAIN_NOT_WHITELISTED" and "return_url" in error["details"]


async def test_missing_credentials_are_the_seeds_err_auth_000(client: AsyncClient, merchant: Merchant) -> None:
    r = await client.post("/eximpe/pg/orders/", json=NEW_CARD_ORDER)
    assert r.status_code == 401
    assert r.json()["error"] == {
        "code": "ERR_AUTH_000",
        "message": "Missing credentials",
        "details": {"authentication": "Missing credentials."},
    }
    wrong = await client.post(
        "/eximpe/pg/orders/", json=NEW_CARD_ORDER, headers=headers(merchant, secret="sk_test_" + "x" * 43)
    )
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "ERR_AUTH_000"
    for path in ("/eximpe/pg/orders/pay_x/", "/eximpe/pg/orders/pay_x/status/"):
        assert (await client.get(path)).json()["error"]["code"] == "ERR_AUTH_000"


async def test_an_unknown_order_is_404(client: AsyncClient, merchant: Merchant) -> None:
    for path in ("/eximpe/pg/orders/pay_nope/", "/eximpe/pg/orders/pay_nope/status/"):
        r = await client.get(path, headers=headers(merchant))
        assert r.status_code == 404 and r.json()["error"]["code"] == "ERR_NOT_FOUND"


# ------------------------------------------------------------------------------- one payment, every door


async def test_an_order_is_the_native_payment_and_refunds_and_chargebacks_show_in_both(
    client: AsyncClient, merchant: Merchant
) -> None:
    order_id = (await create(client, merchant, order_body(reference="DOOR-1"))).json()["data"]["order_id"]
    sk = auth(merchant.test.secret_key)
    native = (await client.get(f"/v1/payments/{order_id}", headers=sk)).json()
    assert native["status"] == "completed" and native["amount"] == 100000 and native["reference"] == "DOOR-1"
    assert native["customer"]["email"] == EMAIL and native["browser"]["ip"] == "192.168.1.100"
    full = (await client.get(f"/eximpe/pg/orders/{order_id}/", headers=headers(merchant))).json()["data"]
    assert full["product"]["hs_code"] == "98051000" and full["invoice"] == {
        "number": "INV_0HOZ0C",
        "date": "2025-09-04",
    }
    assert full["buyer"]["address"]["postal_code"] == "123456" and full["buyer"]["user_agent"].startswith("Mozilla")
    assert full["collection_mode"] == "s2s" and full["authentication"]["status"] == "Y"
    refunded = await client.post(f"/v1/payments/{order_id}/refunds", json={"amount": 25000}, headers=sk)
    assert refunded.status_code == 201
    assert (await status_of(client, merchant, order_id))["status"] == "partially_refunded"
    charged = await client.post(f"/v1/test_helpers/payments/{order_id}/chargeback", headers=sk)
    assert charged.status_code == 200, charged.text
    found = (await client.get(f"/eximpe/pg/orders/{order_id}/", headers=headers(merchant))).json()["data"]
    assert found["status"] == "charged_back" and found["amount_charged_back"] == "750.00"


async def test_the_orders_events_carry_their_channel_and_mop_type(client: AsyncClient, merchant: Merchant) -> None:
    order_id = (await create(client, merchant, order_body(reference="EVT-1"))).json()["data"]["order_id"]
    events = (await client.get("/v1/events", headers=auth(merchant.test.secret_key))).json()["data"]
    mine = [e for e in events if e["payment_id"] == order_id]
    assert mine and all(e["data"]["channel"] == "eximpe" for e in mine)
    assert all(e["data"]["channel_data"]["mop_type"] == "debit_card" for e in mine)
