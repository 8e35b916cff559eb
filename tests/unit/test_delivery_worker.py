"""The delivery worker over an in-memory queue and sender: it renders each delivery in its endpoint's
format, and a format it does not know fails that attempt alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from tessera.core.webhooks.deliveries import AttemptResult, ClaimedDelivery, DeliveryStatus, Recorded
from tessera.core.webhooks.formats import OutgoingEvent, RenderedWebhook
from tessera.delivery.worker import DeliveryWorker

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


class FakeQueue:
    def __init__(self, due: list[ClaimedDelivery]) -> None:
        self.due = due
        self.recorded: list[Recorded] = []

    async def dispatch(self, now: datetime, limit: int) -> int:
        return 0

    async def claim(self, now: datetime, lease: timedelta, limit: int) -> list[ClaimedDelivery]:
        found, self.due = self.due[:limit], self.due[limit:]
        return found

    async def record(self, recorded: Sequence[Recorded], now: datetime) -> None:
        self.recorded.extend(recorded)

    async def purge(self, before: datetime, limit: int = 5000) -> int:
        return 0

    async def pending_count(self) -> int:
        return len(self.due)


class FakeSender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, dict[str, str]]] = []

    async def send(self, url: str, body: bytes, headers: dict[str, str], *, live: bool) -> AttemptResult:
        self.sent.append((url, body, headers))
        return AttemptResult(200, 1)


class DownSender(FakeSender):
    async def send(self, url: str, body: bytes, headers: dict[str, str], *, live: bool) -> AttemptResult:
        self.sent.append((url, body, headers))
        return AttemptResult(503, 1)


class ShoutFormat:
    name = "shout"

    def accepts(self, event_type: str) -> bool:
        return event_type == "payment.completed"

    def render(self, event: OutgoingEvent, *, secrets: Sequence[str], attempted_at: datetime) -> RenderedWebhook:
        return RenderedWebhook(event.type.upper().encode(), {"x-signed-with": ",".join(secrets)})


def _delivery(id_: str, format_name: str, event_type: str = "payment.completed") -> ClaimedDelivery:
    return ClaimedDelivery(
        id=id_,
        merchant_id="mer_1",
        claim_token="clm_1",
        attempts=0,
        endpoint_id="we_1",
        format=format_name,
        url=f"http://127.0.0.1/{id_}",
        mode="test",
        secrets=("whsec_x",),
        event_id="evt_1",
        event_type=event_type,
        payment_id=None,
        sequence=1,
        data={"payment_id": "pay_1"},
        event_created_at=NOW,
    )


async def test_each_delivery_is_sent_as_its_endpoints_format_renders_it() -> None:
    queue, sender = FakeQueue([_delivery("whd_1", "shout")]), FakeSender()
    worker = DeliveryWorker(queue, sender, formats={"shout": ShoutFormat()}, batch_size=10, lease=timedelta(60))  # type: ignore[arg-type]
    assert await worker.run_once(NOW) == 1
    assert sender.sent == [("http://127.0.0.1/whd_1", b"PAYMENT.COMPLETED", {"x-signed-with": "whsec_x"})]
    assert queue.recorded[0].step.status is DeliveryStatus.SUCCEEDED


async def test_an_unknown_format_fails_its_attempt_alone_with_a_clear_error() -> None:
    queue = FakeQueue(
        [_delivery("whd_1", "paysecure"), _delivery("whd_2", "shout"), _delivery("whd_3", "shout", "refund.succeeded")]
    )
    sender = FakeSender()
    worker = DeliveryWorker(queue, sender, formats={"shout": ShoutFormat()}, batch_size=10, lease=timedelta(60))  # type: ignore[arg-type]
    assert await worker.run_once(NOW) == 3
    assert [url for url, _, _ in sender.sent] == ["http://127.0.0.1/whd_2"]
    by_id = {r.delivery.id: r for r in queue.recorded}
    assert "no webhook format 'paysecure'" in str(by_id["whd_1"].result.error)
    assert by_id["whd_1"].step.status is DeliveryStatus.PENDING  # retried on the schedule, in case it comes back
    assert "has no body for 'refund.succeeded'" in str(by_id["whd_3"].result.error)
    assert by_id["whd_2"].step.status is DeliveryStatus.SUCCEEDED


async def test_a_failed_attempt_is_retried_on_the_schedule_the_worker_was_given() -> None:
    delays = (timedelta(seconds=1), timedelta(seconds=2))
    first, last = _delivery("whd_1", "shout"), replace(_delivery("whd_2", "shout"), attempts=len(delays))
    queue = FakeQueue([first, last])
    worker = DeliveryWorker(
        queue,  # type: ignore[arg-type]
        DownSender(),  # type: ignore[arg-type]
        formats={"shout": ShoutFormat()},
        batch_size=10,
        lease=timedelta(60),
        retry_delays=delays,
    )
    assert await worker.run_once(NOW) == 2
    by_id = {r.delivery.id: r for r in queue.recorded}
    retried = by_id["whd_1"]
    assert retried.step.status is DeliveryStatus.PENDING and retried.step.next_attempt_at is not None
    assert timedelta(seconds=0.9) <= retried.step.next_attempt_at - retried.attempted_at <= timedelta(seconds=1.2)
    assert by_id["whd_2"].step.status is DeliveryStatus.FAILED  # its third attempt was the schedule's last
