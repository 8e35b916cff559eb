"""Seed 001's risk messages through /paysecure, each from its real cause in the core's risk controls
(blocklists, velocity rules, charges, the API IP allowlist and the shopper-IP rule), on SQLite and PostgreSQL.
A refusal is made before 3-D Secure and the acquirer: the S2S post itself answers with it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from httpx import AsyncClient

from tessera.bootstrap import Container
from tessera.core.merchants import UpdateMerchant, create_merchant, update_merchant
from tests.conftest import Merchant, auth
from tests.integration.paysecure.helpers import BASE, create, post_card, purchase_body, s2s, status

CARD = "4444333322221111"  # the seed's card


async def _block(client: AsyncClient, merchant: Merchant, kind: str, value: str) -> None:
    made = await client.post(
        "/v1/blocklist", json={"type": kind, "value": value}, headers=auth(merchant.test.secret_key)
    )
    assert made.status_code == 201, made.text


def _said(found: httpx.Response, message: str) -> None:
    assert (found.status_code, found.json()) == (400, {"message": message, "code": "transaction_error"}), found.text


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("card", CARD, "Card is Blocked"),
        ("bin", CARD[:6], "Card is Blocked"),
        ("email", "USER@example.com", "Customer profile is Blocked"),  # the purchase's client.email
        ("ip", "157.38.0.0/16", "Customer/Card not allowed for transaction"),  # the seed's remote_ip
    ],
)
async def test_a_blocklisted_card_customer_or_shopper_ip_is_refused_in_seed_001s_words(
    client: AsyncClient, merchant: Merchant, kind: str, value: str, message: str
) -> None:
    await _block(client, merchant, kind, value)
    made = await create(client, merchant)
    _said(await post_card(client, merchant, made["purchaseId"], s2s(CARD)), message)
    seen = await status(client, merchant, made["purchaseId"])
    assert CARD not in str(seen)


async def test_a_velocity_rule_over_its_count_is_customer_card_not_allowed(
    client: AsyncClient, merchant: Merchant
) -> None:
    rule = {"key": "card", "metric": "count", "limit": 1, "window_seconds": 3600}
    made_rule = await client.post("/v1/risk_rules", json=rule, headers=auth(merchant.test.secret_key))
    assert made_rule.status_code == 201, made_rule.text
    first = await create(client, merchant)
    assert (await post_card(client, merchant, first["purchaseId"], s2s(CARD))).status_code == 202
    second = await create(client, merchant)
    _said(
        await post_card(client, merchant, second["purchaseId"], s2s(CARD)), "Customer/Card not allowed for transaction"
    )


async def test_a_live_purchase_without_charges_is_you_charges_setting_is_incomplete(
    client: AsyncClient, container: Container
) -> None:
    made, [_test, live] = await create_merchant(
        "No fees", uow=container.uow, modes=("test", "live"), allowed_domains=["yoursite.com"]
    )
    brand = (await container.services.identities.get(made.id, "live", "brand_id")).public_id
    h = auth(live.secret_key)
    purchase = await client.post(f"{BASE}/purchases/", json=purchase_body(brand), headers=h)
    assert purchase.status_code == 202, purchase.text
    found = await client.post(f"{BASE}/p/{purchase.json()['purchaseId']}/?s2s=true", json=s2s(CARD), headers=h)
    _said(found, "You charges setting is incomplete. Please Contact to administrator")


async def test_a_call_from_outside_the_ip_allowlist_is_ip_not_whitelisted(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    await update_merchant(UpdateMerchant(merchant.id, allowed_ips=["10.0.0.0/8"]), uow=container.uow)
    found = await client.get(f"{BASE}/listSavedCards", headers=auth(merchant.test.secret_key))
    assert found.status_code == 401 and found.json()["code"] == "IP_not_whitelisted", found.text


async def test_a_remote_ip_equal_to_the_calling_servers_is_client_ip_could_not_be_matched(
    proxied: tuple[Container, AsyncClient],
) -> None:
    container, client = proxied
    made, [creds] = await create_merchant("Shop", uow=container.uow, allowed_domains=["yoursite.com"])
    brand = (await container.services.identities.get(made.id, "test", "brand_id")).public_id
    h: dict[str, Any] = auth(creds.secret_key) | {"X-Forwarded-For": "157.38.242.7"}  # the seed's remote_ip
    purchase = await client.post(f"{BASE}/purchases/", json=purchase_body(brand), headers=h)
    assert purchase.status_code == 202, purchase.text
    pid = purchase.json()["purchaseId"]
    _said(
        await client.post(f"{BASE}/p/{pid}/?s2s=true", json=s2s(CARD), headers=h),
        "Client Ip could not be matched with Merchant Ip",
    )
    other = await client.post(f"{BASE}/p/{pid}/?s2s=true", json=s2s(CARD, remote_ip="198.51.100.1"), headers=h)
    assert other.status_code == 202, other.text
