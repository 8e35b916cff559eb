"""The shape every repository's row mapping takes, and the few helpers they share.

Each table has one function from an object to its full row (a dict keyed by column name) and one from a
row back to the object. An insert writes the full row; an update writes a declared subset of its names
(the table's "mutable" columns), picked from that same dict, through a statement built once. Columns
that hold an attribute of the same name unchanged are listed once, by name, and copied both ways.
Knows no table or aggregate: each aggregate's module declares its own mapping with these.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Table, Update, bindparam, update


def attributes(obj: object, names: Sequence[str]) -> dict[str, Any]:
    """The attributes `names` of `obj`, as row values of the columns of the same names."""
    return {name: getattr(obj, name) for name in names}


def columns(row: Row[Any], names: Sequence[str], *, of: Table | None = None) -> dict[str, Any]:
    """The columns `names` of `row`, as keyword arguments for the attributes of the same names; `of`
    names their table when `row` is a join whose tables share column names."""
    mapping = row._mapping
    if of is not None:
        return {name: mapping[of.c[name]] for name in names}
    return {name: mapping[name] for name in names}


def picked(values: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
    return {name: values[name] for name in names}


def update_by_key(table: Table, names: Sequence[str], *, key: str = "id") -> Update:
    """`UPDATE table SET name = :name, ... WHERE key = :w_key`, built once (building costs more than
    running it); execute it with `picked(row, names) | {"w_key": ...}`."""
    return update(table).where(table.c[key] == bindparam("w_key")).values({name: bindparam(name) for name in names})
