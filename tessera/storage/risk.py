"""The risk controls in SQL: blocklist entries, velocity rules, and the counters that enforce them.

A counter is raised by one `INSERT .. ON CONFLICT DO UPDATE SET total = total + :n WHERE total + :n <=
:limit RETURNING total`: on PostgreSQL the conflicting row is locked for the update, so concurrent
attempts in any number of processes are serialised on that row and the limit is never passed; SQLite
serialises writers. No row back means the limit would have been passed, and nothing was added.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, bindparam, delete, func, literal, null, select, tuple_, union_all, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tessera.core.risk.model import BlockEntry, BlockType, VelocityKey, VelocityMetric, VelocityRule
from tessera.storage import tables as t
from tessera.storage.engine import Conn
from tessera.storage.rows import attributes, columns

_ENTRY_PLAIN = ("id", "merchant_id", "mode", "value", "match_key", "created_at")
_RULE_PLAIN = ("id", "merchant_id", "mode", "limit", "currency", "window_seconds", "created_at")

_b, _r, _c = t.risk_blocklist.c, t.risk_rules.c, t.risk_counters.c
_OF_MERCHANT = (_b.merchant_id == bindparam("merchant_id"), _b.mode == bindparam("mode"))
_ENTRY_BY_KEY = select(t.risk_blocklist).where(*_OF_MERCHANT, _b.match_key == bindparam("match_key"))
_MATCHING = select(t.risk_blocklist).where(*_OF_MERCHANT, _b.match_key.in_(bindparam("keys", expanding=True)))
_RULES = (
    select(t.risk_rules)
    .where(_r.merchant_id == bindparam("merchant_id"), _r.mode == bindparam("mode"))
    .order_by(_r.created_at, _r.id)
)
_UNCOUNT = (
    update(t.risk_counters)
    .where(_c.rule_id == bindparam("w_rule"), _c.key == bindparam("w_key"), _c.window_start == bindparam("w_start"))
    .values(total=_c.total - bindparam("n"))
)
_TOTALS = select(_c.rule_id, _c.key, _c.window_start, _c.total).where(
    tuple_(_c.rule_id, _c.key, _c.window_start).in_(bindparam("counters", expanding=True))
)
# Entries and counters in one statement: each row says which it is (`kind`), the columns the other lacks null.
_SCREEN = union_all(
    select(
        literal("e").label("kind"),
        _b.id,
        _b.merchant_id,
        _b.mode,
        _b.type,
        _b.value,
        _b.match_key,
        _b.created_at,
        null().label("window_start"),
        null().label("total"),
    ).where(*_OF_MERCHANT, _b.match_key.in_(bindparam("keys", expanding=True))),
    select(
        literal("c").label("kind"),
        _c.rule_id,
        null(),
        null(),
        null(),
        _c.key,
        null(),
        null(),
        _c.window_start,
        _c.total,
    ).where(tuple_(_c.rule_id, _c.key, _c.window_start).in_(bindparam("counters", expanding=True))),
)
_DROP_OLD = delete(t.risk_counters).where(
    _c.rule_id == bindparam("rule_id"), _c.key == bindparam("key"), _c.window_start < bindparam("window_start")
)


def _entry(row: Row[Any]) -> BlockEntry:
    return BlockEntry(**columns(row, _ENTRY_PLAIN), type=BlockType(row.type))


def _rule(row: Row[Any]) -> VelocityRule:
    return VelocityRule(**columns(row, _RULE_PLAIN), key=VelocityKey(row.key), metric=VelocityMetric(row.metric))


def _counting(insert: Any) -> Any:
    counter = insert(t.risk_counters).values(
        rule_id=bindparam("rule_id"), key=bindparam("key"), window_start=bindparam("window_start"), total=bindparam("n")
    )
    return counter.on_conflict_do_update(
        index_elements=[_c.rule_id, _c.key, _c.window_start],
        set_={"total": _c.total + counter.excluded.total},
        where=_c.total + counter.excluded.total <= bindparam("limit"),
    ).returning(_c.total)


# Built once (a unit of work makes a repository per transaction; building a statement costs more than running it).
_COUNT = {True: _counting(sqlite_insert), False: _counting(pg_insert)}
_a = t.rate_counters.c


def _admitting(insert: Any) -> Any:
    counter = insert(t.rate_counters).values(
        key=bindparam("key"), window_start=bindparam("window_start"), ends_at=bindparam("ends_at"), total=1
    )
    return counter.on_conflict_do_update(
        index_elements=[_a.key, _a.window_start],
        set_={"total": _a.total + 1},
        where=_a.total + 1 <= bindparam("limit"),
    ).returning(_a.total)


_ADMIT = {True: _admitting(sqlite_insert), False: _admitting(pg_insert)}


class SqlRiskRepository:
    def __init__(self, conn: Conn, *, sqlite: bool) -> None:
        self._conn = conn
        self._insert = sqlite_insert if sqlite else pg_insert
        self._count = _COUNT[sqlite]
        self._admit = _ADMIT[sqlite]

    async def add_entry(self, entry: BlockEntry) -> bool:
        row = attributes(entry, _ENTRY_PLAIN) | {"type": entry.type.value}
        statement = self._insert(t.risk_blocklist).values(row).on_conflict_do_nothing()
        return bool((await self._conn.execute(statement)).rowcount == 1)

    async def entry_by_key(self, merchant_id: str, mode: str, match_key: str) -> BlockEntry | None:
        params = {"merchant_id": merchant_id, "mode": mode, "match_key": match_key}
        row = (await self._conn.execute(_ENTRY_BY_KEY, params)).first()
        return _entry(row) if row else None

    async def matching_entries(self, merchant_id: str, mode: str, match_keys: Sequence[str]) -> list[BlockEntry]:
        params = {"merchant_id": merchant_id, "mode": mode, "keys": list(match_keys)}
        return [_entry(r) for r in await self._conn.execute(_MATCHING, params)]

    async def screen(
        self, merchant_id: str, mode: str, match_keys: Sequence[str], counters: Sequence[tuple[str, str, int]]
    ) -> tuple[list[BlockEntry], dict[tuple[str, str, int], int]]:
        if not match_keys:
            return [], await self.totals(counters)
        if not counters:
            return await self.matching_entries(merchant_id, mode, match_keys), {}
        params = {"merchant_id": merchant_id, "mode": mode, "keys": list(match_keys)}
        rows = await self._conn.execute(_SCREEN, params | {"counters": [tuple(c) for c in counters]})
        entries, totals = [], {}
        for r in rows:
            if r.kind == "e":
                entries.append(_entry(r))
            else:
                totals[(r.id, r.value, int(r.window_start))] = int(r.total)
        return entries, totals

    async def list_entries(
        self, merchant_id: str, mode: str, *, limit: int, starting_after: str | None
    ) -> tuple[list[BlockEntry], bool]:
        query = select(t.risk_blocklist).where(_b.merchant_id == merchant_id, _b.mode == mode)
        if starting_after is not None:
            query = query.where(_b.id < starting_after)
        rows = (await self._conn.execute(query.order_by(_b.id.desc()).limit(limit + 1))).all()
        return [_entry(r) for r in rows[:limit]], len(rows) > limit

    async def delete_entry(self, merchant_id: str, mode: str, entry_id: str) -> BlockEntry | None:
        query = select(t.risk_blocklist).where(_b.merchant_id == merchant_id, _b.mode == mode, _b.id == entry_id)
        row = (await self._conn.execute(query)).first()
        if row is None:
            return None
        await self._conn.execute(delete(t.risk_blocklist).where(_b.id == entry_id))
        return _entry(row)

    async def add_rule(self, rule: VelocityRule) -> None:
        row = attributes(rule, _RULE_PLAIN) | {"key": rule.key.value, "metric": rule.metric.value}
        await self._conn.execute(self._insert(t.risk_rules).values(row))

    async def rules(self, merchant_id: str, mode: str) -> list[VelocityRule]:
        return [_rule(r) for r in await self._conn.execute(_RULES, {"merchant_id": merchant_id, "mode": mode})]

    async def delete_rule(self, merchant_id: str, mode: str, rule_id: str) -> VelocityRule | None:
        query = select(t.risk_rules).where(_r.merchant_id == merchant_id, _r.mode == mode, _r.id == rule_id)
        row = (await self._conn.execute(query)).first()
        if row is None:
            return None
        await self._conn.execute(delete(t.risk_counters).where(_c.rule_id == rule_id))
        await self._conn.execute(delete(t.risk_rules).where(_r.id == rule_id))
        return _rule(row)

    async def count(
        self, rule_id: str, key: str, window_start: int, increment: int, limit: int, drop_older: bool = True
    ) -> bool:
        params = {"rule_id": rule_id, "key": key, "window_start": window_start}
        if drop_older:
            await self._conn.execute(_DROP_OLD, params)
        result = await self._conn.execute(self._count, params | {"n": increment, "limit": limit})
        return result.first() is not None

    async def purge_counters(self, now_epoch: int) -> int:
        # A counter's window ends window_seconds after its start; a counter whose rule is gone counts as
        # ended (its window taken as 0). One statement, so it never races a count of a live window.
        window = select(_r.window_seconds).where(_r.id == _c.rule_id).scalar_subquery()
        done = await self._conn.execute(
            delete(t.risk_counters).where(_c.window_start + func.coalesce(window, 0) <= now_epoch)
        )
        rates = await self._conn.execute(delete(t.rate_counters).where(_a.ends_at <= now_epoch))
        return int(done.rowcount or 0) + int(rates.rowcount or 0)

    async def admit(self, key: str, window_start: int, ends_at: int, limit: int) -> bool:
        if limit < 1:
            return False
        params = {"key": key, "window_start": window_start, "ends_at": ends_at, "limit": limit}
        return (await self._conn.execute(self._admit, params)).first() is not None

    async def totals(self, counters: Sequence[tuple[str, str, int]]) -> dict[tuple[str, str, int], int]:
        rows = await self._conn.execute(_TOTALS, {"counters": [tuple(c) for c in counters]})
        return {(r.rule_id, r.key, r.window_start): r.total for r in rows}

    async def uncount(self, rule_id: str, key: str, window_start: int, increment: int) -> None:
        await self._conn.execute(_UNCOUNT, {"w_rule": rule_id, "w_key": key, "w_start": window_start, "n": increment})
