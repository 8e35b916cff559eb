"""3-D Secure authentications in SQL: the 3DS server's record of each attempt, locked with
`FOR UPDATE` on PostgreSQL while a result is recorded.

One mapping per table (see `storage.rows`): a column added to `authentications` needs one line here,
plus one in `_AUTHENTICATION_MUTABLE` if it can change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, insert, select

from tessera.core.threeds.model import TransStatus
from tessera.core.threeds.records import Authentication, ChallengeState
from tessera.storage import tables as t
from tessera.storage.engine import Conn
from tessera.storage.rows import attributes, columns, picked, update_by_key

# Columns holding the authentication's attribute of the same name, unchanged.
_AUTHENTICATION_PLAIN = (
    "id",
    "payment_id",
    "merchant_id",
    "mode",
    "three_ds_server_trans_id",
    "version",
    "policy",
    "expires_at",
    "created_at",
    "updated_at",
    "acs_trans_id",
    "ds_trans_id",
    "trans_status_reason",
    "eci",
    "cavv_ciphertext",
    "acs_url",
    "card_ciphertext",
    "cvv_ciphertext",
    "key_version",
    "exp_month",
    "exp_year",
    "holder_name",
)
_AUTHENTICATION_MUTABLE = (
    "acs_trans_id",
    "ds_trans_id",
    "trans_status",
    "trans_status_reason",
    "eci",
    "cavv_ciphertext",
    "acs_url",
    "challenge",
    "card_ciphertext",
    "cvv_ciphertext",
    "key_version",
    "exp_month",
    "exp_year",
    "holder_name",
    "updated_at",
)


def _authentication_row(a: Authentication) -> dict[str, Any]:
    return attributes(a, _AUTHENTICATION_PLAIN) | {
        "trans_status": a.trans_status.value if a.trans_status else None,
        "challenge": a.challenge.value,
    }


def _authentication(row: Row[Any]) -> Authentication:
    return Authentication(
        **columns(row, _AUTHENTICATION_PLAIN),
        trans_status=TransStatus(row.trans_status) if row.trans_status else None,
        challenge=ChallengeState(row.challenge),
    )


_INSERT_AUTHENTICATION = insert(t.authentications)
_SAVE_AUTHENTICATION = update_by_key(t.authentications, _AUTHENTICATION_MUTABLE)
# The look-ups, built once (building a statement costs more than running it), by column.
_BY = {
    name: select(t.authentications).where(t.authentications.c[name] == bindparam("value"))
    for name in ("three_ds_server_trans_id", "payment_id")
}
_LOCKED_BY = {name: query.with_for_update() for name, query in _BY.items()}


class SqlAuthenticationRepository:
    def __init__(self, conn: Conn, *, for_update: bool) -> None:
        self._conn = conn
        self._for_update = for_update

    async def add(self, a: Authentication) -> None:
        await self._conn.write(_INSERT_AUTHENTICATION, _authentication_row(a))

    async def _one(self, by: str, value: str) -> Authentication | None:
        rows = await self._conn.read(_LOCKED_BY[by] if self._for_update else _BY[by], {"value": value})
        return _authentication(rows[0]) if rows else None

    async def get_by_trans_id(self, three_ds_server_trans_id: str) -> Authentication | None:
        return await self._one("three_ds_server_trans_id", three_ds_server_trans_id)

    async def get_for_payment(self, payment_id: str) -> Authentication | None:
        return await self._one("payment_id", payment_id)

    async def save(self, a: Authentication) -> None:
        params = picked(_authentication_row(a), _AUTHENTICATION_MUTABLE) | {"w_key": a.id}
        await self._conn.write(_SAVE_AUTHENTICATION, params)

    async def expired_challenges(self, now: datetime, limit: int) -> list[Authentication]:
        c = t.authentications.c
        rows = await self._conn.execute(
            select(t.authentications)
            .where(c.challenge == ChallengeState.PENDING.value, c.expires_at <= now)
            .order_by(c.expires_at)
            .limit(limit)
        )
        return [_authentication(r) for r in rows]
