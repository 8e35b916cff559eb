"""Authentication is cached per process for a few seconds (core.auth_cache), yet a key or merchant changed
through this process takes effect on the very next request: the dashboard's roll, a revocation, a
suspension, a new API IP allowlist. Each test first makes sure the key is cached."""

from __future__ import annotations

import re

import httpx

from tessera.bootstrap import Container
from tessera.core.auth_cache import AuthCache
from tessera.core.merchants import UpdateMerchant, hash_key, revoke_key
from tests.conftest import Merchant, auth

PASSWORD = "correct horse battery"


def _cache(container: Container) -> AuthCache:
    assert container.uow.auth_cache is not None and container.uow.auth_cache.enabled
    return container.uow.auth_cache


async def _cached(client: httpx.AsyncClient, container: Container, key: str) -> None:
    assert (await client.get("/v1/payments", headers=auth(key))).status_code == 200
    assert _cache(container).get(hash_key(key)) is not None


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page has no CSRF token"
    return found.group(1)


async def test_a_key_rolled_through_the_dashboard_is_refused_on_the_very_next_request(
    client: httpx.AsyncClient, container: Container, merchant: Merchant
) -> None:
    old = merchant.test.secret_key
    await _cached(client, container, old)
    assert container.services.dashboard is not None
    await container.services.dashboard.create_user(merchant.id, "dev@shop.test", "developer", PASSWORD)
    form = await client.get("/dashboard/login")
    signed = await client.post(
        "/dashboard/login", data={"email": "dev@shop.test", "password": PASSWORD, "csrf_token": _csrf(form.text)}
    )
    assert signed.status_code == 303
    page = await client.get("/dashboard/developers/api-access")
    rolled = await client.post(
        "/dashboard/developers/api-access/roll", data={"csrf_token": _csrf(page.text), "grace_hours": "0"}
    )
    assert rolled.status_code == 200
    assert (await client.get("/v1/payments", headers=auth(old))).status_code == 401


async def test_a_key_revoked_through_this_process_is_refused_on_the_very_next_request(
    client: httpx.AsyncClient, container: Container, merchant: Merchant
) -> None:
    await _cached(client, container, merchant.test.secret_key)
    await revoke_key(merchant.id, merchant.test.secret_key[:12], uow=container.uow)
    assert (await client.get("/v1/payments", headers=auth(merchant.test.secret_key))).status_code == 401
    exim = {
        "X-Client-ID": merchant.test.client_id,
        "X-Client-Secret": merchant.test.secret_key,
        "X-Merchant-ID": merchant.id,
    }
    assert (await client.get("/eximpe/pg/orders/nothing/", headers=exim)).status_code == 401


async def test_a_merchant_suspended_through_this_process_is_refused_on_the_very_next_request(
    client: httpx.AsyncClient, container: Container, merchant: Merchant
) -> None:
    await _cached(client, container, merchant.test.secret_key)
    async with container.uow() as tx:
        await tx.merchants.set_status(merchant.id, "suspended")
        await tx.commit()
    r = await client.get("/v1/payments", headers=auth(merchant.test.secret_key))
    assert r.status_code == 403 and r.json()["error"]["code"] == "merchant_inactive"


async def test_an_ip_allowlist_set_through_this_process_applies_on_the_very_next_request(
    client: httpx.AsyncClient, container: Container, merchant: Merchant
) -> None:
    await _cached(client, container, merchant.test.secret_key)
    await container.services.merchants.update(UpdateMerchant(merchant.id, allowed_ips=["203.0.113.0/24"]))
    r = await client.get("/v1/payments", headers=auth(merchant.test.secret_key))
    assert r.status_code == 403, r.text
    await container.services.merchants.update(UpdateMerchant(merchant.id, allowed_ips=[]))
    assert (await client.get("/v1/payments", headers=auth(merchant.test.secret_key))).status_code == 200
