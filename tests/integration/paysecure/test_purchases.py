"""Seed 001's step 1 under /paysecure/api/v1: creating a purchase, its credentials and its refusals, on
both databases. Every refusal is `{"message", "code"}` with the seed's statuses and words."""

from __future__ import annotations

import re
from typing import Any

from httpx import AsyncClient

from tessera.core.merchants import create_merchant
from tests.conftest import Merchant, auth
from tests.integration.paysecure.helpers import BASE, brand_id, create, purchase_body


async def _refused(
    client: AsyncClient, body: Any, key: str, *, path: str = "/purchases/", **kw: Any
) -> tuple[int, dict[str, Any]]:
    found = await client.post(f"{BASE}{path}", json=body, headers=auth(key), **kw)
    return found.status_code, found.json()


async def test_a_purchase_is_created_with_or_without_the_trailing_slash(
    client: AsyncClient, merchant: Merchant
) -> None:
    made = await create(client, merchant, merchantRef="order-1")
    assert re.fullmatch(r"[0-9a-f]{24}", made["purchaseId"])
    assert made["status"] == "CREATED" and made["status_history"][0]["status"] == "created"
    assert made["amountUnit"] == "MAJOR" and made["is_test"] is True
    assert made["purchase"]["total"] == 20.0 and made["merchantRef"] == "order-1"
    assert made["direct_post_url"].endswith(f"/paysecure/api/v1/p/{made['purchaseId']}/")
    assert made["brand_id"] == await brand_id(client, merchant)
    body = purchase_body(await brand_id(client, merchant), merchantRef="order-2")
    bare = await client.post(f"{BASE}/purchases", json=body, headers=auth(merchant.test.secret_key))
    assert bare.status_code == 202 and bare.json()["status"] == "CREATED"


async def test_the_total_is_the_sum_of_the_product_prices_in_major_units(
    client: AsyncClient, merchant: Merchant
) -> None:
    products = [{"name": "a", "price": "5.25"}, {"name": "b", "price": 10.5, "quantity": 1}]
    made = await create(client, merchant, purchase={"currency": "EUR", "products": products})
    assert made["purchase"]["total"] == 15.75
    container = client._transport.app.state.container  # type: ignore[attr-defined]
    payment = await container.services.payments.get(merchant.id, "test", _payment_id(made["purchaseId"]))
    assert payment.amount == 1575 and payment.channel == "paysecure"  # the same payment /v1 sees


def _payment_id(purchase_id: str) -> str:
    from tessera.dialects.paysecure.requests import payment_id_of

    found = payment_id_of(purchase_id)
    assert found is not None
    return found


async def test_the_same_purchase_is_a_payment_of_the_native_api(client: AsyncClient, merchant: Merchant) -> None:
    made = await create(client, merchant)
    native = await client.get(f"/v1/payments/{_payment_id(made['purchaseId'])}", headers=auth(merchant.test.secret_key))
    assert native.status_code == 200 and native.json()["status"] == "requires_payment_method"


async def test_brand_id_is_required_and_another_merchants_is_refused(client: AsyncClient, merchant: Merchant) -> None:
    key = merchant.test.secret_key
    body = purchase_body("x")
    del body["brand_id"]
    assert await _refused(client, body, key) == (400, {"message": "brand_id is missing", "code": "parameter_missing"})
    container = client._transport.app.state.container  # type: ignore[attr-defined]
    other, _ = await create_merchant("Other", uow=container.uow, allowed_domains=["yoursite.com"])
    theirs = (await container.services.identities.get(other.id, "test", "brand_id")).public_id
    assert await _refused(client, purchase_body(theirs), key) == (
        400,
        {"message": "Brand not found!", "code": "transaction_error"},
    )
    live = await brand_id(client, merchant, "live")  # brand ids are per mode
    assert live != await brand_id(client, merchant)
    assert (await _refused(client, purchase_body(live), key))[1]["message"] == "Brand not found!"


async def test_credentials_are_refused_in_paysecure_words(client: AsyncClient, merchant: Merchant) -> None:
    body = purchase_body(await brand_id(client, merchant))
    missing = await client.post(f"{BASE}/purchases/", json=body)
    assert (missing.status_code, missing.json()) == (
        401,
        {"message": "Authorization header missing", "code": "authentication_failed"},
    )
    wrong = await _refused(client, body, "sk_test_nope")
    assert wrong == (401, {"message": "Incorrect secret_key", "code": "authentication_failed"})
    publishable = await _refused(client, body, merchant.test.publishable_key)
    assert publishable == (401, {"message": "Incorrect secret_key", "code": "authentication_failed"})


async def test_a_body_that_is_not_json_is_refused_with_415_or_400(client: AsyncClient, merchant: Merchant) -> None:
    key = merchant.test.secret_key
    plain = await client.post(f"{BASE}/purchases/", content=b"x=1", headers=auth(key) | {"Content-Type": "text/plain"})
    assert plain.status_code == 415 and plain.json()["code"] == "unsupported_media_type"
    broken = await client.post(
        f"{BASE}/purchases/", content=b"{", headers=auth(key) | {"Content-Type": "application/json"}
    )
    assert (broken.status_code, broken.json()) == (
        400,
        {"message": "Request Body Not Found/MalFormed", "code": "invalid_json"},
    )


async def test_each_bad_field_is_named_in_paysecure_words(client: AsyncClient, merchant: Merchant) -> None:
    key, brand = merchant.test.secret_key, await brand_id(client, merchant)
    base = purchase_body(brand)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"client": base["client"] | {"email": ""}}, "client.email is missing"),
        ({"client": base["client"] | {"email": "a@b"}}, "Invalid Email Format"),
        (
            {"client": base["client"] | {"country": "gb"}},
            'Please submit Valid Alpha2 Country Code Ex:(AF,IN) in "country" parameter',
        ),
        ({"client": base["client"] | {"stateCode": ""}}, "Please pass Valid State Code"),
        ({"client": base["client"] | {"city": ""}}, 'Please pass valid city name in "city" parameter'),
        ({"success_redirect": None}, "success_redirect is missing"),
        ({"failure_redirect": "not a url"}, "failure_redirect must be an absolute http or https URL"),
        (
            {"purchase": {"currency": "EUR", "products": [{"name": "a", "price": "1.001"}]}},
            "purchase.products[0].price has more decimals than EUR allows (2)",
        ),
        ({"purchase": {"currency": "EUR", "products": []}}, "purchase.products must list at least one product"),
        ({"skip_capture": "yes"}, "skip_capture must be true or false"),
    ]
    for change, message in cases:
        status, body = await _refused(client, base | change, key)
        assert status == 400 and body["message"] == message, (change, body)
        assert set(body) == {"message", "code"}


async def test_a_redirect_outside_the_merchants_domains_is_refused(client: AsyncClient, merchant: Merchant) -> None:
    key, brand = merchant.test.secret_key, await brand_id(client, merchant)
    for field in ("success_redirect", "failure_redirect"):
        status, body = await _refused(client, purchase_body(brand, **{field: "https://evil.example/x"}), key)
        assert status == 400 and "allowed domains" in body["message"]


async def test_a_merchant_ref_is_unique_per_merchant(client: AsyncClient, merchant: Merchant) -> None:
    await create(client, merchant, merchantRef="dup-1")
    status, body = await _refused(
        client, purchase_body(await brand_id(client, merchant), merchantRef="dup-1"), merchant.test.secret_key
    )
    assert (status, body) == (400, {"message": "Duplicate merchantRef Found!", "code": "transaction_error"})


async def test_an_unknown_purchase_is_not_found(client: AsyncClient, merchant: Merchant) -> None:
    for pid in ("0" * 24, "nothex"):
        found = await client.get(f"{BASE}/purchases/{pid}/", headers=auth(merchant.test.secret_key))
        assert (found.status_code, found.json()) == (
            404,
            {"message": "PurchaseId Not found.", "code": "transaction_error"},
        )


async def test_the_public_key_is_a_pem_of_the_merchants_signing_key(client: AsyncClient, merchant: Merchant) -> None:
    found = await client.get(f"{BASE}/public_key/", headers=auth(merchant.test.secret_key))
    assert found.status_code == 200 and found.text.startswith("-----BEGIN PUBLIC KEY-----")
    again = await client.get(f"{BASE}/public_key/", headers=auth(merchant.test.secret_key))
    assert again.text == found.text
    live = await client.get(f"{BASE}/public_key/", headers=auth(merchant.live.secret_key))
    assert live.text != found.text
