"""Deliveries: one event for one endpoint, attempted until a 2xx or the retry schedule runs out.

A delivery is at least once: a worker claims it by moving its due time past a lease, sends, then
records the attempt. A worker killed between sending and recording leaves the delivery due again when
the lease ends, so the receiver may see it twice (with the same `webhook-id`) but never zero times.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from tessera.core.webhooks.formats import OutgoingEvent

# Waits before each retry: the first attempt is at once, then these; after the last, the delivery fails.
# The default schedule; a deployment (or a test that cannot wait a day) sets its own with
# TESSERA_WEBHOOK_RETRY_DELAYS, read by `parse_retry_delays`.
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
MAX_RETRIES = 50  # a longer schedule is a typo, not a policy
LONGEST_DELAY = timedelta(days=7)
JITTER = 0.1  # each wait is stretched or shrunk by up to this fraction, so retries of a burst spread out
EXCERPT_LENGTH = 200


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"  # its endpoint was deleted


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What one attempt got back: an HTTP status, or an error when there was no answer."""

    status_code: int | None
    latency_ms: int
    error: str | None = None
    excerpt: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        """410 Gone: the receiver asks never to be called again; its endpoint is disabled."""
        return self.status_code == 410


@dataclass(frozen=True, slots=True)
class NextStep:
    status: DeliveryStatus
    next_attempt_at: datetime | None


_UNITS = {
    "ms": timedelta(milliseconds=1),
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)?")


def parse_retry_delays(text: str) -> tuple[timedelta, ...]:
    """A retry schedule written `5s,5m,30m,2h` (units ms, s, m, h; a bare number is seconds); each wait
    is checked by `check_retry_delays`. ValueError names the part it cannot read."""
    delays = []
    for part in text.split(","):
        found = _DURATION.fullmatch(part.strip().lower())
        if found is None:
            raise ValueError(f"{part.strip()!r} is not a duration like 5s, 500ms, 5m or 2h")
        number, unit = found.groups()
        delays.append(_UNITS[unit or "s"] * float(number))
    return check_retry_delays(delays)


def check_retry_delays(delays: Sequence[timedelta]) -> tuple[timedelta, ...]:
    """A schedule of 1 to MAX_RETRIES waits, each above zero and at most LONGEST_DELAY."""
    if not 1 <= len(delays) <= MAX_RETRIES:
        raise ValueError(f"a retry schedule has 1 to {MAX_RETRIES} waits, not {len(delays)}")
    for delay in delays:
        if not timedelta(0) < delay <= LONGEST_DELAY:
            raise ValueError(f"each retry wait is above zero and at most {LONGEST_DELAY.days} days, not {delay}")
    return tuple(delays)


def next_step(
    result: AttemptResult,
    attempts_made: int,
    now: datetime,
    rng: random.Random | None = None,
    *,
    delays: Sequence[timedelta] = RETRY_DELAYS,
) -> NextStep:
    """Where a delivery goes after its `attempts_made`-th attempt (counting this one) got `result`,
    under the retry schedule `delays`: as many retries as it has waits."""
    if result.succeeded:
        return NextStep(DeliveryStatus.SUCCEEDED, None)
    if result.gone or attempts_made > len(delays):
        return NextStep(DeliveryStatus.FAILED, None)
    return NextStep(DeliveryStatus.PENDING, now + retry_delay(attempts_made, rng, delays=delays))


def retry_delay(
    attempts_made: int, rng: random.Random | None = None, *, delays: Sequence[timedelta] = RETRY_DELAYS
) -> timedelta:
    base = delays[min(attempts_made, len(delays)) - 1]
    spread = (rng or random).uniform(-JITTER, JITTER)
    return base * (1 + spread)


@dataclass(frozen=True, slots=True)
class Attempt:
    id: str
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None
    excerpt: str | None


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    payment_id: str | None
    sequence: int
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    created_at: datetime
    completed_at: datetime | None
    attempt_log: tuple[Attempt, ...] = ()


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery a worker holds for one attempt, with what it needs to send it."""

    id: str
    merchant_id: str
    claim_token: str  # the claim that holds it; only that claim's record counts
    attempts: int  # made before this one
    endpoint_id: str
    format: str  # the name of the WebhookFormat the endpoint wants
    url: str
    mode: str
    secrets: tuple[str, ...]
    event_id: str
    event_type: str
    payment_id: str | None
    sequence: int
    data: dict[str, object]
    event_created_at: datetime

    @property
    def event(self) -> OutgoingEvent:
        return OutgoingEvent(
            id=self.event_id,
            type=self.event_type,
            sequence=self.sequence,
            merchant_id=self.merchant_id,
            mode=self.mode,
            payment_id=self.payment_id,
            data=self.data,
            created_at=self.event_created_at,
        )


@dataclass(frozen=True, slots=True)
class Recorded:
    """One finished attempt, as the worker hands it back to be recorded."""

    delivery: ClaimedDelivery
    result: AttemptResult
    step: NextStep
    attempted_at: datetime
