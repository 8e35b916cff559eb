"""A payment's writes as one PostgreSQL statement: the payment, its operations and its events together.

On PostgreSQL every statement is a round trip, and each costs this process more CPU (the driver, the
adapter, the event loop) than the database spends on it. A payment made or changed in one transaction
wrote the payment row, then its new or changed operations, then its events: three to five round trips.
Here they are one statement whose parts are data-modifying CTEs, which PostgreSQL runs exactly once and
to completion whether or not the main query reads them, all in the caller's transaction.

A change (`saved`) keeps the optimistic version check exact: the payment's UPDATE is the CTE `p`, every
other part writes only `WHERE EXISTS (SELECT FROM p)`, and the statement returns how many payment rows
`p` updated. If another transaction changed the payment first, `p` updates nothing, so nothing else is
written either (`p` sees the row after that transaction committed, as any UPDATE in READ COMMITTED).

SQLite has no data-modifying CTEs and no round trips (it runs in-process): it keeps one statement per
row (`storage.payments`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import BindParameter, Select, Table, bindparam, exists, func, insert, select, update
from sqlalchemy.sql import Insert, Update

from tessera.storage import tables as t

Row = dict[str, Any]


def _bind(table: Table, name: str, prefix: str) -> BindParameter[Any]:
    # Typed as the column, so the value is converted (JSON, UTC times) and cast as the column's.
    return bindparam(f"{prefix}{name}", type_=table.c[name].type)


def _insert(table: Table, names: tuple[str, ...], prefix: str) -> Insert:
    return insert(table).values({name: _bind(table, name, prefix) for name in names})


def _insert_if(table: Table, names: tuple[str, ...], prefix: str, guard: Any) -> Insert:
    return insert(table).from_select(list(names), select(*(_bind(table, n, prefix) for n in names)).where(guard))


# The parameters of an update's WHERE (`storage.rows.update_by_key`'s names, and the version check's):
# in an update's row, but not columns it sets.
_KEYS = ("w_key", "w_version")


def _update_by_key(table: Table, names: tuple[str, ...], prefix: str) -> Update:
    """Update the columns among `names` (a row's keys, the WHERE's among them) of the row `<prefix>w_key`."""
    columns = (name for name in names if name not in _KEYS)
    return (
        update(table)
        .where(table.c.id == bindparam(f"{prefix}w_key"))
        .values({name: _bind(table, name, prefix) for name in columns})
    )


@lru_cache(maxsize=64)
def added(
    payment: tuple[str, ...], operations: tuple[tuple[str, ...], ...], events: tuple[tuple[str, ...], ...]
) -> Insert:
    """Insert a payment (parameters `p_<column>`), its operations (`n<i>_<column>`) and its events
    (`e<i>_<column>`); each argument names the columns written (its row's keys)."""
    parts = [_insert(t.payments, payment, "p_")]
    parts += [_insert(t.operations, names, f"n{i}_") for i, names in enumerate(operations)]
    parts += [_insert(t.events, names, f"e{i}_") for i, names in enumerate(events)]
    *ctes, main = parts
    return main.add_cte(*(part.cte(f"w{i}") for i, part in enumerate(ctes)))


@lru_cache(maxsize=64)
def saved(
    payment: tuple[str, ...],
    new_operations: tuple[tuple[str, ...], ...],
    changed_operations: tuple[tuple[str, ...], ...],
    events: tuple[tuple[str, ...], ...],
) -> Select[Any]:
    """Update a payment whose version is still `p_w_version` (`p_<column>`, `p_w_key`) and, only if it was,
    insert its new operations (`n<i>_`), update its changed ones (`c<i>_`, `c<i>_w_key`) and insert its
    events (`e<i>_`). Each argument names a row's keys, the updates' `w_key` and `w_version` among them.
    Returns one row: the number of payment rows updated (1, or 0 on a conflict)."""
    p = (
        _update_by_key(t.payments, payment, "p_")
        .where(t.payments.c.version == bindparam("p_w_version"))
        .returning(t.payments.c.id)
        .cte("p")
    )
    guard = exists(select(p.c.id))
    parts: list[Insert | Update] = [_insert_if(t.operations, n, f"n{i}_", guard) for i, n in enumerate(new_operations)]
    parts += [_update_by_key(t.operations, n, f"c{i}_").where(guard) for i, n in enumerate(changed_operations)]
    parts += [_insert_if(t.events, n, f"e{i}_", guard) for i, n in enumerate(events)]
    return select(func.count()).select_from(p).add_cte(*(part.cte(f"w{i}") for i, part in enumerate(parts)))


def parameters(prefix: str, row: Row) -> Row:
    return {f"{prefix}{name}": value for name, value in row.items()}


def prefixed(rows: Sequence[Row], letter: str) -> tuple[tuple[tuple[str, ...], ...], Row]:
    """The column names of each row (for the statement's shape) and their parameters, `<letter><i>_`."""
    merged: Row = {}
    for i, row in enumerate(rows):
        merged |= parameters(f"{letter}{i}_", row)
    return tuple(tuple(row) for row in rows), merged
