"""`HotPaths` (dialects/_common/hot_route.py): once FastAPI's router has sent a method and literal path to a
hot route, the next request for them goes straight to the route's hot handler. Every answer must be the one
the full stack gives: successes, refusals the handler raises, bodies it declines (replayed to FastAPI),
bodies refused while being read, and failures nobody expected."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text

from tessera.app import MAX_BODY_BYTES, create_app
from tessera.bootstrap import Container
from tessera.core.errors import TesseraError, ValidationError
from tessera.dialects._common.hot_route import HotPaths, _exception_handler
from tests.conftest import Merchant, auth
from tests.factories import card, payment
from tests.integration.test_hot_route import _request, _stable

# The hot routes whose path is literal, each with a body that is refused before any payment is made.
LITERAL_HOT_PATHS = ["/v1/payments", "/v1/tokens", "/oppwa/v1/payments", "/paysecure/api/v1/purchases/"]


def _app(container: Container, *, hot: bool = True) -> FastAPI:
    settings = container.settings.model_copy(update={"hot_handlers": hot})
    return create_app(settings, container=container, embedded_worker=False)


def _hot_paths(app: FastAPI) -> HotPaths:
    layer: Any = app.middleware_stack
    while not isinstance(layer, HotPaths):
        layer = layer.app
    return layer


def _client(app: FastAPI) -> AsyncClient:
    # The server-error middleware re-raises after answering; a real server logs that and carries on.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://tessera.test")


@pytest.fixture
async def warm(container: Container) -> AsyncIterator[tuple[FastAPI, AsyncClient]]:
    """An app whose literal hot paths have each been routed once by FastAPI (a request without a key)."""
    app = _app(container)
    async with _client(app) as http:
        for path in LITERAL_HOT_PATHS:
            assert (await http.post(path, json={})).status_code in (400, 401, 403, 422)
        yield app, http


@pytest.fixture
async def standard(container: Container) -> AsyncIterator[AsyncClient]:
    async with _client(_app(container, hot=False)) as http:
        yield http


async def test_a_literal_hot_path_is_sent_straight_after_the_router_has_chosen_it_once(container: Container) -> None:
    app = _app(container)
    async with _client(app) as http:
        await http.get("/healthz")
        assert _hot_paths(app).known_paths == set()
        await http.post("/v1/payments", json={})
        assert _hot_paths(app).known_paths == {("POST", "/v1/payments")}


async def test_only_hot_routes_with_literal_paths_are_remembered(
    warm: tuple[FastAPI, AsyncClient], merchant: Merchant
) -> None:
    app, http = warm
    expected = {("POST", path) for path in LITERAL_HOT_PATHS}
    assert _hot_paths(app).known_paths == expected
    # A hot route with a path parameter (Paysecure's card post), routes that are not hot, unknown paths and
    # other methods on a hot path are left to the router, however many of them come.
    for i in range(50):
        await http.post(f"/paysecure/api/v1/p/purchase{i}/?s2s=true", json={}, headers=auth(merchant.test.secret_key))
        await http.post(f"/v1/no-such-route-{i}", json={})
        await http.get("/v1/payments", headers=auth(merchant.test.secret_key))
        await http.put("/v1/payments", json={})
    assert _hot_paths(app).known_paths == expected


def _bodies() -> dict[str, tuple[dict[str, str], bytes]]:
    good = json.dumps(payment()).encode()
    return {
        "approved": ({}, good),
        "declined": ({}, json.dumps(payment(card=card("4000000000000002"))).encode()),
        "challenged": (
            {},
            json.dumps(payment(card=card("4000002500003155"), return_url="https://yoursite.com/b")).encode(),
        ),
        "an amount the core refuses": ({}, json.dumps(payment(amount=-5)).encode()),
        "a card number the core refuses": ({}, json.dumps(payment(card=card("4242424242424241"))).encode()),
        "an unknown key": ({"Authorization": "Bearer sk_test_" + "x" * 32}, good),
        "a publishable key": ({"Authorization": "publishable"}, good),
        # Declined by the hot handler, then answered by FastAPI from the replayed body:
        "not JSON": ({}, b'{"amount": 1000,'),
        "a field the model refuses": ({}, json.dumps({**payment(), "capture_method": "later"}).encode()),
        "a JSON type with parameters": ({"Content-Type": "application/json; charset=utf-8"}, good),
        "a malformed Idempotency-Key": ({"Idempotency-Key": "has spaces in it"}, good),
        "no Authorization": ({"Authorization": ""}, good),
        # Refused while the body is read:
        "a NUL character in the body": ({}, json.dumps(payment(description="a\u0000b")).encode()),
    }


@pytest.mark.parametrize("case", list(_bodies()))
async def test_a_payment_sent_straight_answers_as_the_full_stack_does(
    warm: tuple[FastAPI, AsyncClient], standard: AsyncClient, merchant: Merchant, case: str
) -> None:
    changes, body = _bodies()[case]
    headers = {**auth(merchant.test.secret_key), "Content-Type": "application/json", **changes}
    if headers["Authorization"] == "publishable":
        headers["Authorization"] = f"Bearer {merchant.test.publishable_key}"
    headers = {k: v for k, v in headers.items() if v}
    _app_, hot = warm
    straight, full = [await http.post("/v1/payments", content=body, headers=headers) for http in (hot, standard)]
    assert straight.status_code == full.status_code, case
    assert straight.headers.get("content-type") == full.headers.get("content-type"), case
    assert _stable(straight.text) == _stable(full.text), case


async def test_a_body_too_large_sent_in_chunks_is_refused_with_413(
    warm: tuple[FastAPI, AsyncClient], standard: AsyncClient, merchant: Merchant
) -> None:
    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit is found while the body is read
        yield b'{"description": "'
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    headers = {**auth(merchant.test.secret_key), "Content-Type": "application/json"}
    _app_, hot = warm
    answers = [await http.post("/v1/payments", content=chunks(), headers=headers) for http in (hot, standard)]
    assert [a.status_code for a in answers] == [413, 413]
    assert _stable(answers[0].text) == _stable(answers[1].text)


async def test_a_repeated_idempotency_key_returns_the_first_payment_when_sent_straight(
    warm: tuple[FastAPI, AsyncClient], merchant: Merchant
) -> None:
    _app_, http = warm
    headers = {**auth(merchant.test.secret_key), "Idempotency-Key": "order-77-attempt-1"}
    first, again = [(await http.post("/v1/payments", json=payment(), headers=headers)).json() for _ in range(2)]
    assert first["status"] == "completed"
    assert again["id"] == first["id"]


async def test_requests_sent_straight_are_counted_under_their_route(
    warm: tuple[FastAPI, AsyncClient], merchant: Merchant
) -> None:
    _app_, http = warm

    def count(metrics: str) -> float:
        line = 'tessera_http_requests_total{method="POST",route="/v1/payments",status="201"}'
        return sum(float(row.split()[-1]) for row in metrics.splitlines() if row.startswith(line))

    before = count((await http.get("/metrics")).text)
    for _ in range(3):
        answer = await http.post("/v1/payments", json=payment(), headers=auth(merchant.test.secret_key))
        assert answer.status_code == 201
    assert count((await http.get("/metrics")).text) == before + 3


async def test_an_unexpected_failure_sent_straight_is_a_500_in_the_dialects_format(
    warm: tuple[FastAPI, AsyncClient], standard: AsyncClient, container: Container, merchant: Merchant
) -> None:
    _app_, hot = warm
    headers = auth(merchant.test.secret_key)
    assert (await hot.post("/v1/payments", json=payment(), headers=headers)).status_code == 201  # key now cached
    async with container.db.connect(write=True) as conn:  # a real fault: the events table is gone
        await conn.execute(text("ALTER TABLE events RENAME TO events_gone"))
        await conn.commit()
    try:
        straight, full = [await http.post("/v1/payments", json=payment(), headers=headers) for http in (hot, standard)]
    finally:
        async with container.db.connect(write=True) as conn:
            await conn.execute(text("ALTER TABLE events_gone RENAME TO events"))
            await conn.commit()
    assert straight.status_code == full.status_code == 500
    assert _stable(straight.text) == _stable(full.text)
    assert "Traceback" not in straight.text and "events" not in straight.text


async def test_hot_handlers_off_means_nothing_is_sent_straight(container: Container, merchant: Merchant) -> None:
    app = _app(container, hot=False)
    async with _client(app) as http:
        for _ in range(3):
            answer = await http.post("/v1/payments", json=payment(), headers=auth(merchant.test.secret_key))
            assert answer.status_code == 201
    assert _hot_paths(app).known_paths == set()


def test_the_catch_all_handler_is_left_to_the_server_error_middleware(container: Container) -> None:
    request = _request(container, {}, b"")
    assert _exception_handler(request, RuntimeError("boom")) is None
    assert _exception_handler(request, ValidationError("bad", field="amount")) is not None
    assert _exception_handler(request, ValidationError("bad", field="amount")) is _exception_handler(
        request, TesseraError("any")
    )
