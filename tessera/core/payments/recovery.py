"""The recovery job: finds operations left open by a crash or a time-out and resolves them.

Runs at start-up and on every worker tick. An operation still `pending` is only touched once it is
older than the processor time-out plus a margin, so a call still in flight is never second-guessed.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from tessera.core.clock import utcnow
from tessera.core.payments.settle import PaymentDeps, resolve_operation

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
