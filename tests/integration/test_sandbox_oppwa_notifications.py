"""OPPWA notifications through a real receiver, on SQLite and PostgreSQL: a merchant registers a listener as
a webhook endpoint of format `oppwa`, gets its 64-hex key, and each payment change arrives as OPPWA sends
it (hex AES-256-GCM body, IV and tag headers) through the delivery log, retries and all."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import orjson
import pytest
from cryptography.exceptions import InvalidTag
from httpx import AsyncClient

from tessera.bootstrap import Container
from tessera.core.clock import utcnow
from tessera.dialects.oppwa import crypto, ids
from tests.conftest import Merchant, auth
from tests.factories import BROWSER
from tests.receiver import Received, Receiver

CARD = {"number": "4200000000000000", "exp_month": 5, "exp_year": 2034, "cvc": "123", "name": "Jane Jones"}


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = await Receiver().start()
    try:
        yield r
    finally:
        await r.stop()


async def _listener(client: AsyncClient, key: str, url: str) -> dict[str, Any]:
    r = await client.post(
        "/v1/webhook_endpoints", json={"url": url, "enabled_events": ["*"], "format": "oppwa"}, headers=auth(key)
    )
    assert r.status_code == 201, r.text
    made: dict[str, Any] = r.json()
    return made


async def _drain(container: Container, at: timedelta = timedelta(0)) -> None:
    for _ in range(20):
        if not await container.deliveries.run_once(utcnow() + at):
            return


def _open(secret: str, got: Received) -> dict[str, Any]:
    plain = crypto.decrypt(
        secret, got.body.decode(), got.headers["x-initialization-vector"], got.headers["x-authentication-tag"]
    )
    opened: dict[str, Any] = orjson.loads(plain)
    return opened


async def test_a_native_payment_reaches_an_oppwa_listener_encrypted_under_its_key(
    client: AsyncClient, merchant: Merchant, container: Container, receiver: Receiver
) -> None:
    key = merchant.test.secret_key
    listener = await _listener(client, key, receiver.url)
    assert re.fullmatch(r"[0-9A-F]{64}", listener["secret"]) and listener["format"] == "oppwa"
    paid = await client.post(
        "/v1/payments",
        json={"amount": 9200, "currency": "EUR", "card": CARD, "browser": BROWSER, "reference": "order-1001"},
        headers=auth(key),
    )
    assert paid.status_code == 201, paid.text
    refunded = await client.post(f"/v1/payments/{paid.json()['id']}/refunds", json={"amount": 1500}, headers=auth(key))
    assert refunded.status_code in (200, 201), refunded.text
    await _drain(container)

    completed, refund = receiver.received
    for got in (completed, refund):
        assert got.headers["content-type"].startswith("text/plain")
        assert re.fullmatch(rb"[0-9A-F]+", got.body)
        assert b"4200000000000000" not in got.body
    first = _open(listener["secret"], completed)
    assert first["type"] == "PAYMENT"
    payload = first["payload"]
    assert payload["paymentType"] == "DB" and payload["amount"] == "92.00" and payload["currency"] == "EUR"
    assert payload["result"]["code"] == "000.100.110"
    assert payload["card"] == {"bin": "420000", "last4Digits": "0000"}
    assert payload["merchantTransactionId"] == "order-1001"
    second = _open(listener["secret"], refund)["payload"]
    assert (second["paymentType"], second["amount"]) == ("RF", "15.00")
    assert second["referencedId"] == ids.to_hex(paid.json()["id"])  # the payment's id as /oppwa answers it
    with pytest.raises(InvalidTag):
        _open(crypto.new_key(), completed)  # only the listener's key opens it

    r = await client.get(f"/v1/webhook_endpoints/{listener['id']}/deliveries", headers=auth(key))
    assert [d["status"] for d in r.json()["data"]] == ["succeeded", "succeeded"]


async def test_a_refused_notification_is_retried_on_the_schedule_with_a_fresh_iv(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    receiver = await Receiver(answer=lambda n: 500 if n == 1 else 200).start()
    try:
        key = merchant.test.secret_key
        listener = await _listener(client, key, receiver.url)
        paid = await client.post(
            "/v1/payments",
            json={"amount": 9200, "currency": "EUR", "card": CARD, "browser": BROWSER},
            headers=auth(key),
        )
        assert paid.status_code == 201, paid.text
        await _drain(container)
        await _drain(container, timedelta(seconds=10))
    finally:
        await receiver.stop()
    refused, accepted = receiver.received
    assert refused.headers["x-initialization-vector"] != accepted.headers["x-initialization-vector"]
    assert _open(listener["secret"], refused) == _open(listener["secret"], accepted)


async def test_rotating_an_oppwa_listeners_key_gives_another_64_hex_key(
    client: AsyncClient, merchant: Merchant
) -> None:
    key = merchant.test.secret_key
    listener = await _listener(client, key, "http://127.0.0.1:9/hooks")
    r = await client.post(f"/v1/webhook_endpoints/{listener['id']}/rotate_secret", headers=auth(key))
    assert r.status_code == 200, r.text
    rotated = r.json()["secret"]
    assert re.fullmatch(r"[0-9A-F]{64}", rotated) and rotated != listener["secret"]


async def test_a_format_this_build_lacks_is_refused_naming_the_field(client: AsyncClient, merchant: Merchant) -> None:
    r = await client.post(
        "/v1/webhook_endpoints",
        json={"url": "http://127.0.0.1:9/hooks", "enabled_events": ["*"], "format": "nosuchformat"},
        headers=auth(merchant.test.secret_key),
    )
    assert r.status_code == 400 and r.json()["error"]["param"] == "format", r.text
    native = await client.post(
        "/v1/webhook_endpoints",
        json={"url": "http://127.0.0.1:9/hooks", "enabled_events": ["*"]},
        headers=auth(merchant.test.secret_key),
    )
    assert native.json()["format"] == "native" and native.json()["secret"].startswith("whsec_")
