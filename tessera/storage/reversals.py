"""The queue of time-out reversals (`core.payments.reversals`) in SQL: added with the payment's failure,
claimed by one worker at a time with an optimistic update, kept once acknowledged as the record of what
was reversed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from tessera.core.payments.reversals import QueuedReversal
from tessera.core.ports import ProcessorData
from tessera.storage import tables as t
from tessera.storage.engine import Conn

_C = t.reversal_queue.c


def _row(r: QueuedReversal) -> dict[str, Any]:
    return {
        "id": r.id,
        "payment_id": r.payment_id,
        "operation_id": r.operation_id,
        "processor": r.processor,
        "amount": r.amount,
        "currency": r.currency,
        "original_data": r.original_data.as_dict(),
        "data": r.data.as_dict(),
        "attempts": r.attempts,
        "last_response": r.last_response,
        "created_at": r.created_at,
        "next_attempt_at": r.next_attempt_at,
        "acknowledged_at": r.acknowledged_at,
    }


def _reversal(row: Any) -> QueuedReversal:
    return QueuedReversal(
        id=row.id,
        payment_id=row.payment_id,
        operation_id=row.operation_id,
        processor=row.processor,
        amount=row.amount,
        currency=row.currency,
        original_data=ProcessorData.from_dict(row.original_data),
        data=ProcessorData.from_dict(row.data),
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        attempts=row.attempts,
        acknowledged_at=row.acknowledged_at,
        last_response=row.last_response,
    )


class SqlReversalRepository:
    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    async def add(self, reversal: QueuedReversal) -> None:
        await self._conn.execute(insert(t.reversal_queue).values(**_row(reversal)))

    async def due(self, now: datetime, limit: int) -> Sequence[QueuedReversal]:
        rows = await self._conn.execute(
            select(t.reversal_queue)
            .where(_C.acknowledged_at.is_(None), _C.next_attempt_at <= now)
            .order_by(_C.next_attempt_at)
            .limit(limit)
        )
        return [_reversal(r) for r in rows]

    async def claim(self, reversal: QueuedReversal, until: datetime) -> bool:
        done = await self._conn.execute(
            update(t.reversal_queue)
            .where(
                _C.id == reversal.id,
                _C.acknowledged_at.is_(None),
                _C.attempts == reversal.attempts,
                _C.next_attempt_at == reversal.next_attempt_at,
            )
            .values(next_attempt_at=until)
        )
        return done.rowcount == 1

    async def save(self, reversal: QueuedReversal) -> None:
        values = _row(reversal)
        del values["id"]
        await self._conn.execute(update(t.reversal_queue).where(_C.id == reversal.id).values(**values))

    async def for_payment(self, payment_id: str) -> Sequence[QueuedReversal]:
        rows = await self._conn.execute(select(t.reversal_queue).where(_C.payment_id == payment_id))
        return [_reversal(r) for r in rows]
