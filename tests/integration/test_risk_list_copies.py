"""Each process keeps a copy of a merchant's blocklist and answers "not listed" from it; an entry added or
removed through another process (another container on the same database) decides the very next attempt,
since the merchant's list version, read with its key on every request, moves (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tessera.app import create_app
from tessera.bootstrap import Container, build
from tests.conftest import Merchant, auth
from tests.factories import payment


@pytest.fixture
async def other(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    """A second process's API: its own container (pools, caches) on the same database and keys."""
    second = build(container.settings)
    await second.start()
    app = create_app(second.settings, container=second, embedded_worker=False)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://other.test") as http:
            yield http
    finally:
        await second.close()


async def _pay(client: httpx.AsyncClient, key: str, email: str) -> dict[str, object]:
    body = payment() | {"customer": {"email": email}}
    found: dict[str, object] = (await client.post("/v1/payments", json=body, headers=auth(key))).json()
    return found


async def test_an_entry_added_or_removed_elsewhere_decides_the_next_attempt_here(
    client: httpx.AsyncClient, other: httpx.AsyncClient, merchant: Merchant
) -> None:
    key = merchant.test.secret_key
    h = auth(key)
    first = await other.post("/v1/blocklist", json={"type": "email", "value": "first@example.com"}, headers=h)
    assert first.status_code == 201
    # This process reads the list (one entry) into its copy, and pays a shopper who is not on it.
    assert (await _pay(client, key, "shopper@example.com"))["status"] == "completed"
    assert (await _pay(client, key, "first@example.com"))["status"] == "failed"
    added = await other.post("/v1/blocklist", json={"type": "email", "value": "shopper@example.com"}, headers=h)
    assert added.status_code == 201
    refused = await _pay(client, key, "shopper@example.com")
    assert refused["status"] == "failed" and refused["error"]["code"] == "customer_blocked"  # type: ignore[index]
    assert (await other.delete(f"/v1/blocklist/{added.json()['id']}", headers=h)).status_code == 200
    assert (await _pay(client, key, "shopper@example.com"))["status"] == "completed"
    # The other merchant-mode pair's list is another copy: a live entry blocks nothing in test mode.
    live = auth(merchant.live.secret_key)
    assert (
        await other.post("/v1/blocklist", json={"type": "email", "value": "x@example.com"}, headers=live)
    ).status_code == 201
    assert (await _pay(client, key, "x@example.com"))["status"] == "completed"
