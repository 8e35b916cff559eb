"""Merchants and their API keys in SQL. Keys are stored only as hashes and found by them.

One mapping per table (see `storage.rows`): a column added to `merchants` or `api_keys` needs one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, String, bindparam, cast, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from tessera.core.clock import utcnow
from tessera.core.identities import StoredIdentity
from tessera.core.merchants import ApiKey, KeyKind, Merchant, MerchantStatus
from tessera.core.risk.model import Charge, RiskSummary
from tessera.storage import tables as t
from tessera.storage.engine import Conn
from tessera.storage.rows import attributes, columns, picked, update_by_key

# Columns holding the attribute of the same name, unchanged.
_MERCHANT_PLAIN = ("id", "name", "webhook_secret", "threeds_policy", "attempt_budget", "created_at")
# What a merchant may change after it is made (the callback URL lives on its callback endpoint).
_MERCHANT_MUTABLE = ("allowed_domains", "attempt_budget", "allowed_ips", "charges", "risk_summary", "threeds_policy")
# revoked_at: the store's. public_value: a publishable key whole (never a secret key's).
_KEY_PLAIN = ("id", "merchant_id", "mode", "client_id", "key_hash", "prefix", "created_at", "public_value")


def _merchant_row(merchant: Merchant) -> dict[str, Any]:
    return attributes(merchant, _MERCHANT_PLAIN) | {
        "status": merchant.status.value,
        "allowed_domains": merchant.allowed_domains,
        "allowed_ips": merchant.allowed_ips or None,
        "charges": [c.as_dict() for c in merchant.charges] or None,
        "risk_summary": {mode: s.as_dict() for mode, s in merchant.risk.items()} or None,
    }


def _merchant(row: Row[Any]) -> Merchant:
    m = t.merchants.c
    return Merchant(
        **columns(row, _MERCHANT_PLAIN, of=t.merchants),
        status=MerchantStatus(row._mapping[m.status]),
        allowed_domains=list(row._mapping[m.allowed_domains] or []),
        allowed_ips={str(k): list(v) for k, v in (row._mapping[m.allowed_ips] or {}).items()},
        charges=[Charge.from_dict(c) for c in row._mapping[m.charges] or ()],
        risk={str(k): RiskSummary.from_dict(v) for k, v in (row._mapping[m.risk_summary] or {}).items()},
    )


def _key_row(key: ApiKey) -> dict[str, Any]:
    return attributes(key, _KEY_PLAIN) | {"kind": key.kind.value}


def _key(row: Row[Any]) -> ApiKey:
    m = row._mapping
    return ApiKey(
        **columns(row, _KEY_PLAIN, of=t.api_keys),
        kind=KeyKind(m[t.api_keys.c.kind]),
        revoked_at=m[t.api_keys.c.revoked_at],
    )


# A key works until its `revoked_at`: none, or a time still to come (a key rolled with a grace period).
_IN_FORCE = or_(
    t.api_keys.c.revoked_at.is_(None), t.api_keys.c.revoked_at > bindparam("now", type_=t.api_keys.c.revoked_at.type)
)


_INSERT_MERCHANT = insert(t.merchants)
_INSERT_KEY = insert(t.api_keys)
_KEY_JOIN = select(t.api_keys, t.merchants).join(t.merchants, t.merchants.c.id == t.api_keys.c.merchant_id)
_MERCHANT_BY_ID = select(t.merchants).where(t.merchants.c.id == bindparam("merchant_id"))
_MERCHANT_BY_ID_LOCKED = _MERCHANT_BY_ID.with_for_update()  # nothing on SQLite, which serialises writers
_SAVE_MERCHANT = update_by_key(t.merchants, _MERCHANT_MUTABLE)
_KEY_MODES = (
    select(t.api_keys.c.mode)
    .where(t.api_keys.c.merchant_id == bindparam("merchant_id"), _IN_FORCE)
    .distinct()
    .order_by(t.api_keys.c.mode)
)
_ACTIVE_KEYS = (
    select(t.api_keys)
    .where(t.api_keys.c.merchant_id == bindparam("merchant_id"), _IN_FORCE)
    .order_by(t.api_keys.c.created_at, t.api_keys.c.id)
)
# Revoking brings a key's end forward (to `at`), never later: a key rolled with a grace period can still be
# revoked at once.
_REVOKE_KEY = (
    update(t.api_keys)
    .where(
        t.api_keys.c.id == bindparam("key_id"),
        or_(t.api_keys.c.revoked_at.is_(None), t.api_keys.c.revoked_at > bindparam("at")),
    )
    .values(revoked_at=bindparam("at"))
)
_IDENTITY_COLUMNS = ("merchant_id", "mode", "kind", "public_id", "public_data", "sealed_secret", "created_at")
_I = t.merchant_identities
_IDENTITY = select(_I).where(
    _I.c.merchant_id == bindparam("merchant_id"), _I.c.mode == bindparam("mode"), _I.c.kind == bindparam("kind")
)
_IDENTITY_BY_PUBLIC_ID = select(_I).where(_I.c.kind == bindparam("kind"), _I.c.public_id == bindparam("public_id"))
_KEY_BY_HASH = _KEY_JOIN.where(t.api_keys.c.key_hash == bindparam("key_hash"), _IN_FORCE)


class SqlMerchantRepository:
    def __init__(self, conn: Conn) -> None:
        self._conn = conn
        # What this transaction wrote, so that its commit clears them from the process's AuthCache.
        self.changed_merchants: set[str] = set()
        self.changed_keys: set[str] = set()

    async def add(self, merchant: Merchant, keys: Sequence[ApiKey]) -> None:
        self.changed_merchants.add(merchant.id)
        await self._conn.execute(_INSERT_MERCHANT, [_merchant_row(merchant)])
        await self._conn.execute(_INSERT_KEY, [_key_row(k) for k in keys])

    async def add_keys(self, keys: Sequence[ApiKey]) -> None:
        self.changed_merchants.update(k.merchant_id for k in keys)
        await self._conn.execute(_INSERT_KEY, [_key_row(k) for k in keys])

    async def active_keys(self, merchant_id: str) -> list[ApiKey]:
        """The merchant's keys in force (unrevoked, or revoked from a time to come), oldest first."""
        found = await self._conn.execute(_ACTIVE_KEYS, {"merchant_id": merchant_id, "now": utcnow()})
        return [_key(r) for r in found]

    async def revoke_key(self, key_id: str, at: datetime) -> bool:
        """Revoke the key from `at` on; False when it was already revoked by then."""
        self.changed_keys.add(key_id)
        result = await self._conn.execute(_REVOKE_KEY, {"key_id": key_id, "at": at})
        return bool(result.rowcount == 1)

    async def find_key(self, key_hash: str) -> tuple[ApiKey, Merchant] | None:
        row = (await self._conn.execute(_KEY_BY_HASH, {"key_hash": key_hash, "now": utcnow()})).first()
        return (_key(row), _merchant(row)) if row else None

    async def get(self, merchant_id: str, *, for_update: bool = False) -> Merchant | None:
        query = _MERCHANT_BY_ID_LOCKED if for_update else _MERCHANT_BY_ID
        row = (await self._conn.execute(query, {"merchant_id": merchant_id})).first()
        return _merchant(row) if row else None

    async def key_modes(self, merchant_id: str) -> list[str]:
        """The modes the merchant has (unrevoked) keys for, sorted."""
        return [r.mode for r in await self._conn.execute(_KEY_MODES, {"merchant_id": merchant_id, "now": utcnow()})]

    async def allowing_domains(self, domains: Sequence[str], *, limit: int) -> list[Merchant]:
        """Active merchants whose allowed domains include one of `domains`. The list is a JSON column:
        its text is narrowed with LIKE on the quoted domain (both stores write `["a.com", "b.com"]`),
        then each row is checked exactly."""
        if not domains:
            return []
        m = t.merchants.c
        text = cast(m.allowed_domains, String)
        quoted = ['%"' + d.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + '"%' for d in domains]
        query = (
            select(t.merchants)
            .where(m.status == MerchantStatus.ACTIVE.value, or_(*(text.like(q, escape="\\") for q in quoted)))
            .order_by(m.id)
            .limit(limit)
        )
        wanted = set(domains)
        found = [_merchant(r) for r in await self._conn.execute(query)]
        return [merchant for merchant in found if wanted.intersection(merchant.allowed_domains)]

    async def save_settings(self, merchant: Merchant) -> None:
        """The settings a merchant may change: return-URL domains, attempt budget, API IP allowlist, fees."""
        self.changed_merchants.add(merchant.id)
        params = picked(_merchant_row(merchant), _MERCHANT_MUTABLE) | {"w_key": merchant.id}
        await self._conn.execute(_SAVE_MERCHANT, params)

    async def count(self) -> int:
        rows = await self._conn.execute(select(t.merchants.c.id).limit(1))
        return len(rows.all())

    async def set_status(self, merchant_id: str, status: str) -> None:
        self.changed_merchants.add(merchant_id)
        await self._conn.execute(update(t.merchants).where(t.merchants.c.id == merchant_id).values(status=status))

    async def identity(self, merchant_id: str, mode: str, kind: str) -> StoredIdentity | None:
        params = {"merchant_id": merchant_id, "mode": mode, "kind": kind}
        row = (await self._conn.execute(_IDENTITY, params)).first()
        return StoredIdentity(**columns(row, _IDENTITY_COLUMNS, of=_I)) if row else None

    async def identity_by_public_id(self, kind: str, public_id: str) -> StoredIdentity | None:
        row = (await self._conn.execute(_IDENTITY_BY_PUBLIC_ID, {"kind": kind, "public_id": public_id})).first()
        return StoredIdentity(**columns(row, _IDENTITY_COLUMNS, of=_I)) if row else None

    async def add_identity(self, identity: StoredIdentity) -> bool:
        """Insert it; False when the merchant already has one of this kind and mode (a racing request
        made it first). Run it last in its transaction: on PostgreSQL a refused insert ends it."""
        try:
            await self._conn.execute(insert(_I), [attributes(identity, _IDENTITY_COLUMNS)])
        except IntegrityError:
            return False
        return True
