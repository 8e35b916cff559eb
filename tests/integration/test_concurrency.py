"""Racing requests never break the amount rules or charge twice, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from httpx import AsyncClient

from tests.conftest import Merchant, auth
from tests.factories import payment


async def test_twenty_concurrent_partial_refunds_never_exceed_the_captured_amount(
    client: AsyncClient, merchant: Merchant
) -> None:
    h = auth(merchant.test.secret_key)
    p = (await client.post("/v1/payments", json=payment(amount=1000), headers=h)).json()
    results = await asyncio.gather(
        *(client.post(f"/v1/payments/{p['id']}/refunds", json={"amount": 70}, headers=h) for _ in range(20))
    )
    codes = sorted(r.status_code for r in results)
    assert codes.count(201) == 14  # 14 x 70 = 980 <= 1000 < 15 x 70
    assert codes.count(409) == 6
    final = (await client.get(f"/v1/payments/{p['id']}", headers=h)).json()
    assert final["amount_refunded"] == 980
    assert sum(o["amount"] for o in final["operations"] if o["type"] == "RF" and o["status"] == "succeeded") == 980
    assert final["status"] == "partially_refunded"


async def test_capture_racing_void_lets_exactly_one_win(client: AsyncClient, merchant: Merchant) -> None:
    h = auth(merchant.test.secret_key)
    for _ in range(5):
        p = (await client.post("/v1/payments", json=payment(capture_method="manual"), headers=h)).json()
        cap, void = await asyncio.gather(
            client.post(f"/v1/payments/{p['id']}/capture", headers=h),
            client.post(f"/v1/payments/{p['id']}/void", headers=h),
        )
        assert sorted([cap.status_code, void.status_code]) == [200, 409]
        final = (await client.get(f"/v1/payments/{p['id']}", headers=h)).json()
        if cap.status_code == 200:
            assert final["status"] == "completed" and final["amount_captured"] == 1000
        else:
            assert final["status"] == "voided" and final["amount_captured"] == 0
        assert sum(1 for o in final["operations"] if o["type"] in ("CP", "RV")) == 1


async def test_twenty_concurrent_captures_capture_once(client: AsyncClient, merchant: Merchant) -> None:
    h = auth(merchant.test.secret_key)
    p = (await client.post("/v1/payments", json=payment(capture_method="manual"), headers=h)).json()
    results = await asyncio.gather(
        *(client.post(f"/v1/payments/{p['id']}/capture", json={"amount": 500}, headers=h) for _ in range(20))
    )
    assert [r.status_code for r in results].count(200) == 1
    final = (await client.get(f"/v1/payments/{p['id']}", headers=h)).json()
    assert final["amount_captured"] == 500


async def test_same_idempotency_key_sent_twenty_times_at_once_creates_one_payment(
    client: AsyncClient, merchant: Merchant
) -> None:
    h = {**auth(merchant.test.secret_key), "Idempotency-Key": "race-1"}
    results = await asyncio.gather(*(client.post("/v1/payments", json=payment(), headers=h) for _ in range(20)))
    created = {r.json()["id"] for r in results if r.status_code == 201}
    assert len(created) == 1
    assert all(r.status_code in (201, 409) for r in results)
    assert all(r.json()["error"]["code"] == "idempotency_key_in_use" for r in results if r.status_code == 409)
    listed = (await client.get("/v1/payments", headers=auth(merchant.test.secret_key))).json()
    assert len(listed["data"]) == 1
