"""The recovery job: finds operations left open by a crash or a time-out and resolves them, and sends
the queued time-out reversals until the acquirer acknowledges each.

Runs at start-up and on every worker tick. An operation still `pending` is only touched once it is
older than the processor time-out plus a margin, so a call still in flight is never second-guessed.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from tessera.core.clock import utcnow
from tessera.core.payments.reversals import LEASE, QueuedReversal
from tessera.core.payments.settle import PaymentDeps, call_processor, resolve_operation
from tessera.core.ports import Outcome, ReverseRequest

logger = logging.getLogger(__name__)


async def recover_open_operations(*, deps: PaymentDeps, grace: timedelta, limit: int = 100) -> int:
    """Resolve up to `limit` stale operations; returns how many were looked at."""
    async with deps.uow(read_only=True) as tx:
        stale = await tx.payments.stale_operations(utcnow() - grace, limit)
    for payment_id, operation_id in stale:
        try:
            await resolve_operation(payment_id, operation_id, deps=deps)
        except Exception:
            logger.exception("recovery failed", extra={"payment_id": payment_id})
    return len(stale)


async def send_queued_reversals(*, deps: PaymentDeps, limit: int = 100) -> int:
    """Send every due queued reversal once; returns how many were sent. A reversal another worker holds
    (its lease) is left to it; one that is not acknowledged is due again after a back-off."""
    now = utcnow()
    async with deps.uow(read_only=True) as tx:
        due = await tx.reversals.due(now, limit)
    sent = 0
    for reversal in due:
        async with deps.uow() as tx:
            claimed = await tx.reversals.claim(reversal, now + LEASE)
            await tx.commit()
        if not claimed:
            continue
        sent += 1
        try:
            await _send(reversal, deps)
        except Exception:
            logger.exception("reversal failed", extra={"payment_id": reversal.payment_id})
    return sent


async def _send(reversal: QueuedReversal, deps: PaymentDeps) -> None:
    processor = deps.processors.by_name(reversal.processor)
    request = ReverseRequest(
        reversal.operation_id,
        reversal.payment_id,
        reversal.amount,
        reversal.currency,
        original_data=reversal.original_data,
        data=reversal.data,
        attempt=reversal.attempts,
    )
    result = await call_processor(processor.reverse(request), deps.processor_timeout)
    now = utcnow()
    done = result.outcome is Outcome.APPROVED
    code = result.response_code
    changed = reversal.acknowledged(code, now) if done else reversal.failed_try(code, now)
    async with deps.uow() as tx:
        await tx.reversals.save(changed)
        await tx.commit()
    logger.info(
        "queued reversal attempt=%d outcome=%s",
        changed.attempts,
        "acknowledged" if done else "retry",
        extra={"payment_id": reversal.payment_id, "outcome": "acknowledged" if done else "retry"},
    )
