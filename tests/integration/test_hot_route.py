"""The hot handlers of POST /v1/payments and POST /v1/tokens (dialects/_common/hot_route.py): they answer
well-formed requests exactly as the FastAPI-parsed endpoints do, and leave everything else to FastAPI."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi import Request
from httpx import AsyncClient

from tessera.app import create_app
from tessera.bootstrap import Container
from tessera.dialects.native.router import _create_card_token_hot, _create_payment_hot
from tests.conftest import Merchant, auth
from tests.factories import card, payment

HOT = "application/json"
# A JSON content type the hot handler does not take (it compares the header exactly), which FastAPI
# parses as JSON all the same: the same request then runs through FastAPI's dependencies.
STANDARD = "application/json; charset=utf-8"


def _request(container: Container, headers: dict[str, str], body: bytes, path: str = "/v1/payments") -> Request:
    app = create_app(container.settings, container=container, embedded_worker=False)
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "server": ("tessera.test", 80),
        "client": ("127.0.0.1", 50000),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "app": app,
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(scope, receive)


async def test_the_hot_handler_answers_a_well_formed_payment(container: Container, merchant: Merchant) -> None:
    headers = {**auth(merchant.test.secret_key), "Content-Type": HOT, "Idempotency-Key": "order-1-attempt-1"}
    answer = await _create_payment_hot(_request(container, headers, json.dumps(payment()).encode()))
    assert answer is not None
    assert answer.status_code == 201
    assert json.loads(bytes(answer.body))["status"] == "completed"


async def test_the_hot_handler_answers_a_well_formed_token_request(container: Container, merchant: Merchant) -> None:
    headers = {**auth(merchant.test.publishable_key), "Content-Type": HOT}
    body = json.dumps({"card": card()}).encode()
    answer = await _create_card_token_hot(_request(container, headers, body, "/v1/tokens"))
    assert answer is not None
    assert answer.status_code == 201
    assert json.loads(bytes(answer.body))["card"]["last4"] == "4242"
    refused = json.dumps({"card": {**card(), "number": 4242424242424242}}).encode()  # a number, not text
    assert await _create_card_token_hot(_request(container, headers, refused, "/v1/tokens")) is None


def _bodies() -> dict[str, bytes]:
    good = payment()
    return {
        "not JSON": b'{"amount": 1000,',
        "NaN, which only the standard library's parser accepts": json.dumps({**good, "amount": float("nan")}).encode(),
        "a field the model refuses": json.dumps({**good, "capture_method": "later"}).encode(),
        "an unknown currency shape": json.dumps({**good, "currency": 978}).encode(),
        "a missing amount": json.dumps({k: v for k, v in good.items() if k != "amount"}).encode(),
    }


@pytest.mark.parametrize(
    ("case", "headers", "body"),
    [
        *[(name, {}, body) for name, body in _bodies().items()],
        ("a JSON type with parameters", {"Content-Type": STANDARD}, None),
        ("a form body", {"Content-Type": "application/x-www-form-urlencoded"}, None),
        ("no Authorization", {"Authorization": ""}, None),
        ("a Basic Authorization", {"Authorization": "Basic c2tfdGVzdDo="}, None),
        ("a bearer scheme without a key", {"Authorization": "Bearer   "}, None),
        ("a malformed Idempotency-Key", {"Idempotency-Key": "has spaces in it"}, None),
    ],
)
async def test_the_hot_handler_leaves_anything_else_to_fastapi(
    container: Container, merchant: Merchant, case: str, headers: dict[str, str], body: bytes | None
) -> None:
    sent = {**auth(merchant.test.secret_key), "Content-Type": HOT, **headers}
    sent = {k: v for k, v in sent.items() if v}
    answer = await _create_payment_hot(_request(container, sent, body or json.dumps(payment()).encode()))
    assert answer is None, case


_VOLATILE = [
    (re.compile(r"\b[a-z]+_[0-9a-hjkmnp-tv-z]{26}\b"), "<id>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?"), "<time>"),
]


def _stable(text: str) -> Any:
    for pattern, placeholder in _VOLATILE:
        text = pattern.sub(placeholder, text)
    return json.loads(text)


def _key(merchant: Merchant, kind: str, unknown_prefix: str) -> str:
    """The merchant's secret or publishable test key, or one of the right shape that no merchant has."""
    return {
        "secret": merchant.test.secret_key,
        "publishable": merchant.test.publishable_key,
        "unknown": f"{unknown_prefix}_test_" + "x" * 32,
    }[kind]


async def _answer_alike(client: AsyncClient, path: str, body: bytes, key: str, case: str) -> None:
    """POST `body` through the hot handler and through FastAPI's: the same status and body (ids and times
    masked)."""
    hot, standard = [
        await client.post(path, content=body, headers={**auth(key), "Content-Type": content_type})
        for content_type in (HOT, STANDARD)
    ]
    assert hot.status_code == standard.status_code, case
    assert _stable(hot.text) == _stable(standard.text), case


@pytest.mark.parametrize(
    ("case", "overrides", "key"),
    [
        ("approved", {}, "secret"),
        ("declined", {"card": card("4000000000000002")}, "secret"),
        ("challenged", {"card": card("4000002500003155")}, "secret"),
        ("a publishable key", {}, "publishable"),
        ("an unknown key", {}, "unknown"),
        ("an amount the core refuses", {"amount": -5}, "secret"),
        ("a card number the core refuses", {"card": card("4242424242424241")}, "secret"),
        ("a return URL the core refuses", {"return_url": "https://elsewhere.example/back"}, "secret"),
    ],
)
async def test_hot_and_standard_paths_answer_alike(
    client: AsyncClient, merchant: Merchant, case: str, overrides: dict[str, Any], key: str
) -> None:
    body = json.dumps(payment(**{"return_url": "https://yoursite.com/back", **overrides})).encode()
    await _answer_alike(client, "/v1/payments", body, _key(merchant, key, "sk"), case)


@pytest.mark.parametrize(
    ("case", "number", "key"),
    [
        ("publishable", "4242424242424242", "publishable"),
        ("secret", "4242424242424242", "secret"),
        ("an unknown key", "4242424242424242", "unknown"),
        ("a card number the core refuses", "4242424242424241", "publishable"),
    ],
)
async def test_hot_and_standard_token_requests_answer_alike(
    client: AsyncClient, merchant: Merchant, case: str, number: str, key: str
) -> None:
    body = json.dumps({"card": card(number, name="Jane Doe")}).encode()
    await _answer_alike(client, "/v1/tokens", body, _key(merchant, key, "pk"), case)
