"""Who may call what: secret and publishable keys, modes, merchant status."""

from __future__ import annotations

from httpx import AsyncClient

from tessera.bootstrap import Container
from tests.conftest import Merchant, auth
from tests.factories import BROWSER, card, payment


async def test_missing_key_is_401(client: AsyncClient) -> None:
    r = await client.post("/v1/payments", json=payment())
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "authentication_required"


async def test_unknown_key_is_401(client: AsyncClient) -> None:
    r = await client.get("/v1/payments", headers=auth("sk_test_" + "x" * 43))
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
    r = await client.get("/v1/payments", headers={"Authorization": "Basic abc"})
    assert r.status_code == 401


async def test_publishable_key_creates_tokens_and_nothing_else(client: AsyncClient, merchant: Merchant) -> None:
    pk = auth(merchant.test.publishable_key)
    assert (await client.post("/v1/tokens", json={"card": card()}, headers=pk)).status_code == 201
    for method, path in [
        ("POST", "/v1/payments"),
        ("GET", "/v1/payments"),
        ("GET", "/v1/payments/pay_x"),
        ("POST", "/v1/payments/pay_x/capture"),
        ("POST", "/v1/payments/pay_x/refunds"),
    ]:
        r = await client.request(method, path, json=payment(), headers=pk)
        assert r.status_code == 403, (method, path, r.text)
        assert r.json()["error"]["code"] == "permission_denied"


async def test_secret_key_can_also_create_tokens(client: AsyncClient, merchant: Merchant) -> None:
    r = await client.post("/v1/tokens", json={"card": card()}, headers=auth(merchant.test.secret_key))
    assert r.status_code == 201


async def test_test_and_live_keys_never_see_each_others_payments(client: AsyncClient, merchant: Merchant) -> None:
    test_pay = (await client.post("/v1/payments", json=payment(), headers=auth(merchant.test.secret_key))).json()
    live_pay = (await client.post("/v1/payments", json=payment(), headers=auth(merchant.live.secret_key))).json()
    assert test_pay["livemode"] is False and live_pay["livemode"] is True
    assert (
        await client.get(f"/v1/payments/{live_pay['id']}", headers=auth(merchant.test.secret_key))
    ).status_code == 404
    assert (
        await client.get(f"/v1/payments/{test_pay['id']}", headers=auth(merchant.live.secret_key))
    ).status_code == 404
    listed = (await client.get("/v1/payments", headers=auth(merchant.test.secret_key))).json()
    assert [p["id"] for p in listed["data"]] == [test_pay["id"]]
    refund = await client.post(f"/v1/payments/{live_pay['id']}/refunds", headers=auth(merchant.test.secret_key))
    assert refund.status_code == 404
    live_tok = (
        await client.post("/v1/tokens", json={"card": card()}, headers=auth(merchant.live.publishable_key))
    ).json()
    r = await client.post(
        "/v1/payments",
        json={"amount": 100, "currency": "INR", "token": live_tok["id"], "browser": BROWSER},
        headers=auth(merchant.test.secret_key),
    )
    assert r.status_code == 404


async def test_suspended_merchant_is_refused(client: AsyncClient, merchant: Merchant, container: Container) -> None:
    async with container.uow() as tx:
        await tx.merchants.set_status(merchant.id, "suspended")
        await tx.commit()
    r = await client.post("/v1/payments", json=payment(), headers=auth(merchant.test.secret_key))
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "merchant_inactive"


async def test_keys_are_stored_only_as_hashes(container: Container, merchant: Merchant) -> None:
    from sqlalchemy import select

    from tessera.storage import tables as t

    async with container.db.connect() as conn:
        rows = (await conn.execute(select(t.api_keys))).all()
    stored = " ".join(str(tuple(r)) for r in rows)
    for key in (merchant.test.secret_key, merchant.test.publishable_key, merchant.live.secret_key):
        assert key not in stored
        assert key[12:] not in stored
    assert len(merchant.test.secret_key.removeprefix("sk_test_")) >= 43  # 32 random bytes, base64url
