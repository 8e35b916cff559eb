"""Seed 001's bodies and small helpers the Paysecure tests share."""

from __future__ import annotations

import copy
from typing import Any

from httpx import AsyncClient, Response

from tests.conftest import Merchant, auth

BASE = "/paysecure/api/v1"

# Seed 001's S2S body as written (its expiry, 10/23, is in the past).
SEED_S2S: dict[str, Any] = {
    "cardholder_name": "dk",
    "card_number": "4444333322221111",
    "expires": "10/23",
    "cvc": "345",
    "remember_card": "on",
    "remote_ip": "157.38.242.7",
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/51.0.2704.103 "
    "Safari/537.36",
    "accept_header": "text/html",
    "language": "en-US",
    "java_enabled": False,
    "javascript_enabled": True,
    "color_depth": 24,
    "utc_offset": 0,
    "screen_width": 1920,
    "screen_height": 1080,
}


def s2s(number: str = "4444333322221111", **changes: Any) -> dict[str, Any]:
    """Seed 001's body with a valid expiry (and the card and fields asked for)."""
    body = copy.deepcopy(SEED_S2S) | {"expires": "10/39", "card_number": number}
    return body | changes


def purchase_body(brand_id: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "client": {
            "email": "user@example.com",
            "full_name": "Test User",
            "phone": "+15555550123",
            "street_address": "1 Test Street",
            "city": "London",
            "zip_code": "10001",
            "country": "GB",
            "stateCode": "LO",
        },
        "purchase": {"currency": "EUR", "products": [{"name": "Order 1", "price": 20.00}]},
        "brand_id": brand_id,
        "success_redirect": "https://yoursite.com/ok",
        "failure_redirect": "https://yoursite.com/ko",
    }
    return body | changes


async def brand_id(client: AsyncClient, merchant: Merchant, mode: str = "test") -> str:
    """The merchant's brand_id, as the services keep it (what `merchant create --json` prints)."""
    container = client._transport.app.state.container  # type: ignore[attr-defined]
    return str((await container.services.identities.get(merchant.id, mode, "brand_id")).public_id)


async def create(client: AsyncClient, merchant: Merchant, **changes: Any) -> dict[str, Any]:
    key = merchant.test.secret_key
    found = await client.post(
        f"{BASE}/purchases/", json=purchase_body(await brand_id(client, merchant), **changes), headers=auth(key)
    )
    assert found.status_code == 202, found.text
    return dict(found.json())


async def post_card(
    client: AsyncClient, merchant: Merchant, purchase_id: str, body: dict[str, Any], key: str | None = None
) -> Response:
    return await client.post(
        f"{BASE}/p/{purchase_id}/?s2s=true", json=body, headers=auth(key or merchant.test.secret_key)
    )


async def status(client: AsyncClient, merchant: Merchant, purchase_id: str) -> dict[str, Any]:
    found = await client.get(f"{BASE}/purchases/{purchase_id}/", headers=auth(merchant.test.secret_key))
    assert found.status_code == 200, found.text
    return dict(found.json())
