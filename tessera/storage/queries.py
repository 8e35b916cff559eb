"""Read-only queries for lists (payments newest first, cursor-paginated)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select

from tessera.core.payments.model import Payment
from tessera.storage import tables as t
from tessera.storage.engine import Database
from tessera.storage.events import number_committed_events
from tessera.storage.payments import operation_from_row, payment_from_row


class SqlReadModel:
    """`core.ports.ReadModel` over the database: the lists the APIs (and the dashboard) show."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def list_payments(
        self,
        merchant_id: str,
        mode: str,
        *,
        limit: int,
        starting_after: str | None = None,
        status: str | None = None,
        reference: str | None = None,
    ) -> tuple[list[Payment], bool]:
        """Up to `limit` payments, newest first (ids are time-ordered), and whether more follow."""
        return await _list_payments(self._db, merchant_id, mode, limit, starting_after, status, reference)

    async def list_events(
        self, merchant_id: str, mode: str, *, limit: int, after: int = 0, types: list[str] | None = None
    ) -> tuple[list[dict[str, Any]], bool]:
        return await list_events(self._db, merchant_id, mode, limit=limit, after=after, types=types)


async def _list_payments(
    db: Database,
    merchant_id: str,
    mode: str,
    limit: int,
    starting_after: str | None,
    status: str | None,
    reference: str | None,
) -> tuple[list[Payment], bool]:
    c = t.payments.c
    query = select(t.payments).where(c.merchant_id == merchant_id, c.mode == mode)
    if starting_after:
        query = query.where(c.id < starting_after)
    if status:
        query = query.where(c.status == status)
    if reference:
        query = query.where(c.reference == reference)
    query = query.order_by(c.id.desc()).limit(limit + 1)
    async with db.connect() as conn:
        rows = (await conn.execute(query)).all()[: limit + 1]
        more = len(rows) > limit
        rows = rows[:limit]
        ops: dict[str, list] = defaultdict(list)  # type: ignore[type-arg]
        if rows:
            found = await conn.execute(
                select(t.operations)
                .where(t.operations.c.payment_id.in_([r.id for r in rows]))
                .order_by(t.operations.c.id)
            )
            for r in found:
                ops[r.payment_id].append(operation_from_row(r))
    return [payment_from_row(r, ops[r.id]) for r in rows], more


async def list_events(
    db: Database, merchant_id: str, mode: str, *, limit: int, after: int = 0, types: list[str] | None = None
) -> tuple[list[dict[str, Any]], bool]:
    """Events in sequence order after number `after`, and whether more follow."""
    await number_committed_events(db)  # the list includes everything committed before the request
    c = t.events.c
    query = select(t.events).where(c.merchant_id == merchant_id, c.mode == mode, c.sequence > after)
    if types:
        query = query.where(c.type.in_(types))
    async with db.connect() as conn:
        rows = (await conn.execute(query.order_by(c.sequence).limit(limit + 1))).all()
    found = [
        {
            "id": r.id,
            "type": r.type,
            "sequence": r.sequence,
            "payment_id": r.payment_id,
            "data": r.data,
            "created_at": r.created_at,
        }
        for r in rows[:limit]
    ]
    return found, len(rows) > limit


async def webhook_secret_of(db: Database, merchant_id: str) -> str | None:
    async with db.connect() as conn:
        row = (await conn.execute(select(t.merchants.c.webhook_secret).where(t.merchants.c.id == merchant_id))).first()
    return row.webhook_secret if row else None


async def merchant_ids(db: Database, limit: int = 2) -> list[str]:
    async with db.connect() as conn:
        rows = await conn.execute(select(t.merchants.c.id).order_by(t.merchants.c.created_at).limit(limit))
        return [r.id for r in rows]


async def last_event_sequence(db: Database, merchant_id: str, mode: str) -> int:
    await number_committed_events(db)
    c = t.events.c
    async with db.connect() as conn:
        found = await conn.execute(select(func.max(c.sequence)).where(c.merchant_id == merchant_id, c.mode == mode))
        return int(found.scalar() or 0)
