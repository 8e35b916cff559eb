"""Idempotency keys in SQL: one row per merchant, mode and key, claimed by an insert that does nothing
when the key is taken (so two racing requests cannot both claim it), completed with the response.

Every write after the claim names the claim it holds (`claim`): a retry that took the key over once
the lease had passed changes it, and from then on the first holder's writes match no row. The
take-over itself is such a compare-and-set, so two retries cannot both win it.

The record crosses the port as a dict keyed by column name (`core.idempotency` builds it), so the row
is the record and there is no mapping to keep.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tessera.storage import tables as t
from tessera.storage.engine import Conn

_c = t.idempotency_keys.c


class SqlIdempotencyRepository:
    def __init__(self, conn: Conn, *, sqlite: bool) -> None:
        self._conn = conn
        self._insert = sqlite_insert if sqlite else pg_insert

    def _key(self, merchant_id: str, mode: str, key: str) -> Any:
        return and_(_c.merchant_id == merchant_id, _c.mode == mode, _c.key == key)

    def _held(self, merchant_id: str, mode: str, key: str, claim: str | None) -> Any:
        holder = _c.claim.is_(None) if claim is None else _c.claim == claim
        return and_(self._key(merchant_id, mode, key), _c.state == "in_progress", holder)

    async def try_insert(self, record: dict[str, Any]) -> bool:
        statement = self._insert(t.idempotency_keys).values(record).on_conflict_do_nothing()
        result = await self._conn.execute(statement)
        return bool(result.rowcount == 1)

    async def get(self, merchant_id: str, mode: str, key: str) -> dict[str, Any] | None:
        row = (await self._conn.execute(select(t.idempotency_keys).where(self._key(merchant_id, mode, key)))).first()
        return dict(row._mapping) if row else None

    async def take_over(
        self, merchant_id: str, mode: str, key: str, old_claim: str | None, new_claim: str, locked_until: datetime
    ) -> dict[str, Any] | None:
        result = await self._conn.execute(
            update(t.idempotency_keys)
            .where(self._held(merchant_id, mode, key, old_claim))
            .values(claim=new_claim, locked_until=locked_until)
        )
        if result.rowcount != 1:
            return None
        # Read after the update: on PostgreSQL the row is ours now, so this is its latest recovery point.
        return await self.get(merchant_id, mode, key)

    async def record_resource(self, merchant_id: str, mode: str, key: str, claim: str, resource_id: str) -> bool:
        result = await self._conn.execute(
            update(t.idempotency_keys).where(self._held(merchant_id, mode, key, claim)).values(resource_id=resource_id)
        )
        return bool(result.rowcount == 1)

    async def complete(self, merchant_id: str, mode: str, key: str, claim: str, status: int, body: bytes) -> None:
        await self._conn.execute(
            update(t.idempotency_keys)
            .where(self._held(merchant_id, mode, key, claim))
            .values(state="complete", response_status=status, response_body=body)
        )

    async def reopen(self, merchant_id: str, mode: str, key: str, claim: str, now: datetime) -> None:
        await self._conn.execute(
            update(t.idempotency_keys).where(self._held(merchant_id, mode, key, claim)).values(locked_until=now)
        )

    async def release(self, merchant_id: str, mode: str, key: str, claim: str) -> None:
        await self._conn.execute(delete(t.idempotency_keys).where(self._held(merchant_id, mode, key, claim)))

    async def delete(self, merchant_id: str, mode: str, key: str) -> None:
        await self._conn.execute(delete(t.idempotency_keys).where(self._key(merchant_id, mode, key)))

    async def purge(self, before: datetime) -> int:
        result = await self._conn.execute(delete(t.idempotency_keys).where(t.idempotency_keys.c.expires_at <= before))
        return int(result.rowcount)
