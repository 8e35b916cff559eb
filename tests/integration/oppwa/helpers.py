"""Seed 003's form bodies and small helpers the OPPWA tests share: requests are form-encoded, as OPPWA's
clients send them (httpx `data=`)."""

from __future__ import annotations

import time
from typing import Any

from httpx import AsyncClient, Response

from tests.conftest import Merchant, auth

BASE = "/oppwa/v1"
APPROVED = "4242424242424242"
CHALLENGE = "4000002500003155"
DECLINED = "4000000000000002"


def card_form(number: str = APPROVED, payment_type: str = "PA", **changes: str) -> dict[str, str]:
    """PAY.ON's own sample request (amount 92.00, EUR), with the shopper's browser 3-D Secure needs."""
    form = {
        "amount": "92.00",
        "currency": "EUR",
        "paymentBrand": "VISA",
        "paymentType": payment_type,
        "card.number": number,
        "card.holder": "Jane Jones",
        "card.expiryMonth": "05",
        "card.expiryYear": "2034",
        "card.cvv": "123",
        "customer.ip": "203.0.113.7",
        "customer.browser.userAgent": "Mozilla/5.0 (X11; Linux x86_64)",
        "customer.browser.acceptHeader": "text/html",
        "customer.browser.language": "en-US",
        "customer.browser.screenHeight": "1080",
        "customer.browser.screenWidth": "1920",
        "customer.browser.timezone": "60",
        "customer.browser.javaEnabled": "false",
        "customer.browser.javascriptEnabled": "true",
        "customer.browser.screenColorDepth": "24",
    }
    return form | changes


async def entity_id(client: AsyncClient, merchant: Merchant, mode: str = "test") -> str:
    """The merchant's entity_id, as the services keep it (what `merchant create --json` prints)."""
    container = client._transport.app.state.container  # type: ignore[attr-defined]
    return str((await container.services.identities.get(merchant.id, mode, "entity_id")).public_id)


class Oppwa:
    """A merchant's OPPWA calls: Bearer token and entityId on each, as OPPWA's clients send them."""

    def __init__(self, client: AsyncClient, key: str, entity: str) -> None:
        self.client, self.key, self.entity = client, key, entity

    async def post(self, path: str, form: dict[str, str]) -> Response:
        return await self.client.post(f"{BASE}{path}", data={"entityId": self.entity} | form, headers=auth(self.key))

    async def get(self, path: str, **params: str) -> Response:
        return await self.client.get(f"{BASE}{path}", params={"entityId": self.entity} | params, headers=auth(self.key))

    async def resource(self, resource_path: str) -> Response:
        """`GET {base URL}{resourcePath}`, as a client does with the path the shopper brought back."""
        return await self.client.get(f"/oppwa{resource_path}", params={"entityId": self.entity}, headers=auth(self.key))

    async def delete(self, path: str) -> Response:
        return await self.client.delete(f"{BASE}{path}", params={"entityId": self.entity}, headers=auth(self.key))


async def oppwa(client: AsyncClient, merchant: Merchant, mode: str = "test") -> Oppwa:
    key = merchant.test.secret_key if mode == "test" else merchant.live.secret_key
    return Oppwa(client, key, await entity_id(client, merchant, mode))


def code(response: Response) -> str:
    body: dict[str, Any] = response.json()
    return str(body["result"]["code"])


def clear_of_a_minute_boundary(margin: float = 15.0) -> None:
    """Wait, if needed, so that the next `margin` seconds fall in one clock minute: the status call is
    limited per fixed minute, and calls straddling two minutes would be counted in both."""
    into = time.time() % 60
    if into > 60 - margin:
        time.sleep(60.5 - into)
