"""Idempotency-Key with Stripe's semantics."""

from __future__ import annotations

from datetime import timedelta

from httpx import AsyncClient

from tessera.bootstrap import Container
from tessera.core.clock import utcnow
from tests.conftest import Merchant, auth
from tests.factories import payment


async def test_same_key_and_body_replays_the_first_response(client: AsyncClient, merchant: Merchant) -> None:
    h = {**auth(merchant.test.secret_key), "Idempotency-Key": "k-1"}
    first = await client.post("/v1/payments", json=payment(), headers=h)
    second = await client.post("/v1/payments", json=payment(), headers=h)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"
    listed = (await client.get("/v1/payments", headers=auth(merchant.test.secret_key))).json()
    assert len(listed["data"]) == 1


async def test_a_failed_payment_is_replayed_too(client: AsyncClient, merchant: Merchant) -> None:
    h = {**auth(merchant.test.secret_key), "Idempotency-Key": "k-declined"}
    first = await client.post("/v1/payments", json=payment("4000000000000002"), headers=h)
    second = await client.post("/v1/payments", json=payment("4000000000000002"), headers=h)
    assert first.status_code == second.status_code == 400
    assert first.json()["id"] == second.json()["id"]


async def test_same_key_with_a_different_body_is_refused(client: AsyncClient, merchant: Merchant) -> None:
    h = {**auth(merchant.test.secret_key), "Idempotency-Key": "k-2"}
    assert (await client.post("/v1/payments", json=payment(amount=100), headers=h)).status_code == 201
    r = await client.post("/v1/payments", json=payment(amount=200), headers=h)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "idempotency_key_reused"


async def test_keys_are_scoped_per_merchant_and_mode(client: AsyncClient, merchant: Merchant) -> None:
    test_h = {**auth(merchant.test.secret_key), "Idempotency-Key": "shared"}
    live_h = {**auth(merchant.live.secret_key), "Idempotency-Key": "shared"}
    a = await client.post("/v1/payments", json=payment(), headers=test_h)
    b = await client.post("/v1/payments", json=payment(), headers=live_h)
    assert a.status_code == b.status_code == 201 and a.json()["id"] != b.json()["id"]


async def test_a_refused_request_frees_its_key_for_a_corrected_retry(client: AsyncClient, merchant: Merchant) -> None:
    h = {**auth(merchant.test.secret_key), "Idempotency-Key": "k-3"}
    bad = await client.post("/v1/payments", json=payment(return_url="https://evil.example/"), headers=h)
    assert bad.status_code == 400
    good = await client.post("/v1/payments", json=payment(return_url="https://evil.example/"), headers=h)
    assert good.status_code == 400  # executed again, not replayed
    assert "idempotent-replayed" not in good.headers


async def test_capture_retried_with_its_key_captures_once(client: AsyncClient, merchant: Merchant) -> None:
    h = auth(merchant.test.secret_key)
    p = (await client.post("/v1/payments", json=payment(capture_method="manual"), headers=h)).json()
    hk = {**h, "Idempotency-Key": "cap-1"}
    a = await client.post(f"/v1/payments/{p['id']}/capture", json={"amount": 400}, headers=hk)
    b = await client.post(f"/v1/payments/{p['id']}/capture", json={"amount": 400}, headers=hk)
    assert a.status_code == b.status_code == 200 and a.json() == b.json()


async def test_expired_keys_are_purged_and_can_be_reused(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    h = {**auth(merchant.test.secret_key), "Idempotency-Key": "old"}
    first = (await client.post("/v1/payments", json=payment(), headers=h)).json()
    assert await container.idempotency.purge_expired(utcnow() + timedelta(hours=25)) == 1
    second = (await client.post("/v1/payments", json=payment(), headers=h)).json()
    assert first["id"] != second["id"]


async def test_overlong_key_is_a_validation_error(client: AsyncClient, merchant: Merchant) -> None:
    h = {**auth(merchant.test.secret_key), "Idempotency-Key": "x" * 256}
    r = await client.post("/v1/payments", json=payment(), headers=h)
    assert r.status_code == 400 and r.json()["error"]["param"] == "Idempotency-Key"
