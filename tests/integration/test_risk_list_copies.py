"""Each process keeps a copy of a merchant's blocklist and answers "not listed" from it; an entry added or
removed through another process (another container on the same database) decides this process's attempts
as soon as this process reads the merchant again: the merchant's list version, read with its key, moves.
The key and merchant look-up is cached for `auth_cache_seconds` (issue 15), so "again" is within that time
(SQLite and PostgreSQL); through this process, it is the very next attempt."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from tessera.app import create_app
from tessera.bootstrap import Container, build
from tests.conftest import Merchant, auth
from tests.factories import payment

TTL = 0.5  # seconds the key and merchant look-up is cached here
MARGIN = 5.0  # a loaded CI machine's allowance on top of it (a bound on correctness, not on speed)


async def _api(shared: Container) -> AsyncIterator[httpx.AsyncClient]:
    """A process's API: its own container (pools, caches) on the shared database and keys."""
    container = build(shared.settings.model_copy(update={"auth_cache_seconds": TTL}))
    await container.start()
    app = create_app(container.settings, container=container, embedded_worker=False)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test") as http:
            yield http
    finally:
        await container.close()


@pytest.fixture
async def here(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    async for http in _api(container):
        yield http


@pytest.fixture
async def other(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    async for http in _api(container):
        yield http


async def _pay(client: httpx.AsyncClient, key: str, email: str) -> dict[str, object]:
    body = payment() | {"customer": {"email": email}}
    found: dict[str, object] = (await client.post("/v1/payments", json=body, headers=auth(key))).json()
    return found


async def _until(client: httpx.AsyncClient, key: str, email: str, status: str) -> dict[str, object]:
    """Pay until an attempt ends in `status`; fail if none does within the cache's time and the margin."""
    deadline = time.monotonic() + TTL + MARGIN
    while True:
        found = await _pay(client, key, email)
        if found["status"] == status:
            return found
        assert time.monotonic() < deadline, f"still {found['status']} {TTL + MARGIN} s after the change"
        await asyncio.sleep(0.05)


async def test_an_entry_added_or_removed_elsewhere_decides_the_attempts_here_within_the_cache_time(
    here: httpx.AsyncClient, other: httpx.AsyncClient, merchant: Merchant
) -> None:
    key = merchant.test.secret_key
    h = auth(key)
    first = await other.post("/v1/blocklist", json={"type": "email", "value": "first@example.com"}, headers=h)
    assert first.status_code == 201
    # This process reads the list (one entry) into its copy, and pays a shopper who is not on it.
    assert (await _until(here, key, "first@example.com", "failed"))["error"]["code"] == "customer_blocked"  # type: ignore[index]
    assert (await _pay(here, key, "shopper@example.com"))["status"] == "completed"
    added = await other.post("/v1/blocklist", json={"type": "email", "value": "shopper@example.com"}, headers=h)
    assert added.status_code == 201
    refused = await _until(here, key, "shopper@example.com", "failed")
    assert refused["error"]["code"] == "customer_blocked"  # type: ignore[index]
    assert (await other.delete(f"/v1/blocklist/{added.json()['id']}", headers=h)).status_code == 200
    await _until(here, key, "shopper@example.com", "completed")
    # The other merchant-mode pair's list is another copy: a live entry blocks nothing in test mode.
    live = auth(merchant.live.secret_key)
    assert (
        await other.post("/v1/blocklist", json={"type": "email", "value": "x@example.com"}, headers=live)
    ).status_code == 201
    assert (await _pay(here, key, "x@example.com"))["status"] == "completed"


async def test_an_entry_added_through_this_process_decides_the_very_next_attempt(
    here: httpx.AsyncClient, merchant: Merchant
) -> None:
    key = merchant.test.secret_key
    assert (await _pay(here, key, "next@example.com"))["status"] == "completed"  # the merchant is now cached
    added = await here.post("/v1/blocklist", json={"type": "email", "value": "next@example.com"}, headers=auth(key))
    assert added.status_code == 201
    refused = await _pay(here, key, "next@example.com")
    assert refused["status"] == "failed" and refused["error"]["code"] == "customer_blocked"  # type: ignore[index]
