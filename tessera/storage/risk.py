"""The risk controls in SQL: blocklist entries, velocity rules, and the counters that enforce them.

An attempt's counters are raised by one `INSERT .. VALUES (..), (..) ON CONFLICT DO UPDATE SET total =
total + excluded.total WHERE total + excluded.total <= <the row's limit> RETURNING rule_id`: on PostgreSQL
the conflicting rows are locked for the update, so concurrent attempts in any number of processes are
serialised on them and no limit is ever passed; SQLite serialises writers. A rule missing from what comes
back would have passed its limit, and nothing was added to it. Counters of ended windows are never read;
the worker's `purge_counters` drops them.

An entry's match key is stored scoped, `merchant_id:mode:` before the core's `type:value`, and unique by
itself (migration 0013 says why); the repository adds and strips the scope, the core never sees it.

Counters are looked up by their whole key as `(rule_id = ? AND key = ? AND window_start = ?) OR ...`, not as
a row value `IN (VALUES ...)`, which SQLite answers by scanning the whole counter table (a cost that grew
with every shopper of the window); PostgreSQL uses the primary key for either.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    and_,
    bindparam,
    delete,
    literal,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tessera.core.risk.model import BlockEntry, BlockType, Count, VelocityKey, VelocityMetric, VelocityRule
from tessera.storage import tables as t
from tessera.storage.engine import Conn
from tessera.storage.rows import attributes, columns

_ENTRY_PLAIN = ("id", "merchant_id", "mode", "value", "match_key", "created_at")
_RULE_PLAIN = ("id", "merchant_id", "mode", "limit", "currency", "window_seconds", "created_at")

_b, _r, _c = t.risk_blocklist.c, t.risk_rules.c, t.risk_counters.c
_ENTRY_KEYS = select(_b.match_key).where(_b.merchant_id == bindparam("merchant_id"), _b.mode == bindparam("mode"))
_ENTRY_BY_KEY = select(t.risk_blocklist).where(_b.match_key == bindparam("match_key"))
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


def _scoped(merchant_id: str, mode: str, match_key: str) -> str:
    return f"{merchant_id}:{mode}:{match_key}"


def _keys_in(n: int) -> ColumnElement[bool]:
    # A parameter per key, not an expanding IN: SQLAlchemy re-renders an expanding IN on every execution.
    return _b.match_key.in_([bindparam(f"k{i}") for i in range(n)])


def _key_params(merchant_id: str, mode: str, match_keys: Sequence[str]) -> dict[str, str]:
    return {f"k{i}": _scoped(merchant_id, mode, key) for i, key in enumerate(match_keys)}


@lru_cache(maxsize=32)
def _matching(n: int) -> Any:
    return select(t.risk_blocklist).where(_keys_in(n))


def _counters_where(n: int) -> ColumnElement[bool]:
    """The counters of `n` whole keys, bound as c0_rule, c0_key, c0_start, c1_rule, ..."""
    return or_(
        *(
            and_(
                _c.rule_id == bindparam(f"c{i}_rule"),
                _c.key == bindparam(f"c{i}_key"),
                _c.window_start == bindparam(f"c{i}_start"),
            )
            for i in range(n)
        )
    )


def _counter_params(counters: Sequence[tuple[str, str, int]]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for i, (rule_id, key, start) in enumerate(counters):
        params |= {f"c{i}_rule": rule_id, f"c{i}_key": key, f"c{i}_start": start}
    return params


@lru_cache(maxsize=64)
def _totals(n: int) -> Any:
    return select(_c.rule_id, _c.key, _c.window_start, _c.total).where(_counters_where(n))


# Entries and counters in one statement: each row says which it is (`kind`), the columns the other lacks null.
@lru_cache(maxsize=256)
def _screen(keys: int, counters: int) -> Any:
    return union_all(
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
        ).where(_keys_in(keys)),
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
        ).where(_counters_where(counters)),
    )


def _entry(row: Row[Any]) -> BlockEntry:
    found = columns(row, _ENTRY_PLAIN)
    found["match_key"] = found["match_key"].split(":", 2)[2]  # the core's key, without its scope
    return BlockEntry(**found, type=BlockType(row.type))


def _rule(row: Row[Any]) -> VelocityRule:
    return VelocityRule(**columns(row, _RULE_PLAIN), key=VelocityKey(row.key), metric=VelocityMetric(row.metric))


@lru_cache(maxsize=32)
def _count(n: int) -> str:
    """`n` counts in one upsert, the same text on SQLite and PostgreSQL: each row's limit is picked by its rule
    (one count per rule) in the conflict's WHERE; the rules whose counter moved come back with its new total.
    Run by the driver (`Conn.driver_rows`): through SQLAlchemy, a multi-row `insert().values([...])` was
    compiled anew on every execution, and a text statement's RETURNING built its result metadata anew; both
    cost more than the statement's own work (cProfile; 100 against 40 µs a count on SQLite)."""
    rows = ", ".join(f"(:c{i}_rule, :c{i}_key, :c{i}_start, :c{i}_n, :c{i}_ends)" for i in range(n))
    limits = " ".join(f"WHEN :c{i}_rule THEN CAST(:c{i}_limit AS BIGINT)" for i in range(n))
    return (
        f'INSERT INTO risk_counters (rule_id, "key", window_start, total, ends_at) VALUES {rows} '
        'ON CONFLICT (rule_id, "key", window_start) DO UPDATE SET total = risk_counters.total + excluded.total '
        f"WHERE risk_counters.total + excluded.total <= CASE risk_counters.rule_id {limits} END "
        "RETURNING rule_id, total"
    )


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


# Built once (a unit of work makes a repository per transaction; building a statement costs more than running it).
_ADMIT = {True: _admitting(sqlite_insert), False: _admitting(pg_insert)}


class SqlRiskRepository:
    def __init__(self, conn: Conn, *, sqlite: bool) -> None:
        self._conn = conn
        self._insert = sqlite_insert if sqlite else pg_insert
        self._admit = _ADMIT[sqlite]

    async def add_entry(self, entry: BlockEntry) -> bool:
        row = attributes(entry, _ENTRY_PLAIN) | {"type": entry.type.value}
        row["match_key"] = _scoped(entry.merchant_id, entry.mode, entry.match_key)
        statement = self._insert(t.risk_blocklist).values(row).on_conflict_do_nothing()
        return bool((await self._conn.execute(statement)).rowcount == 1)

    async def entry_by_key(self, merchant_id: str, mode: str, match_key: str) -> BlockEntry | None:
        row = (await self._conn.execute(_ENTRY_BY_KEY, {"match_key": _scoped(merchant_id, mode, match_key)})).first()
        return _entry(row) if row else None

    async def matching_entries(self, merchant_id: str, mode: str, match_keys: Sequence[str]) -> list[BlockEntry]:
        if not match_keys:
            return []
        params = _key_params(merchant_id, mode, match_keys)
        return [_entry(r) for r in await self._conn.execute(_matching(len(match_keys)), params)]

    async def entry_keys(self, merchant_id: str, mode: str) -> list[str]:
        rows = await self._conn.execute(_ENTRY_KEYS, {"merchant_id": merchant_id, "mode": mode})
        return [key.split(":", 2)[2] for key in rows.scalars()]  # the core's keys, without their scope

    async def screen(
        self, merchant_id: str, mode: str, match_keys: Sequence[str], counters: Sequence[tuple[str, str, int]]
    ) -> tuple[list[BlockEntry], dict[tuple[str, str, int], int]]:
        if not match_keys:
            return [], await self.totals(counters)
        if not counters:
            return await self.matching_entries(merchant_id, mode, match_keys), {}
        params = _key_params(merchant_id, mode, match_keys) | _counter_params(counters)
        rows = await self._conn.execute(_screen(len(match_keys), len(counters)), params)
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

    async def count(self, counts: Sequence[Count]) -> dict[str, int]:
        params: dict[str, Any] = {}
        for i, c in enumerate(counts):
            params |= {f"c{i}_rule": c.rule_id, f"c{i}_key": c.key, f"c{i}_start": c.window_start}
            params |= {f"c{i}_n": c.increment, f"c{i}_limit": c.limit, f"c{i}_ends": c.window_start + c.window}
        return {rule_id: int(total) for rule_id, total in await self._conn.driver_rows(_count(len(counts)), params)}

    async def purge_counters(self, now_epoch: int) -> int:
        done = await self._conn.execute(delete(t.risk_counters).where(_c.ends_at <= now_epoch))
        rates = await self._conn.execute(delete(t.rate_counters).where(_a.ends_at <= now_epoch))
        return int(done.rowcount or 0) + int(rates.rowcount or 0)

    async def admit(self, key: str, window_start: int, ends_at: int, limit: int) -> bool:
        if limit < 1:
            return False
        params = {"key": key, "window_start": window_start, "ends_at": ends_at, "limit": limit}
        return (await self._conn.execute(self._admit, params)).first() is not None

    async def totals(self, counters: Sequence[tuple[str, str, int]]) -> dict[tuple[str, str, int], int]:
        if not counters:
            return {}
        rows = await self._conn.execute(_totals(len(counters)), _counter_params(counters))
        return {(r.rule_id, r.key, r.window_start): r.total for r in rows}

    async def uncount(self, rule_id: str, key: str, window_start: int, increment: int) -> None:
        await self._conn.execute(_UNCOUNT, {"w_rule": rule_id, "w_key": key, "w_start": window_start, "n": increment})
