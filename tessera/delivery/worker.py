"""The delivery loop: dispatch new events, claim what is due, send it all at once, record every attempt.

Several loops (in several processes) can run against one PostgreSQL database: claims skip rows another
worker holds, and a claimed delivery is leased, not locked, while its request is in flight.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from tessera.core.clock import utcnow
from tessera.core.webhooks.deliveries import AttemptResult, ClaimedDelivery, next_step
from tessera.core.webhooks.endpoints import EndpointKind
from tessera.core.webhooks.payloads import CALLBACK_EVENTS, callback_body, event_body
from tessera.delivery.sender import Sender, sign
from tessera.metrics import Metrics
from tessera.storage.webhooks import DeliveryStore, Recorded

logger = logging.getLogger(__name__)


def body_for(d: ClaimedDelivery) -> bytes:
    if d.endpoint_kind == EndpointKind.CALLBACK.value and d.event_type in CALLBACK_EVENTS:
        return callback_body(d.event_type, d.sequence, dict(d.data), d.event_created_at)
    return event_body(d.event_id, d.event_type, d.sequence, d.mode, dict(d.data), d.event_created_at)


class DeliveryWorker:
    def __init__(
        self,
        store: DeliveryStore,
        sender: Sender,
        *,
        batch_size: int,
        lease: timedelta,
        metrics: Metrics | None = None,
    ) -> None:
        self._store = store
        self._sender = sender
        self._batch = batch_size
        self._lease = lease
        self._metrics = metrics

    async def run_once(self, now: datetime | None = None) -> int:
        """One round; returns how many deliveries it attempted. `now` decides what is due (tests move
        it forward instead of waiting out a retry schedule)."""
        now = now or utcnow()
        await self._store.dispatch(now, limit=self._batch * 4)
        claimed = await self._store.claim(now, self._lease, self._batch)
        if not claimed:
            return 0
        recorded = await asyncio.gather(*(self._attempt(d) for d in claimed))
        await self._store.record(recorded, utcnow())
        return len(claimed)

    async def purge(self, before: datetime) -> int:
        return await self._store.purge(before)

    async def _attempt(self, d: ClaimedDelivery) -> Recorded:
        attempted_at = utcnow()
        body = body_for(d)
        headers = sign(d.event_id, attempted_at, body, d.secrets)
        result: AttemptResult = await self._sender.send(d.url, body, headers, live=d.mode == "live")
        step = next_step(result, d.attempts + 1, utcnow())
        if self._metrics is not None:
            self._metrics.webhook_attempt(result.succeeded)
        if not result.succeeded:
            logger.info(
                "webhook attempt failed delivery=%s endpoint=%s status=%s error=%s next=%s",
                d.id,
                d.endpoint_id,
                result.status_code,
                result.error,
                step.status.value,
            )
        return Recorded(d, result, step, attempted_at)

    async def run_forever(self, stop: asyncio.Event, idle_seconds: float) -> None:
        """Round after round while there is work; a short pause when there is none."""
        while not stop.is_set():
            attempted = 0
            try:
                attempted = await self.run_once()
            except Exception:
                logger.exception("webhook delivery round failed")
            if attempted < self._batch:
                try:
                    await asyncio.wait_for(stop.wait(), idle_seconds)
                except TimeoutError:
                    pass
