"""Who may call what: secret and publishable keys, modes, merchant status."""

from __future__ import annotations

import pytest
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


async def test_secret_keys_are_stored_only_as_hashes_and_a_publishable_key_only_in_its_public_column(
    container: Container, merchant: Merchant
) -> None:
    """The architecture's rule: secrets only as hashes. A publishable key is public by design (it goes into the
    shopper's browser, and the dashboard's API Access shows it), so it is kept whole, there and nowhere else."""
    from sqlalchemy import select

    from tessera.storage import tables as t

    async with container.db.connect() as conn:
        rows = (await conn.execute(select(t.api_keys))).all()
    stored = " ".join(str(tuple(r)) for r in rows)
    for key in (merchant.test.secret_key, merchant.live.secret_key):
        assert key not in stored
        assert key[12:] not in stored
    public = {r.public_value for r in rows if r.kind == "publishable"}
    assert merchant.test.publishable_key in public
    assert all(r.public_value is None for r in rows if r.kind == "secret")
    without = " ".join(str(tuple(v for k, v in r._mapping.items() if k != "public_value")) for r in rows)
    assert merchant.test.publishable_key[12:] not in without
    assert len(merchant.test.secret_key.removeprefix("sk_test_")) >= 43  # 32 random bytes, base64url


async def test_a_revoked_secret_key_is_refused_at_once_and_the_others_keep_working(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    from tessera.core.merchants import revoke_key

    sk = auth(merchant.test.secret_key)
    assert (await client.get("/v1/payments", headers=sk)).status_code == 200
    revoked = await revoke_key(merchant.id, merchant.test.secret_key[:12], uow=container.uow)
    assert revoked.prefix == merchant.test.secret_key[:12] and revoked.mode == "test"
    r = await client.get("/v1/payments", headers=sk)
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
    exim = {
        "X-Client-ID": merchant.test.client_id,
        "X-Client-Secret": merchant.test.secret_key,
        "X-Merchant-ID": merchant.id,
    }
    assert (await client.get("/eximpe/pg/tokens/", params={"identifier": "c1"}, headers=exim)).status_code == 401
    assert (await client.get("/v1/payments", headers=auth(merchant.live.secret_key))).status_code == 200
    pk = auth(merchant.test.publishable_key)
    assert (await client.post("/v1/tokens", json={"card": card()}, headers=pk)).status_code == 201


async def test_a_key_is_revoked_by_its_id_or_itself_once_and_never_another_merchants(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    from tessera.core.errors import NotFoundError
    from tessera.core.merchants import create_merchant, revoke_key

    other, _ = await create_merchant("Other", uow=container.uow)
    with pytest.raises(NotFoundError):  # another merchant cannot name this merchant's key
        await revoke_key(other.id, merchant.test.secret_key, uow=container.uow)
    assert (await client.get("/v1/payments", headers=auth(merchant.test.secret_key))).status_code == 200
    by_itself = await revoke_key(merchant.id, merchant.live.publishable_key, uow=container.uow)
    with pytest.raises(NotFoundError):  # revoked keys cannot be revoked again
        await revoke_key(merchant.id, by_itself.id, uow=container.uow)
    pk = auth(merchant.live.publishable_key)
    assert (await client.post("/v1/tokens", json={"card": card()}, headers=pk)).status_code == 401
    with pytest.raises(NotFoundError):
        await revoke_key(merchant.id, "sk_test_nothere", uow=container.uow)


async def test_rolling_a_secret_key_issues_a_new_one_and_revokes_the_old_in_one_step(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    from tessera.core.merchants import roll_key

    made = (await client.post("/v1/payments", json=payment(), headers=auth(merchant.test.secret_key))).json()
    rolled = await roll_key(merchant.id, "test", uow=container.uow)
    assert rolled.secret_key.startswith("sk_test_") and rolled.secret_key != merchant.test.secret_key
    assert [k.prefix for k in rolled.revoked] == [merchant.test.secret_key[:12]]
    assert rolled.key.client_id == merchant.test.client_id  # seed 000's headers keep their client id
    old = await client.get(f"/v1/payments/{made['id']}", headers=auth(merchant.test.secret_key))
    assert old.status_code == 401
    new = await client.get(f"/v1/payments/{made['id']}", headers=auth(rolled.secret_key))
    assert new.status_code == 200 and new.json()["id"] == made["id"]
    exim = {"X-Client-ID": merchant.test.client_id, "X-Client-Secret": rolled.secret_key, "X-Merchant-ID": merchant.id}
    assert (await client.get(f"/eximpe/pg/orders/{made['id']}/", headers=exim)).status_code == 200
    assert (await client.get("/v1/payments", headers=auth(merchant.live.secret_key))).status_code == 200
    again = await roll_key(merchant.id, "test", uow=container.uow)
    assert [k.id for k in again.revoked] == [rolled.key.id]
    assert (await client.get("/v1/payments", headers=auth(rolled.secret_key))).status_code == 401
    assert (await client.get("/v1/payments", headers=auth(again.secret_key))).status_code == 200
