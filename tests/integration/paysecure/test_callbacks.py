"""Paysecure's callbacks: the purchase object POSTed to success_callback / failure_callback, signed with
`paysecure-sign` under the merchant's key (verified with `GET /public_key/`), delivered by the webhook
worker with its retries and delivery log; on both databases, to a real HTTP receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from httpx import AsyncClient

from tessera.core.clock import utcnow
from tessera.dialects.paysecure.identity import signed_string, verify
from tests.conftest import Merchant, auth
from tests.integration.paysecure.helpers import BASE, create, post_card, s2s
from tests.receiver import Receiver


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = await Receiver().start()
    yield r
    await r.stop()


async def _deliver(client: AsyncClient, rounds: int = 3, *, later: timedelta = timedelta(0)) -> None:
    container = client._transport.app.state.container  # type: ignore[attr-defined]
    for _ in range(rounds):
        await container.deliveries.run_once(utcnow() + later)


async def test_a_paid_purchase_is_posted_to_success_callback_signed_with_the_merchants_key(
    client: AsyncClient, merchant: Merchant, receiver: Receiver
) -> None:
    made = await create(client, merchant, success_callback=receiver.url, failure_callback=receiver.url + "?ko")
    await post_card(client, merchant, made["purchaseId"], s2s())
    await _deliver(client)
    assert len(receiver.received) == 1
    got = receiver.received[0]
    body = got.json
    assert body["status"] == "paid" and body["message"]["status"] == "PAID"
    assert body["message"]["purchaseId"] == made["purchaseId"] and body["message"]["brand_id"] == made["brand_id"]
    assert body["message"]["purchase"]["total"] == 20.0
    assert "4444333322221111" not in got.body.decode()
    pem = (await client.get(f"{BASE}/public_key/", headers=auth(merchant.test.secret_key))).text
    signed = signed_string(made["purchaseId"], "PAID", made["brand_id"])
    assert verify(pem, signed, got.headers["paysecure-sign"])
    assert got.headers["paysecure_sign"] == got.headers["paysecure-sign"]
    assert not verify(pem, signed_string(made["purchaseId"], "ERROR", made["brand_id"]), got.headers["paysecure-sign"])


async def test_a_declined_purchase_is_posted_to_failure_callback(
    client: AsyncClient, merchant: Merchant, receiver: Receiver
) -> None:
    made = await create(client, merchant, success_callback=receiver.url + "?ok", failure_callback=receiver.url)
    await post_card(client, merchant, made["purchaseId"], s2s("4000000000000002"))
    await _deliver(client)
    assert [r.json["message"]["status"] for r in receiver.received] == ["ERROR"]
    assert receiver.received[0].json["message"]["errorMsg"] == "Transaction declined - try again"


async def test_a_failed_callback_is_retried_and_logged(client: AsyncClient, merchant: Merchant) -> None:
    flaky = await Receiver(answer=lambda n: 500 if n == 1 else 200).start()
    try:
        made = await create(client, merchant, success_callback=flaky.url)
        await post_card(client, merchant, made["purchaseId"], s2s())
        await _deliver(client, 1)
        await _deliver(client, 2, later=timedelta(hours=1))
        assert len(flaky.received) == 2
        assert flaky.received[0].body == flaky.received[1].body  # the same callback, at least once
        container = client._transport.app.state.container  # type: ignore[attr-defined]
        async with container.uow(read_only=True) as tx:
            endpoint = await tx.webhooks.get_channel_endpoint(merchant.id, "test", "paysecure")
        assert endpoint is not None
        log = await client.get(
            f"/v1/webhook_endpoints/{endpoint.id}/deliveries", headers=auth(merchant.test.secret_key)
        )
        assert log.status_code == 200, log.text
        [delivery] = log.json()["data"]
        assert delivery["status"] == "succeeded"
        assert [a["status_code"] for a in delivery["attempts"]] == [500, 200]
    finally:
        await flaky.stop()


async def test_a_purchase_without_callbacks_and_native_payments_send_nothing(
    client: AsyncClient, merchant: Merchant, receiver: Receiver
) -> None:
    made = await create(client, merchant, success_callback=receiver.url)  # makes the channel endpoint
    await post_card(client, merchant, made["purchaseId"], s2s())
    other = await create(client, merchant)
    await post_card(client, merchant, other["purchaseId"], s2s())
    await _deliver(client)
    assert [r.json["message"]["purchaseId"] for r in receiver.received] == [made["purchaseId"]]


async def test_a_callback_url_that_may_not_receive_events_is_refused(client: AsyncClient, merchant: Merchant) -> None:
    from tests.integration.paysecure.helpers import brand_id, purchase_body

    body = purchase_body(await brand_id(client, merchant), success_callback="http://169.254.169.254/x")
    found = await client.post(f"{BASE}/purchases/", json=body, headers=auth(merchant.test.secret_key))
    assert found.status_code == 400 and "success_callback" in found.json()["message"]
