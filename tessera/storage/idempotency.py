"""Idempotency keys in SQL: one row per merchant, mode and key, claimed by an insert that does nothing
when the key is taken (so two racing requests cannot both claim it), completed with the response.

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


class SqlIdempotencyRepository:
    def __init__(self, conn: Conn, *, sqlite: bool) -> None:
        self._conn = conn
        self._insert = sqlite_insert if sqlite else pg_insert

    def _key(self, merchant_id: str, mode: str, key: str) -> Any:
        c = t.idempotency_keys.c
        return and_(c.merchant_id == merchant_id, c.mode == mode, c.key == key)

    async def try_insert(self, record: dict[str, Any]) -> bool:
        statement = self._insert(t.idempotency_keys).values(record).on_conflict_do_nothing()
        result = await self._conn.execute(statement)
        return bool(result.rowcount == 1)

    async def get(self, merchant_id: str, mode: str, key: str) -> dict[str, Any] | None:
        row = (await self._conn.execute(select(t.idempotency_keys).where(self._key(merchant_id, mode, key)))).first()
        return dict(row._mapping) if row else None

    async def complete(self, merchant_id: str, mode: str, key: str, status: int, body: bytes) -> None:
        await self._conn.execute(
            update(t.idempotency_keys)
            .where(self._key(merchant_id, mode, key))
            .values(state="complete", response_status=status, response_body=body)
        )

    async def delete(self, merchant_id: str, mode: str, key: str) -> None:
        await self._conn.execute(delete(t.idempotency_keys).where(self._key(merchant_id, mode, key)))

    async def purge(self, before: datetime) -> int:
        result = await self._conn.execute(delete(t.idempotency_keys).where(t.idempotency_keys.c.expires_at <= before))
        return int(result.rowcount)
