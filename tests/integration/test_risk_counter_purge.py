"""The worker's housekeeping drops velocity counters whose window has ended (SQLite and PostgreSQL):
a counter decides only within its window, and a card or e-mail never seen again would keep its rows."""

from __future__ import annotations

from datetime import timedelta

from httpx import AsyncClient
from sqlalchemy import text

from tessera.bootstrap import Container
from tessera.core.clock import utcnow
from tessera.core.risk.service import purge_counters
from tests.conftest import Merchant, auth
from tests.factories import payment


async def _counters(container: Container) -> int:
    async with container.db.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM risk_counters"))).scalar_one())


async def test_a_counter_is_kept_through_its_window_and_purged_after_it(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    h = auth(merchant.test.secret_key)
    rule = {"key": "card", "metric": "count", "limit": 5, "window_seconds": 60}
    assert (await client.post("/v1/risk_rules", json=rule, headers=h)).status_code == 201
    assert (await client.post("/v1/payments", json=payment(), headers=h)).json()["status"] == "completed"
    assert await _counters(container) == 1
    now = utcnow()
    assert await purge_counters(uow=container.uow, now=now) == 0  # its window has not ended
    assert await _counters(container) == 1
    assert await purge_counters(uow=container.uow, now=now + timedelta(seconds=61)) == 1
    assert await _counters(container) == 0
