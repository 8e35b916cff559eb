"""Time-out reversals that are never lost: the queued reversal and its retry schedule.

When an authorisation's answer does not come (a time-out, a connection lost after sending) on a
processor that `queues_reversals`, `settle.resolve_operation` fails the payment with NETWORK_ERROR and
adds a `QueuedReversal` in the same transaction: the payment is reported failed only once its reversal
is durable, and never approved. `recovery.send_queued_reversals`, run by every worker tick, sends each
due reversal (the processor sends 0400 first, then 0420 advices) until the acquirer acknowledges it,
backing off between tries; it survives restarts because the queue is a table. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from tessera.core.ids import new_id
from tessera.core.ports import ProcessorData

# Waits before the 2nd, 3rd, ... try; the last one repeats for as long as the host does not acknowledge.
BACKOFF: tuple[timedelta, ...] = tuple(timedelta(seconds=s) for s in (1, 2, 5, 15, 30, 60))
# How long a worker holds a reversal it is sending before another worker may take it.
LEASE = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class QueuedReversal:
    id: str
    payment_id: str
    operation_id: str  # the authorisation being reversed
    processor: str
    amount: int
    currency: str
    original_data: ProcessorData  # the original's STAN, RRN, MTI and transmission time (DE90)
    data: ProcessorData  # the reversal's own STAN: the same on every retry, as repeats require
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    acknowledged_at: datetime | None = None
    last_response: str | None = None

    @classmethod
    def new(
        cls,
        *,
        payment_id: str,
        operation_id: str,
        processor: str,
        amount: int,
        currency: str,
        original_data: ProcessorData,
        data: ProcessorData,
        now: datetime,
    ) -> QueuedReversal:
        return cls(new_id("rvq"), payment_id, operation_id, processor, amount, currency, original_data, data, now, now)

    def acknowledged(self, response: str | None, now: datetime) -> QueuedReversal:
        return replace(self, attempts=self.attempts + 1, acknowledged_at=now, last_response=response)

    def failed_try(self, response: str | None, now: datetime) -> QueuedReversal:
        wait = BACKOFF[min(self.attempts, len(BACKOFF) - 1)]
        return replace(self, attempts=self.attempts + 1, next_attempt_at=now + wait, last_response=response)
