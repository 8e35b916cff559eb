"""A NUL character (U+0000) is bad input wherever it comes: a 400 naming the field, in the dialect's
own format, on both databases (PostgreSQL's text columns cannot hold one; SQLite would store it)."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from tests.conftest import Merchant, auth
from tests.factories import payment


def _native_error(r: object) -> dict[str, object]:
    assert getattr(r, "status_code") == 400, getattr(r, "text")  # noqa: B009
    return dict(getattr(r, "json")()["error"])  # noqa: B009


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (payment(reference="order\u00001"), "reference"),
        (payment(description="a\u0000b"), "description"),
        (payment(customer={"name": "Jane\u0000"}), "customer.name"),
        (payment(metadata={"note\u0000": "x"}), "metadata.note"),
    ],
)
async def test_a_nul_in_a_native_body_is_a_400_naming_its_field(
    client: AsyncClient, merchant: Merchant, body: dict[str, object], param: str
) -> None:
    r = await client.post("/v1/payments", json=body, headers=auth(merchant.test.secret_key))
    error = _native_error(r)
    assert error["code"] == "parameter_invalid" and error["param"] == param
    listed = await client.get("/v1/payments", headers=auth(merchant.test.secret_key))
    assert listed.json()["data"] == []  # nothing half-written


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/v1/payments/pay_%00", "payment_id"),
        ("/v1/cards/card_%00", "card_token"),
        ("/v1/webhook_endpoints/we_%00", "endpoint_id"),
        ("/v1/payments?reference=a%00b", "reference"),
    ],
)
async def test_a_nul_in_a_native_path_or_query_is_a_400_naming_it(
    client: AsyncClient, merchant: Merchant, path: str, param: str
) -> None:
    error = _native_error(await client.get(path, headers=auth(merchant.test.secret_key)))
    assert error["code"] == "parameter_invalid" and error["param"] == param


async def test_text_that_only_looks_like_a_nul_is_kept(client: AsyncClient, merchant: Merchant) -> None:
    body = payment(description="100%00 pure \\u0000 text", reference="a%00b")
    r = await client.post("/v1/payments", json=body, headers=auth(merchant.test.secret_key))
    assert r.status_code == 201, r.text
    assert r.json()["description"] == "100%00 pure \\u0000 text"


async def test_a_nul_under_eximpe_is_refused_in_eximpe_s_words(client: AsyncClient, merchant: Merchant) -> None:
    h = {
        "X-Client-ID": merchant.test.client_id,
        "X-Client-Secret": merchant.test.secret_key,
        "X-Merchant-ID": merchant.id,
    }
    body = {"amount": "10.00", "currency": "INR", "reference_id": "R\u00001"}
    r = await client.post("/eximpe/pg/orders/", json=body, headers=h)
    assert r.status_code == 400, r.text
    assert r.json()["success"] is False
    assert r.json()["error"]["errors"][0]["attr"] == "reference_id"
    path = await client.get("/eximpe/pg/orders/pay_%00/status/", headers=h)
    assert path.status_code == 400 and path.json()["error"]["errors"][0]["attr"] == "order_id"
