"""Rolling a secret key with a grace period (the dashboard's API Access): the old key keeps working until the
period ends, then stops; revoking it still stops it at once; a roll never extends an old key's end."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from tessera.bootstrap import Container
from tessera.core.clock import utcnow
from tessera.core.errors import ValidationError
from tessera.core.merchants import revoke_key, roll_key
from tessera.storage import tables as t
from tests.conftest import Merchant, auth


async def _works(client: httpx.AsyncClient, key: str) -> bool:
    return (await client.get("/v1/payments", headers=auth(key))).status_code == 200


async def test_an_old_key_works_through_its_grace_period_and_stops_when_it_ends(
    client: httpx.AsyncClient, container: Container, merchant: Merchant
) -> None:
    old = merchant.test.secret_key
    rolled = await roll_key(merchant.id, "test", uow=container.uow, grace=timedelta(hours=1))
    assert await _works(client, old) and await _works(client, rolled.secret_key)
    keys = await container.services.merchants.active_keys(merchant.id)
    ending = [k for k in keys if k.revoked_at is not None]
    assert [k.id for k in ending] == [k.id for k in rolled.revoked] and ending[0].revoked_at == rolled.old_keys_end_at
    # A second roll with a longer grace leaves the first key's end where it was: a roll never pushes it later.
    again = await roll_key(merchant.id, "test", uow=container.uow, grace=timedelta(hours=3))
    assert await _works(client, old)
    async with container.db.begin() as conn:  # the hour passes
        await conn.execute(
            update(t.api_keys).where(t.api_keys.c.id == ending[0].id).values(revoked_at=utcnow() - timedelta(seconds=1))
        )
    # Written behind the repositories' back, as another process would: this process's cache of key look-ups
    # (core.auth_cache) would keep the old end for up to TESSERA_AUTH_CACHE_SECONDS, so it forgets now.
    assert container.uow.auth_cache is not None
    container.uow.auth_cache.clear()
    assert not await _works(client, old)
    assert await _works(client, rolled.secret_key)  # its own end is 3 hours away
    assert await _works(client, again.secret_key)


async def test_revoking_a_key_in_its_grace_period_stops_it_at_once(
    client: httpx.AsyncClient, container: Container, merchant: Merchant
) -> None:
    old = merchant.test.secret_key
    rolled = await roll_key(merchant.id, "test", uow=container.uow, grace=timedelta(days=1))
    await revoke_key(merchant.id, rolled.revoked[0].id, uow=container.uow)
    assert not await _works(client, old) and await _works(client, rolled.secret_key)


async def test_a_grace_period_past_seven_days_is_refused(container: Container, merchant: Merchant) -> None:
    with pytest.raises(ValidationError, match="grace"):
        await roll_key(merchant.id, "test", uow=container.uow, grace=timedelta(days=8))
    with pytest.raises(ValidationError, match="grace"):
        await roll_key(merchant.id, "test", uow=container.uow, grace=timedelta(seconds=-1))
