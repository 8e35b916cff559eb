"""The delivery loop: dispatch new events, claim what is due, send it all at once, record every attempt.

Each delivery is rendered (body, headers and signature) by the webhook format its endpoint names, looked
up in the formats the composition root hands over; the loop knows no format and no dialect, and reaches
storage only through the `DeliveryQueue` port.

Several loops (in several processes) can run against one PostgreSQL database: claims skip rows another
worker holds, and a claimed delivery is leased, not locked, while its request is in flight.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from tessera.core.clock import utcnow
from tessera.core.webhooks.deliveries import RETRY_DELAYS, AttemptResult, ClaimedDelivery, Recorded, next_step
from tessera.core.webhooks.formats import (
    ChannelFormat,
    RenderedWebhook,
    UnknownFormatError,
    WebhookFormat,
    channel_formats,
    format_named,
)
from tessera.core.webhooks.ports import DeliveryQueue
from tessera.delivery.sender import Sender
from tessera.metrics import Metrics

logger = logging.getLogger(__name__)
PURGE_INTERVAL = timedelta(minutes=10)
RECORD_EVERY_SECONDS = 0.02  # finished attempts are recorded together, one transaction per interval


class UnrenderableError(Exception):
    """A delivery its endpoint's format cannot render: an unknown format, or an event it has no body for."""


def render(
    d: ClaimedDelivery,
    formats: Mapping[str, WebhookFormat],
    attempted_at: datetime,
    secrets: Sequence[str] | None = None,
) -> RenderedWebhook:
    try:
        chosen = format_named(formats, d.format)
    except UnknownFormatError as exc:
        raise UnrenderableError(str(exc)) from exc
    if not chosen.accepts(d.event_type):
        raise UnrenderableError(f"the webhook format {d.format!r} has no body for {d.event_type!r} events")
    return chosen.render(d.event, secrets=d.secrets if secrets is None else secrets, attempted_at=attempted_at)


async def _secrets(d: ClaimedDelivery, channels: Mapping[str, ChannelFormat]) -> Sequence[str] | None:
    """A channel format's own signing key (looked up per delivery), else None: the endpoint's secrets."""
    chosen = channels.get(d.format)
    return await chosen.signing_secrets(d.event) if chosen is not None else None


class DeliveryWorker:
    def __init__(
        self,
        store: DeliveryQueue,
        sender: Sender,
        *,
        formats: Mapping[str, WebhookFormat],
        batch_size: int,
        lease: timedelta,
        metrics: Metrics | None = None,
        retry_delays: Sequence[timedelta] = RETRY_DELAYS,
    ) -> None:
        self._store = store
        self._retry_delays = tuple(retry_delays)
        self._sender = sender
        self._formats = formats
        self._channels = channel_formats(formats)  # once: every delivery asks
        self._batch = batch_size
        self._lease = lease
        self._metrics = metrics
        self._purged_at: datetime | None = None

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

    async def purge_now_and_then(self, now: datetime, retention: timedelta) -> int:
        """`purge`, at most every PURGE_INTERVAL: finished deliveries need no second-by-second sweeping."""
        if self._purged_at is not None and now - self._purged_at < PURGE_INTERVAL:
            return 0
        self._purged_at = now
        return await self.purge(now - retention)

    async def _attempt(self, d: ClaimedDelivery) -> Recorded:
        attempted_at = utcnow()
        try:
            rendered = render(d, self._formats, attempted_at, await _secrets(d, self._channels))
            result: AttemptResult = await self._sender.send(
                rendered.url or d.url, rendered.body, rendered.headers, live=d.mode == "live"
            )
        except UnrenderableError as exc:
            # A deployment that lost a format (or an endpoint switched to one) fails this attempt; the
            # schedule retries it, so a build that brings the format back still delivers.
            logger.warning("webhook delivery %s cannot be rendered: %s", d.id, exc)
            result = AttemptResult(None, 0, str(exc)[:200])
        except Exception:
            # A delivery that cannot even be built must not hold its batch (and its payment's later
            # events) hostage: it is a failed attempt like any other, retried on the schedule.
            logger.exception("webhook delivery %s could not be attempted", d.id)
            result = AttemptResult(None, 0, "the delivery could not be signed or sent (see the worker's log)")
        step = next_step(result, d.attempts + 1, utcnow(), delays=self._retry_delays)
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
        """Keep up to `batch_size` attempts in flight: claim as room frees up, record what has finished
        every few milliseconds. A slow receiver holds only its own attempts, never a whole batch.
        On `stop`, nothing new is claimed and what is in flight is finished and recorded."""
        inflight: set[asyncio.Task[Recorded]] = set()
        while not stop.is_set() or inflight:
            claimed, looked = 0, False
            room = self._batch - len(inflight)
            if not stop.is_set() and (not inflight or room >= max(1, self._batch // 4)):
                looked = True
                try:
                    now = utcnow()
                    await self._store.dispatch(now, limit=self._batch * 4)
                    for d in await self._store.claim(now, self._lease, room):
                        inflight.add(asyncio.create_task(self._attempt(d)))
                        claimed += 1
                except Exception:
                    logger.exception("claiming webhook deliveries failed")
            if inflight:
                done, inflight = await asyncio.wait(inflight, timeout=RECORD_EVERY_SECONDS)
                if done:
                    try:
                        await self._store.record([task.result() for task in done], utcnow())
                    except Exception:
                        # Unrecorded attempts come due again when their lease ends: sent twice, never lost.
                        logger.exception("recording webhook attempts failed")
            if looked and not claimed and not inflight:  # nothing was due: pause
                try:
                    await asyncio.wait_for(stop.wait(), idle_seconds)
                except TimeoutError:
                    pass
