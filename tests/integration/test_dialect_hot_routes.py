"""The OPPWA and Paysecure hot handlers (dialects/_common/hot_route.py): every request answers alike
through the app as it runs and through a twin whose routes are built with FastAPI's own handler only."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from httpx import AsyncClient, Response

from tessera.app import create_app
from tessera.bootstrap import Container
from tests.conftest import Merchant, auth
from tests.integration.oppwa.helpers import APPROVED, DECLINED, card_form, entity_id
from tests.integration.paysecure.helpers import brand_id, purchase_body, s2s


@pytest.fixture
async def standard(container: Container) -> AsyncIterator[AsyncClient]:
    """A client of the same store through an app that runs FastAPI's handler on every request."""
    settings = container.settings.model_copy(update={"hot_handlers": False})
    app = create_app(settings, container=container, embedded_worker=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://tessera.test") as http:
        yield http


_VOLATILE = [
    (re.compile(r"\b[a-z]+_[0-9a-hjkmnp-tv-z]{26}\b"), "<id>"),
    (re.compile(r"\b[0-9a-f]{20,32}\b"), "<hex id>"),  # OPPWA's ids and Paysecure's purchase ids
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?"), "<time>"),
    (re.compile(r"^\d{10,}$"), "<number>"),  # epoch seconds, retrieval references
    (re.compile(r"\bsbx_[0-9a-f]+\b"), "<acquirer reference>"),
    (re.compile(r'(name="\w+" value=)"[^"]*"'), r'\1"<form value>"'),  # the ACS form's per-payment values
]
# OPPWA's request and build tags; Paysecure's generated reference
_PER_REQUEST = {".ndc", ".buildNumber", ".descriptor", ".reference_generated"}


def _masked(value: Any) -> Any:
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return value
    text = str(value)
    for pattern, placeholder in _VOLATILE:
        text = pattern.sub(placeholder, text)
    return text if text != str(value) else value


def _flat(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in _flat(item, f"{path}.{key}").items()}
    if isinstance(value, list):
        return {k: v for i, item in enumerate(value) for k, v in _flat(item, f"{path}[{i}]").items()}
    return {path: _masked(value)}


def _differences(hot: Response, fastapi: Response) -> dict[str, tuple[Any, Any]]:
    """What differs between two answers (status, Location, body), ids, times and per-request values masked."""
    seen = []
    for response in (hot, fastapi):
        try:
            body = _flat(response.json())
        except ValueError:
            body = {"": _masked(response.text)}
        body = {k: "<per request>" if k in _PER_REQUEST else v for k, v in body.items()}
        seen.append(body | {"status": response.status_code, "location": _masked(response.headers.get("location", ""))})
    a, b = seen
    return {k: (a.get(k), b.get(k)) for k in a.keys() | b.keys() if a.get(k) != b.get(k)}


OPPWA_CASES = [
    ("an approved debit", {"paymentType": "DB"}, "secret"),
    ("a declined debit", {"paymentType": "DB", "card.number": DECLINED}, "secret"),
    ("a field the rules refuse", {"amount": "92.001"}, "secret"),
    ("a required field left out", {"currency": ""}, "secret"),
    ("another merchant's entity", {"entityId": "8a8294174b7ecb28014b9699220015ca"}, "secret"),
    ("a publishable key", {}, "publishable"),
    ("an unknown key", {}, "unknown"),
]


@pytest.mark.parametrize(("case", "changes", "key"), OPPWA_CASES)
async def test_oppwa_payments_answer_alike_hot_and_standard(
    client: AsyncClient, standard: AsyncClient, merchant: Merchant, case: str, changes: dict[str, str], key: str
) -> None:
    entity = await entity_id(client, merchant)
    form = {"entityId": entity} | card_form(APPROVED) | changes
    sent = auth(_key(merchant, key))
    hot, fastapi = [await c.post("/oppwa/v1/payments", data=form, headers=sent) for c in (client, standard)]
    assert _differences(hot, fastapi) == {}, case


def _key(merchant: Merchant, kind: str) -> str:
    return {
        "secret": merchant.test.secret_key,
        "publishable": merchant.test.publishable_key,
        "unknown": "sk_test_" + "x" * 32,
    }[kind]


async def _purchase(http: AsyncClient, merchant: Merchant, key: str = "secret", **changes: Any) -> Response:
    body = purchase_body(await brand_id(http, merchant)) | changes
    return await http.post("/paysecure/api/v1/purchases/", json=body, headers=auth(_key(merchant, key)))


@pytest.mark.parametrize(
    ("case", "changes", "key"),
    [
        ("a purchase", {}, "secret"),
        ("another brand", {"brand_id": "00000000-0000-0000-0000-000000000000"}, "secret"),
        (
            "a failure redirect the merchant does not allow",
            {"failure_redirect": "https://elsewhere.example/"},
            "secret",
        ),
        ("a publishable key", {}, "publishable"),
        ("an unknown key", {}, "unknown"),
    ],
)
async def test_paysecure_purchases_answer_alike_hot_and_standard(
    client: AsyncClient, standard: AsyncClient, merchant: Merchant, case: str, changes: dict[str, Any], key: str
) -> None:
    hot, fastapi = [await _purchase(c, merchant, key, **changes) for c in (client, standard)]
    assert _differences(hot, fastapi) == {}, case


@pytest.mark.parametrize(
    ("case", "number", "query", "key"),
    [
        ("an approved card", "4242424242424242", "?s2s=true", "secret"),
        ("a declined card", DECLINED, "?s2s=true", "secret"),
        ("a challenged card", "4000002500003155", "?s2s=true", "secret"),
        ("a card number the core refuses", "4242424242424241", "?s2s=true", "secret"),
        ("no s2s flag", "4242424242424242", "", "secret"),
        ("a publishable key", "4242424242424242", "?s2s=true", "publishable"),
    ],
)
async def test_paysecure_card_posts_and_the_shoppers_return_answer_alike_hot_and_standard(
    client: AsyncClient, standard: AsyncClient, merchant: Merchant, case: str, number: str, query: str, key: str
) -> None:
    answers = []
    for http in (client, standard):
        purchase = (await _purchase(http, merchant)).json()
        posted = await http.post(
            f"/paysecure/api/v1/p/{purchase['purchaseId']}/{query}", json=s2s(number), headers=auth(_key(merchant, key))
        )
        shopper = await http.get(f"/paysecure/api/v1/payment/{purchase['purchaseId']}/")
        answers.append((posted, shopper))
    (hot_post, hot_shopper), (fastapi_post, fastapi_shopper) = answers
    assert _differences(hot_post, fastapi_post) == {}, case
    assert _differences(hot_shopper, fastapi_shopper) == {}, case


async def test_an_unknown_purchase_answers_alike_to_the_shopper(client: AsyncClient, standard: AsyncClient) -> None:
    hot, fastapi = [await c.get("/paysecure/api/v1/payment/not-a-purchase/") for c in (client, standard)]
    assert hot.status_code == 404
    assert _differences(hot, fastapi) == {}
