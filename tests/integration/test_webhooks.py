"""Webhook endpoints and deliveries against a real receiver over HTTP, on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select, update
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tessera.app import create_app
from tessera.bootstrap import Container, build, webhook_formats
from tessera.core.clock import utcnow
from tessera.core.merchants import Credentials, create_merchant
from tessera.core.payments.authentication import expire_challenges
from tessera.core.payments.events import PAYMENT_COMPLETED, Event
from tessera.core.webhooks.deliveries import MAX_ATTEMPTS, RETRY_DELAYS
from tessera.delivery.worker import DeliveryWorker
from tessera.storage import tables as t
from tessera.storage.webhooks import DeliveryStore
from tests.conftest import Backend, Merchant, auth, make_settings
from tests.factories import payment
from tests.receiver import Receiver
from tests.waiting import wait_until


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = await Receiver().start()
    try:
        yield r
    finally:
        await r.stop()


async def _endpoint(client: AsyncClient, key: str, url: str, events: list[str] | None = None) -> dict[str, object]:
    r = await client.post(
        "/v1/webhook_endpoints", json={"url": url, "enabled_events": events or ["*"]}, headers=auth(key)
    )
    assert r.status_code == 201, r.text
    body: dict[str, object] = r.json()
    return body


async def _deliveries(client: AsyncClient, key: str, endpoint_id: object) -> list[dict[str, object]]:
    r = await client.get(f"/v1/webhook_endpoints/{endpoint_id}/deliveries", params={"limit": 100}, headers=auth(key))
    assert r.status_code == 200, r.text
    data: list[dict[str, object]] = r.json()["data"]
    return data


async def _drain(container: Container, *, at: timedelta = timedelta(0), rounds: int = 20) -> None:
    """Run delivery rounds as if `at` had passed, until a round finds nothing due."""
    for _ in range(rounds):
        if not await container.deliveries.run_once(utcnow() + at):
            return


# ------------------------------------------------------------------------------------- endpoints


async def test_an_endpoint_is_created_with_a_standard_webhooks_secret_shown_once(
    client: AsyncClient, merchant: Merchant
) -> None:
    key = merchant.test.secret_key
    made = await _endpoint(client, key, "http://127.0.0.1:9/hooks", ["payment.completed", "refund.succeeded"])
    assert str(made["id"]).startswith("we_") and str(made["secret"]).startswith("whsec_")
    Webhook(str(made["secret"]))  # the library accepts it as a secret
    assert made["enabled_events"] == ["payment.completed", "refund.succeeded"] and made["status"] == "enabled"
    listed = (await client.get("/v1/webhook_endpoints", headers=auth(key))).json()["data"]
    assert [e["id"] for e in listed] == [made["id"]] and "secret" not in listed[0]
    fetched = (await client.get(f"/v1/webhook_endpoints/{made['id']}", headers=auth(key))).json()
    assert fetched["url"] == "http://127.0.0.1:9/hooks" and "secret" not in fetched
    # the other mode's key sees none of it
    assert (await client.get("/v1/webhook_endpoints", headers=auth(merchant.live.secret_key))).json()["data"] == []


async def test_deleting_an_endpoint_hides_it_and_cancels_its_pending_deliveries(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    key = merchant.test.secret_key
    made = await _endpoint(client, key, "http://127.0.0.1:9/hooks")
    await client.post("/v1/payments", json=payment(), headers=auth(key))
    await container.deliveries._store.dispatch(utcnow(), 100)
    r = await client.delete(f"/v1/webhook_endpoints/{made['id']}", headers=auth(key))
    assert r.status_code == 200 and r.json()["deleted"] is True
    assert (await client.get(f"/v1/webhook_endpoints/{made['id']}", headers=auth(key))).status_code == 404
    assert (await client.get("/v1/webhook_endpoints", headers=auth(key))).json()["data"] == []
    assert await container.deliveries.run_once() == 0
    async with container.db.connect() as conn:
        statuses = {r.status for r in await conn.execute(select(t.webhook_deliveries.c.status))}
    assert statuses == {"canceled"}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"url": "ftp://example.com/x", "enabled_events": ["*"]}, "url"),
        ({"url": "not a url", "enabled_events": ["*"]}, "url"),
        ({"url": "https://user:pw@example.com/x", "enabled_events": ["*"]}, "url"),
        ({"url": "https://example.com/x", "enabled_events": ["payment.teleported"]}, "enabled_events"),
        ({"url": "https://example.com/x", "enabled_events": []}, "enabled_events"),
        ({"enabled_events": ["*"]}, "url"),
        ({"url": "http://169.254.169.254/latest/meta-data", "enabled_events": ["*"]}, "url"),  # even in test mode
    ],
)
async def test_a_bad_endpoint_is_refused_naming_the_field(
    client: AsyncClient, merchant: Merchant, body: dict[str, object], param: str
) -> None:
    r = await client.post("/v1/webhook_endpoints", json=body, headers=auth(merchant.test.secret_key))
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == param


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hooks",  # not HTTPS
        "https://127.0.0.1/hooks",
        "https://10.1.2.3/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hooks",
        "https://[::ffff:192.168.0.1]/hooks",
        "https://localhost/hooks",  # a name that resolves to loopback
        "https://a..example.com/hooks",  # a name no resolver accepts
    ],
)
async def test_live_mode_refuses_endpoints_that_are_not_https_or_not_public(
    client: AsyncClient, merchant: Merchant, url: str
) -> None:
    r = await client.post(
        "/v1/webhook_endpoints", json={"url": url, "enabled_events": ["*"]}, headers=auth(merchant.live.secret_key)
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == "url"


async def test_live_mode_accepts_an_https_endpoint_on_a_public_address(client: AsyncClient, merchant: Merchant) -> None:
    made = await _endpoint(client, merchant.live.secret_key, "https://93.184.215.14/hooks")
    assert made["livemode"] is True


# ------------------------------------------------------------------------------------- delivery


async def test_a_payment_is_delivered_signed_per_standard_webhooks_to_the_endpoints_that_want_it(
    client: AsyncClient, merchant: Merchant, container: Container, receiver: Receiver
) -> None:
    key = merchant.test.secret_key
    everything = await _endpoint(client, key, receiver.url)
    other = await Receiver().start()
    try:
        refunds_only = await _endpoint(client, key, other.url, ["refund.succeeded"])
        paid = (await client.post("/v1/payments", json=payment(), headers=auth(key))).json()
        await _drain(container)
    finally:
        await other.stop()
    assert other.received == [] and refunds_only["id"]
    [got] = receiver.received
    body = got.verified(str(everything["secret"]))
    assert body["type"] == "payment.completed" and body["data"]["payment_id"] == paid["id"]
    assert body["sequence"] == 1 and body["livemode"] is False and body["id"] == got.headers["webhook-id"]
    assert got.headers["webhook-signature"].startswith("v1,")
    assert "4242424242424242" not in got.body.decode() and "737" not in str(body["data"].get("card"))
    with pytest.raises(WebhookVerificationError):
        Webhook(str(refunds_only["secret"])).verify(got.body, got.headers)
    [delivery] = await _deliveries(client, key, everything["id"])
    assert delivery["status"] == "succeeded" and delivery["attempt_count"] == 1
    [attempt] = delivery["attempts"]  # type: ignore[misc]
    assert (
        attempt["status_code"] == 200 and attempt["latency_ms"] >= 0 and attempt["response_excerpt"] == '{"ok": true}'
    )


async def test_a_failed_attempt_is_recorded_and_retried_after_five_seconds_with_jitter(
    client: AsyncClient, merchant: Merchant, container: Container, receiver: Receiver
) -> None:
    key = merchant.test.secret_key
    receiver.answer = lambda n: 500 if n == 1 else 204
    receiver.reply = b"database down; card 4111111111111111 was in the request"
    made = await _endpoint(client, key, receiver.url)
    await client.post("/v1/payments", json=payment(), headers=auth(key))
    before = utcnow()
    assert await container.deliveries.run_once() == 1
    after = utcnow()
    [d] = await _deliveries(client, key, made["id"])
    assert d["status"] == "pending" and d["attempt_count"] == 1 and d["last_status_code"] == 500
    # The first retry is due 5 s (± 10%) after the failed attempt, however long the attempt took.
    due = _parse(d["next_attempt_at"])
    assert before + timedelta(seconds=4.5) <= due <= after + timedelta(seconds=5.5), (before, due, after)
    excerpt = str(d["attempts"][0]["response_excerpt"])  # type: ignore[index]
    assert "4111111111111111" not in excerpt and "411111" in excerpt
    assert await container.deliveries.run_once() == 0  # not due yet
    await _drain(container, at=timedelta(seconds=6))
    [d] = await _deliveries(client, key, made["id"])
    assert d["status"] == "succeeded" and [a["status_code"] for a in d["attempts"]] == [500, 204]  # type: ignore[attr-defined]
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1  # the same message, twice


def _parse(value: object) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


async def test_a_delivery_fails_after_the_whole_retry_schedule(
    client: AsyncClient, merchant: Merchant, container: Container, receiver: Receiver
) -> None:
    key = merchant.test.secret_key
    receiver.answer = lambda _n: 503
    made = await _endpoint(client, key, receiver.url)
    await client.post("/v1/payments", json=payment(), headers=auth(key))
    elapsed = timedelta(0)
    await container.deliveries.run_once()
    for delay in RETRY_DELAYS:
        elapsed += delay * 1.2
        assert await container.deliveries.run_once(utcnow() + elapsed) == 1
    assert await container.deliveries.run_once(utcnow() + elapsed + timedelta(days=30)) == 0
    [d] = await _deliveries(client, key, made["id"])
    assert d["status"] == "failed" and d["attempt_count"] == MAX_ATTEMPTS == 10
    assert len(receiver.received) == 10


async def test_an_endpoint_answering_410_is_disabled_and_gets_nothing_more(
    client: AsyncClient, merchant: Merchant, container: Container, receiver: Receiver
) -> None:
    key = merchant.test.secret_key
    receiver.answer = lambda _n: 410
    made = await _endpoint(client, key, receiver.url)
    await client.post("/v1/payments", json=payment(), headers=auth(key))
    await _drain(container)
    fetched = (await client.get(f"/v1/webhook_endpoints/{made['id']}", headers=auth(key))).json()
    assert fetched["status"] == "disabled" and "410" in fetched["disabled_reason"]
    await client.post("/v1/payments", json=payment(), headers=auth(key))
    await _drain(container, at=timedelta(days=2))
    assert len(receiver.received) == 1
    [d] = await _deliveries(client, key, made["id"])
    assert d["status"] == "failed"
    # enabling it again is the merchant's decision
    receiver.answer = lambda _n: 200
    r = await client.post(f"/v1/webhook_endpoints/{made['id']}", json={"disabled": False}, headers=auth(key))
    assert r.json()["status"] == "enabled"
    await client.post("/v1/payments", json=payment(), headers=auth(key))
    await _drain(container)
    assert len(receiver.received) == 2


async def test_a_receiver_that_was_down_gets_every_event_in_sequence_order_per_payment(
    client: AsyncClient, merchant: Merchant, container: Container, receiver: Receiver
) -> None:
    key = merchant.test.secret_key
    up = False
    receiver.answer = lambda _n: 200 if up else 503
    made = await _endpoint(client, key, receiver.url)
    payments = []
    for _ in range(3):
        p = (await client.post("/v1/payments", json=payment(capture_method="manual"), headers=auth(key))).json()
        await client.post(f"/v1/payments/{p['id']}/capture", json={"amount": 600}, headers=auth(key))
        await client.post(f"/v1/payments/{p['id']}/refunds", json={"amount": 100}, headers=auth(key))
        await client.post(f"/v1/payments/{p['id']}/refunds", json={"amount": 200}, headers=auth(key))
        payments.append(p["id"])
    await _drain(container)  # the receiver is down: each payment's first delivery fails; later ones wait
    assert {r.json["data"]["payment_id"] for r in receiver.received} == set(payments)
    assert all(r.json["type"] == "payment.authorized" for r in receiver.received)
    up = True
    await _drain(container, at=timedelta(minutes=10), rounds=50)
    seen: dict[str, list[int]] = {}
    for r in receiver.received[3:]:
        body = r.verified(str(made["secret"]))
        seen.setdefault(body["data"]["payment_id"], []).append(body["sequence"])
    assert set(seen) == set(payments)
    for numbers in seen.values():
        assert numbers == sorted(numbers) and len(numbers) == 4
    deliveries = await _deliveries(client, key, made["id"])
    assert len(deliveries) == 12 and {d["status"] for d in deliveries} == {"succeeded"}


async def test_a_rotated_secret_and_the_old_one_both_sign_during_the_grace_period(
    client: AsyncClient, merchant: Merchant, container: Container, receiver: Receiver
) -> None:
    key = merchant.test.secret_key
    made = await _endpoint(client, key, receiver.url)
    r = await client.post(
        f"/v1/webhook_endpoints/{made['id']}/rotate_secret", json={"grace_period_seconds": 3600}, headers=auth(key)
    )
    assert r.status_code == 200, r.text
    rotated = r.json()
    assert rotated["secret"] != made["secret"] and rotated["previous_secret_expires_at"]
    await client.post("/v1/payments", json=payment(), headers=auth(key))
    await _drain(container)
    [got] = receiver.received
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    got.verified(str(made["secret"]))
    got.verified(str(rotated["secret"]))
    # without a grace period the old secret stops signing at once
    r = await client.post(
        f"/v1/webhook_endpoints/{made['id']}/rotate_secret", json={"grace_period_seconds": 0}, headers=auth(key)
    )
    newest = r.json()["secret"]
    await client.post("/v1/payments", json=payment(), headers=auth(key))
    await _drain(container)
    last = receiver.received[-1]
    last.verified(newest)
    with pytest.raises(WebhookVerificationError):
        last.verified(str(rotated["secret"]))


async def test_a_failed_delivery_can_be_retried_by_hand(
    client: AsyncClient, merchant: Merchant, container: Container, receiver: Receiver
) -> None:
    key = merchant.test.secret_key
    receiver.answer = lambda n: 410 if n == 1 else 200
    made = await _endpoint(client, key, receiver.url)
    await client.post("/v1/payments", json=payment(), headers=auth(key))
    await _drain(container)
    [d] = await _deliveries(client, key, made["id"])
    assert d["status"] == "failed"
    r = await client.post(f"/v1/webhook_endpoints/{made['id']}/deliveries/{d['id']}/retry", headers=auth(key))
    assert r.status_code == 409  # the 410 disabled the endpoint
    await client.post(f"/v1/webhook_endpoints/{made['id']}", json={"disabled": False}, headers=auth(key))
    r = await client.post(f"/v1/webhook_endpoints/{made['id']}/deliveries/{d['id']}/retry", headers=auth(key))
    assert r.status_code == 202 and r.json()["status"] == "pending"
    await _drain(container)
    [d] = await _deliveries(client, key, made["id"])
    assert d["status"] == "succeeded" and [a["status_code"] for a in d["attempts"]] == [410, 200]  # type: ignore[attr-defined]
    missing = await client.post(f"/v1/webhook_endpoints/{made['id']}/deliveries/whd_nope/retry", headers=auth(key))
    assert missing.status_code == 404


async def test_an_attempt_without_an_answer_in_time_fails_and_is_retried(
    backend: Backend, tmp_path: Path, receiver: Receiver
) -> None:
    container = build(make_settings(backend, tmp_path, webhook_timeout_seconds=0.3))
    await container.start()
    try:
        _m, [creds] = await create_merchant("Slow", uow=container.uow, callback_url=receiver.url)
        receiver.delay = 1.0
        async with container.uow() as tx:
            await tx.events.add(
                Event(creds.merchant_id, "test", PAYMENT_COMPLETED, "pay_x", {"payment_id": "pay_x"}, utcnow())
            )
            await tx.commit()
        assert await container.deliveries.run_once() == 1
        async with container.db.connect() as conn:
            [attempt] = (await conn.execute(select(t.webhook_attempts))).all()
        assert attempt.status_code is None and "no answer within 0.3 seconds" in attempt.error
        assert 250 <= attempt.latency_ms < 1000
    finally:
        await container.close()


async def test_seed_000_callback_reaches_the_merchants_callback_url_signed_with_its_webhook_secret(
    client: AsyncClient, container: Container, receiver: Receiver
) -> None:
    _m, [creds] = await create_merchant("Callback Shop", uow=container.uow, callback_url=receiver.url)
    key = creds.secret_key
    ok = (await client.post("/v1/payments", json=payment(), headers=auth(key))).json()
    declined = (await client.post("/v1/payments", json=payment("4000000000000002"), headers=auth(key))).json()
    await _drain(container)
    bodies = [r.verified(creds.webhook_secret) for r in receiver.received]
    assert [b["event_type"] for b in bodies] == ["PAYMENT_SUCCESSFUL", "PAYMENT_FAILED"]
    success = bodies[0]
    assert set(success) == {"event_type", "event_time", "version", "sequence_number", "data"}
    assert success["version"] == "1.0" and success["sequence_number"] == "1"
    assert set(success["data"]) == {
        "status",
        "message",
        "mop_type",
        "order_id",
        "payment_id",
        "bank_ref_num",
        "payment_completed_at",
    }
    assert success["data"]["status"] == "captured" and success["data"]["order_id"] == ok["id"]
    assert success["data"]["message"] == "Payment successful" and success["data"]["bank_ref_num"]
    assert len(success["event_time"]) == 19 and success["data"]["payment_completed_at"].endswith("Z")
    failure = bodies[1]["data"]
    assert failure["status"] == "failed" and failure["order_id"] == declined["id"]
    assert failure["error_code"] == "CARD_DECLINED"
    # the callback is not one of the API's endpoints, but its log is reachable
    assert (await client.get("/v1/webhook_endpoints", headers=auth(key))).json()["data"] == []
    log = await _deliveries(client, key, "callback")
    assert [d["status"] for d in log] == ["succeeded", "succeeded"]


async def test_two_workers_running_at_once_deliver_each_event_once(
    client: AsyncClient, merchant: Merchant, container: Container, receiver: Receiver
) -> None:
    key = merchant.test.secret_key
    await _endpoint(client, key, receiver.url)
    for _ in range(40):
        await client.post("/v1/payments", json=payment(), headers=auth(key))
    formats = webhook_formats()
    second, first = (
        DeliveryWorker(
            DeliveryStore(container.db), container.sender, formats=formats, batch_size=7, lease=timedelta(seconds=60)
        )
        for _ in range(2)
    )
    for _ in range(20):
        done = await asyncio.gather(first.run_once(), second.run_once())
        if not any(done):
            break
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == 40 and len(set(ids)) == 40


async def test_finished_deliveries_are_forgotten_after_the_retention_period(
    client: AsyncClient, merchant: Merchant, container: Container, receiver: Receiver
) -> None:
    key = merchant.test.secret_key
    receiver.answer = lambda n: 200 if n == 1 else 503
    made = await _endpoint(client, key, receiver.url)
    await client.post("/v1/payments", json=payment(), headers=auth(key))
    await client.post("/v1/payments", json=payment(), headers=auth(key))
    await _drain(container)
    assert len(await _deliveries(client, key, made["id"])) == 2
    assert await container.deliveries.purge(utcnow() - timedelta(days=30)) == 0
    assert await container.deliveries.purge(utcnow() + timedelta(seconds=1)) == 1  # the pending one stays
    [left] = await _deliveries(client, key, made["id"])
    assert left["status"] == "pending"
    async with container.db.connect() as conn:
        attempts = (await conn.execute(select(t.webhook_attempts.c.delivery_id))).all()
    assert {a.delivery_id for a in attempts} == {left["id"]}


async def _in_flight(container: Container, receiver: Receiver) -> asyncio.Task[int]:
    """A delivery round whose request the receiver is holding (answered after `receiver.delay`)."""
    round_ = asyncio.create_task(container.deliveries.run_once())
    for _ in range(200):
        if receiver.received:
            return round_
        await asyncio.sleep(0.01)
    raise AssertionError("the delivery never reached the receiver")


async def test_deleting_an_endpoint_while_its_delivery_is_in_flight_leaves_it_canceled(
    client: AsyncClient, merchant: Merchant, container: Container, receiver: Receiver
) -> None:
    key = merchant.test.secret_key
    receiver.answer, receiver.delay = (lambda _n: 500), 0.5
    made = await _endpoint(client, key, receiver.url)
    await client.post("/v1/payments", json=payment(), headers=auth(key))
    round_ = await _in_flight(container, receiver)
    assert (await client.delete(f"/v1/webhook_endpoints/{made['id']}", headers=auth(key))).status_code == 200
    await round_  # its 500 arrives after the delete and must not revive the delivery
    await _drain(container, at=timedelta(days=3))
    assert len(receiver.received) == 1
    async with container.db.connect() as conn:
        [row] = (await conn.execute(select(t.webhook_deliveries))).all()
        attempts = (await conn.execute(select(t.webhook_attempts))).all()
    assert row.status == "canceled" and len(attempts) == 1 and attempts[0].status_code == 500


async def test_a_delivery_cannot_be_retried_by_hand_while_an_attempt_is_in_flight(
    client: AsyncClient, merchant: Merchant, container: Container, receiver: Receiver
) -> None:
    key = merchant.test.secret_key
    receiver.delay = 0.5
    made = await _endpoint(client, key, receiver.url)
    await client.post("/v1/payments", json=payment(), headers=auth(key))
    round_ = await _in_flight(container, receiver)
    [d] = await _deliveries(client, key, made["id"])
    r = await client.post(f"/v1/webhook_endpoints/{made['id']}/deliveries/{d['id']}/retry", headers=auth(key))
    assert r.status_code == 409 and "right now" in r.json()["error"]["message"]
    await round_
    await _drain(container)
    assert len(receiver.received) == 1
    [d] = await _deliveries(client, key, made["id"])
    assert d["status"] == "succeeded" and d["attempt_count"] == 1


async def test_a_delivery_that_cannot_be_signed_fails_alone_and_the_rest_of_its_batch_goes_out(
    client: AsyncClient, merchant: Merchant, container: Container, receiver: Receiver
) -> None:
    key = merchant.test.secret_key
    good = await _endpoint(client, key, receiver.url)
    broken = await _endpoint(client, key, receiver.url)
    async with container.db.connect(write=True) as conn:
        await conn.execute(
            t.webhook_endpoints.update().where(t.webhook_endpoints.c.id == broken["id"]).values(secret="whsec_")
        )
        await conn.commit()
    await client.post("/v1/payments", json=payment(), headers=auth(key))
    assert await container.deliveries.run_once() == 2
    assert len(receiver.received) == 1 and receiver.received[0].verified(str(good["secret"]))
    [d] = await _deliveries(client, key, broken["id"])
    assert d["status"] == "pending" and d["attempt_count"] == 1
    assert "could not be signed or sent" in str(d["attempts"][0]["error"])  # type: ignore[index]


async def test_disabling_an_endpoint_parks_its_deliveries_and_enabling_sends_them(
    client: AsyncClient, merchant: Merchant, container: Container, receiver: Receiver
) -> None:
    key = merchant.test.secret_key
    made = await _endpoint(client, key, receiver.url)
    await client.post("/v1/payments", json=payment(), headers=auth(key))
    await container.deliveries._store.dispatch(utcnow(), 100)
    r = await client.post(f"/v1/webhook_endpoints/{made['id']}", json={"disabled": True}, headers=auth(key))
    assert r.json()["status"] == "disabled"
    await _drain(container, at=timedelta(hours=1))
    assert receiver.received == []
    await client.post(f"/v1/webhook_endpoints/{made['id']}", json={"disabled": False}, headers=auth(key))
    await _drain(container)
    assert len(receiver.received) == 1


async def test_the_delivery_log_pages_newest_first(
    client: AsyncClient, merchant: Merchant, container: Container, receiver: Receiver
) -> None:
    key = merchant.test.secret_key
    made = await _endpoint(client, key, receiver.url)
    for _ in range(3):
        await client.post("/v1/payments", json=payment(), headers=auth(key))
    await _drain(container)
    h = auth(key)
    first = (await client.get(f"/v1/webhook_endpoints/{made['id']}/deliveries", params={"limit": 2}, headers=h)).json()
    assert len(first["data"]) == 2 and first["has_more"] is True
    assert first["data"][0]["sequence"] > first["data"][1]["sequence"]
    after = first["data"][-1]["id"]
    rest = (
        await client.get(
            f"/v1/webhook_endpoints/{made['id']}/deliveries", params={"limit": 2, "starting_after": after}, headers=h
        )
    ).json()
    assert [d["sequence"] for d in rest["data"]] == [1] and rest["has_more"] is False


async def test_a_slow_receiver_does_not_hold_up_deliveries_to_others(
    client: AsyncClient, merchant: Merchant, container: Container, receiver: Receiver
) -> None:
    key = merchant.test.secret_key
    answer_slow = asyncio.Event()
    slow = await Receiver(gate=answer_slow).start()  # answers nothing until the test lets it
    stop = asyncio.Event()
    worker: asyncio.Task[None] | None = None
    try:
        slow_endpoint = await _endpoint(client, key, slow.url)
        fast = await _endpoint(client, key, receiver.url)
        for _ in range(10):
            await client.post("/v1/payments", json=payment(), headers=auth(key))
        worker = asyncio.create_task(container.deliveries.run_forever(stop, 0.05))

        async def fast_ones_recorded() -> bool:
            return [d["status"] for d in await _deliveries(client, key, fast["id"])] == ["succeeded"] * 10

        await wait_until(fast_ones_recorded, what="the fast receiver's 10 deliveries to be recorded")
        assert len(receiver.received) == 10
        assert all(d["status"] == "pending" for d in await _deliveries(client, key, slow_endpoint["id"]))
        answer_slow.set()
        stop.set()
        await worker  # finishes and records what is in flight
        assert len(slow.received) == 10  # sent at once, answered late, all recorded before the loop ended
        async with container.db.connect() as conn:
            statuses = [r.status for r in await conn.execute(select(t.webhook_deliveries.c.status))]
        assert statuses.count("succeeded") == 20
    finally:
        answer_slow.set()
        stop.set()
        if worker is not None:
            await worker
        await slow.stop()


# ------------------------------------------------------------------- seed 000's callback = status API

# The callback speaks seed 000's callback words; the status API its status words. They must agree.
_CALLBACK_STATUS_IS = {"captured": "payment_successful", "authorized": "payment_successful", "failed": "failed"}
_ORDER = {
    "amount": "1000.00",
    "currency": "INR",
    "return_url": "https://yoursite.com/payment/callback/",
    "collection_mode": "s2s",
    "mop_type": "debit_card",
    "buyer": {"name": "John Doe", "ip_address": "192.168.1.100", "user_agent": "Mozilla/5.0 (X11; Linux x86_64)"},
}


def _eximpe(creds: Credentials) -> dict[str, str]:
    return {
        "X-Client-ID": creds.client_id,
        "X-Client-Secret": creds.secret_key,
        "X-Merchant-ID": creds.merchant_id,
        "X-API-Version": "1.0.0",
    }


async def _order(client: AsyncClient, creds: Credentials, number: str, reference: str) -> str:
    card = {"number": number, "cardholder_name": "John Doe", "expiry_month": "05", "expiry_year": "2030"}
    body = {**_ORDER, "reference_id": reference, "card_details": {**card, "cvv": "123", "network": "visa"}}
    r = await client.post("/eximpe/pg/orders/", json=body, headers=_eximpe(creds))
    assert r.status_code in (200, 400), r.text
    data = r.json().get("data") or {}
    order_id = data.get("order_id") or r.json()["error"]["details"]["order_id"]
    return str(order_id)


async def test_seed_000_callbacks_say_what_the_status_api_says_for_success_decline_failed_3ds_and_expiry(
    client: AsyncClient, container: Container, receiver: Receiver
) -> None:
    _m, [creds] = await create_merchant(
        "Reconciling Shop", uow=container.uow, allowed_domains=["yoursite.com"], callback_url=receiver.url
    )
    orders = {
        "success": await _order(client, creds, "4242424242424242", "R-OK"),
        "decline": await _order(client, creds, "4000000000000002", "R-DECLINED"),
        "failed_3ds": await _order(client, creds, "4000000000003089", "R-3DS"),
        "expired": await _order(client, creds, "4895380110000003", "R-CHALLENGE"),  # waits for its challenge
    }
    async with container.db.connect(write=True) as conn:
        await conn.execute(update(t.authentications).values(expires_at=utcnow() - timedelta(seconds=1)))
        await conn.commit()
    assert await expire_challenges(deps=container.payments) == 1
    await _drain(container)
    callbacks = {}
    for got in receiver.received:
        body = got.verified(creds.webhook_secret)
        callbacks[body["data"]["order_id"]] = body["data"]
    assert set(callbacks) == set(orders.values())
    for case, order_id in orders.items():
        r = await client.get(f"/eximpe/pg/orders/{order_id}/status/", headers=_eximpe(creds))
        status = r.json()["data"]
        callback = callbacks[order_id]
        said = {k: callback.get(k) for k in ("payment_id", "bank_ref_num", "error_code")}
        assert said == {k: status[k] for k in said}, case
        assert _CALLBACK_STATUS_IS[callback["status"]] == status["status"], case
    assert callbacks[orders["success"]]["bank_ref_num"] and callbacks[orders["success"]]["payment_id"]
    assert callbacks[orders["failed_3ds"]]["payment_id"] is None  # no authorisation was ever attempted
    assert callbacks[orders["decline"]]["bank_ref_num"] is None  # nothing made up
    assert callbacks[orders["expired"]]["error_code"] == "3DS_FAILED"


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/hooks",
        "http://192.168.1.1/hooks",
        "http://172.16.5.5/hooks",
        "http://100.64.0.1/hooks",  # carrier-grade NAT
        "http://[fd00::1]/hooks",  # unique local IPv6
        "http://[::ffff:10.0.0.1]/hooks",
        "http://2130706433/hooks",  # 127.0.0.1 in decimal: an odd form hides where it points
        "http://0x7f000001/hooks",
        "http://0177.0.0.1/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://a..example.com/hooks",  # a name that does not resolve cannot be checked
    ],
)
async def test_test_mode_refuses_private_networks_and_hidden_addresses(
    client: AsyncClient, merchant: Merchant, url: str
) -> None:
    r = await client.post(
        "/v1/webhook_endpoints", json={"url": url, "enabled_events": ["*"]}, headers=auth(merchant.test.secret_key)
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == "url"


@pytest.mark.parametrize("url", ["http://127.0.0.1:4242/hooks", "http://[::1]:4242/hooks", "http://localhost/hooks"])
async def test_test_mode_accepts_loopback_for_a_developers_own_machine(
    client: AsyncClient, merchant: Merchant, url: str
) -> None:
    made = await _endpoint(client, merchant.test.secret_key, url)
    assert made["url"] == url and made["livemode"] is False


async def test_an_operator_may_let_test_mode_reach_private_networks(backend: Backend, tmp_path: Path) -> None:
    container = build(make_settings(backend, tmp_path, webhook_allow_private_networks=True))
    await container.start()
    try:
        _, creds = await create_merchant("LAN", uow=container.uow)
        app = create_app(container.settings, container=container, embedded_worker=False)
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://tessera.test") as http:
            made = await http.post(
                "/v1/webhook_endpoints",
                json={"url": "http://10.0.0.1/hooks", "enabled_events": ["*"]},
                headers=auth(creds[0].secret_key),
            )
            metadata = await http.post(
                "/v1/webhook_endpoints",
                json={"url": "http://169.254.169.254/", "enabled_events": ["*"]},
                headers=auth(creds[0].secret_key),
            )
    finally:
        await container.close()
    assert made.status_code == 201, made.text
    assert metadata.status_code == 400  # link-local stays closed whatever the operator allows


async def test_a_delivery_cursor_that_is_no_delivery_id_is_a_400(client: AsyncClient, merchant: Merchant) -> None:
    made = await _endpoint(client, merchant.test.secret_key, "http://127.0.0.1:4242/hooks")
    r = await client.get(
        f"/v1/webhook_endpoints/{made['id']}/deliveries",
        params={"starting_after": "whd_nonsense"},
        headers=auth(merchant.test.secret_key),
    )
    assert r.status_code == 400 and r.json()["error"]["param"] == "starting_after"
