"""EximPe's hot handler for POST /eximpe/pg/orders/ (dialects/_common/hot_route.py): it answers a request
with the three credential headers and a body orjson parses exactly as the FastAPI-solved endpoint does, and
leaves everything else to FastAPI."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from httpx import AsyncClient

from tessera.bootstrap import Container
from tessera.dialects.eximpe.orders import _create_order_hot
from tests.conftest import Merchant
from tests.integration.test_eximpe_orders import headers, order_body
from tests.integration.test_hot_route import _request

PATH = "/eximpe/pg/orders/"
# A body orjson refuses and the standard library's parser (FastAPI's `request.json()`) reads: a UTF-8 byte
# order mark in front. The same order sent with it runs through FastAPI's dependencies instead.
BOM = b"\xef\xbb\xbf"


async def test_the_hot_handler_answers_a_well_formed_order(container: Container, merchant: Merchant) -> None:
    sent = {**headers(merchant), "Content-Type": "application/json", "Idempotency-Key": "order-1-attempt-1"}
    answer = await _create_order_hot(_request(container, sent, json.dumps(order_body()).encode(), PATH))
    assert answer is not None
    assert json.loads(bytes(answer.body))["data"]["status"] == "payment_successful"


@pytest.mark.parametrize(
    ("case", "changed", "body"),
    [
        ("no X-Client-ID", {"X-Client-ID": None}, None),
        ("no X-Client-Secret", {"X-Client-Secret": None}, None),
        ("no X-Merchant-ID", {"X-Merchant-ID": None}, None),
        ("an empty X-Client-Secret", {"X-Client-Secret": ""}, None),
        ("a malformed Idempotency-Key", {"Idempotency-Key": "has spaces in it"}, None),
        ("not JSON", {}, b'{"amount": "10.00",'),
        ("NaN, which only the standard library's parser accepts", {}, b'{"amount": NaN}'),
        ("a byte order mark, which only the standard library's parser accepts", {}, None),
    ],
)
async def test_the_hot_handler_leaves_anything_else_to_fastapi(
    container: Container, merchant: Merchant, case: str, changed: dict[str, str | None], body: bytes | None
) -> None:
    sent: dict[str, str | None] = {**headers(merchant), "Content-Type": "application/json", **changed}
    good = json.dumps(order_body()).encode()
    if body is None:
        body = BOM + good if "byte order mark" in case else good
    kept = {k: v for k, v in sent.items() if v is not None}
    assert await _create_order_hot(_request(container, kept, body, PATH)) is None, case


_VOLATILE = [
    (re.compile(r"\b[a-z]+_[0-9a-hjkmnp-tv-z]{26}\b"), "<id>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?"), "<time>"),
    (re.compile(r"REF-(hot|standard)-\w+"), "<reference>"),
    (re.compile(r'"bank_ref_num":"\d+"'), '"bank_ref_num":"<retrieval reference>"'),  # each payment's own
]


def _stable(text: str) -> Any:
    for pattern, placeholder in _VOLATILE:
        text = pattern.sub(placeholder, text)
    return json.loads(text)


def _order(reference: str, changes: dict[str, Any]) -> dict[str, Any]:
    """The test order with top-level fields replaced (None: left out) and `number` as its card's number."""
    changes = dict(changes)
    body = order_body(reference=reference, **({"number": changes.pop("number")} if "number" in changes else {}))
    for key, value in changes.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    return body


@pytest.mark.parametrize(
    ("case", "changes", "secret"),
    [
        ("approved", {}, "own"),
        ("declined", {"number": "4000000000000002"}, "own"),
        ("a card number the core refuses", {"number": "4242424242424241"}, "own"),
        ("an amount the core refuses", {"amount": "-5.00"}, "own"),
        ("a field left out", {"currency": None}, "own"),
        ("an unknown saved card", {"card_details": {"token": "1e6709282a21e83f43a020", "identifier": "EX0001"}}, "own"),
        ("a wrong secret", {}, "wrong"),
        ("a publishable key for a secret", {}, "publishable"),
    ],
)
async def test_hot_and_standard_paths_answer_alike(
    client: AsyncClient, merchant: Merchant, case: str, changes: dict[str, Any], secret: str
) -> None:
    key = {"own": None, "wrong": "sk_test_" + "x" * 32, "publishable": merchant.test.publishable_key}[secret]
    sent = {**headers(merchant, secret=key), "Content-Type": "application/json"}
    hot, standard = [
        await client.post(PATH, content=prefix + json.dumps(_order(f"REF-{name}-1", changes)).encode(), headers=sent)
        for name, prefix in (("hot", b""), ("standard", BOM))
    ]
    assert hot.status_code == standard.status_code, case
    assert _stable(hot.text) == _stable(standard.text), case
