"""Hot-path writes run by the driver, compiled once: SQLAlchemy's SQL and its own value conversions,
without its per-statement execution machinery.

Profiles of a payment under load put about a third of the server's CPU in SQLAlchemy's `execute`, and
less than half of that in the driver: the rest is building an execution context, looking the compiled
form up in the cache, dispatching events and setting up a result, for every statement. A payment's
writes (insert the payment, its operation and its authentication; update them; insert the event) are
the same few statements every time, so each is compiled once per dialect and set of columns, and run
as `cursor.execute(sql, values)` with the values converted by the statement's own bind processors,
exactly as SQLAlchemy would convert them (dates to SQLite's text, JSON to text, the UTC rule of
`tables.UtcDateTime`). A driver error is raised as the SQLAlchemy exception SQLAlchemy would raise
(`IntegrityError` and the rest), so callers cannot tell the paths apart.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Delete, Insert, Select, Update
from sqlalchemy.sql.compiler import SQLCompiler

# A write, or a SELECT whose CTEs write and whose one row and column is a count (`storage.payment_writes`).
Writable = Insert | Update | Delete | Select[Any]


@dataclass(frozen=True, slots=True)
class CompiledWrite:
    sql: str
    names: tuple[str, ...]  # the statement's parameters, in the driver's positional order
    # The positions among `names` whose type has a conversion, with it: most parameters (ids, text,
    # numbers) have none.
    converted: tuple[tuple[int, Callable[[Any], Any]], ...]
    bound: dict[str, Any]  # the values the statement carries itself (`where(c.id == "pay_1")`)
    counts: bool  # a SELECT of a count: run returns the count instead of the rows affected

    def values(self, parameters: dict[str, Any]) -> list[Any]:
        if self.bound:
            parameters = self.bound | parameters
        values = [parameters[name] for name in self.names]
        for index, process in self.converted:
            values[index] = process(values[index])
        return values


@lru_cache(maxsize=512)
def compile_write(statement: Writable, dialect: Dialect, keys: tuple[str, ...]) -> CompiledWrite:
    """`statement` for `dialect`, written with the columns `keys` (an insert names only the columns it is
    given, as SQLAlchemy does when it is executed with a dict of them)."""
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    return _query(compiled, dialect, counts=isinstance(statement, Select))


def _query(compiled: SQLCompiler, dialect: Dialect, *, counts: bool) -> CompiledWrite:
    """The SQL of `compiled`, its positional parameters, their conversions and the values it carries."""
    names = tuple(compiled.positiontup or ())
    if not names and compiled.binds:
        raise ValueError(f"{dialect.name} does not compile to positional parameters")
    # `_bind_processors` is the table SQLAlchemy itself applies in `DefaultExecutionContext`; the
    # equivalence test in tests/integration/test_prepared_statements.py fails if a release changes it.
    converted: list[tuple[int, Callable[[Any], Any]]] = []
    for index, name in enumerate(names):
        process = compiled._bind_processors.get(name)
        if process is not None and not callable(process):
            raise ValueError(f"{name}: a tuple-typed parameter is not supported here")
        if process is not None:
            converted.append((index, process))
    bound: dict[str, Any] = {}
    for bind, name in compiled.bind_names.items():
        if bind.callable is not None:
            raise ValueError(f"{name}: a parameter computed at execution is not supported here")
        if not bind.required:
            bound[name] = bind.value
    return CompiledWrite(compiled.string, names, tuple(converted), bound, counts)


@contextmanager
def _sqlalchemy_errors(sql: str, dialect: Dialect) -> Iterator[None]:
    """Raise a driver error as the SQLAlchemy exception `execute` would raise (`IntegrityError`, ...)."""
    try:
        yield
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(sql, None, exc, dialect.loaded_dbapi.Error, dialect=dialect) from exc


def run_write(cursor: Any, compiled: CompiledWrite, rows: Sequence[dict[str, Any]], dialect: Dialect) -> int:
    """Execute `compiled` on a DBAPI cursor for one row (`execute`) or several (`executemany`); returns
    the rows affected (or, for a count, the count)."""
    with _sqlalchemy_errors(compiled.sql, dialect):
        if len(rows) == 1:
            cursor.execute(compiled.sql, compiled.values(rows[0]))
        else:
            cursor.executemany(compiled.sql, [compiled.values(row) for row in rows])
        return int(cursor.fetchone()[0]) if compiled.counts else int(cursor.rowcount)


class CompiledRead:
    """A SELECT compiled once per dialect: its query (as a write's), its columns' keys and types, and a
    row class with attribute access (`row.id`) and `row._mapping`, like SQLAlchemy's rows."""

    def __init__(self, query: CompiledWrite, keys: tuple[str, ...], types: tuple[Any, ...]) -> None:
        self.query = query
        self.keys = keys
        self.types = types
        self.row: Any = _row_class(keys)
        self._processors: dict[tuple[Any, ...], tuple[Callable[[Any], Any] | None, ...]] = {}

    def processors(self, coltypes: tuple[Any, ...], dialect: Dialect) -> tuple[Callable[[Any], Any] | None, ...]:
        """Each column's result conversion, as SQLAlchemy picks it: by its type and the driver's type code."""
        found = self._processors.get(coltypes)
        if found is None:
            found = tuple(
                kind._cached_result_processor(dialect, code) for kind, code in zip(self.types, coltypes, strict=True)
            )
            self._processors[coltypes] = found
        return found


def _row_class(keys: tuple[str, ...]) -> Any:
    base = namedtuple("Row", keys)  # type: ignore[misc]  # noqa: PYI024  (built at run time from the statement)

    class Row(base):
        __slots__ = ()

        @property
        def _mapping(self) -> dict[str, Any]:
            return dict(zip(keys, self, strict=True))

    return Row


@lru_cache(maxsize=256)
def compile_read(statement: Select[Any], dialect: Dialect) -> CompiledRead:
    compiled = statement.compile(dialect=dialect)
    columns = compiled._result_columns
    return CompiledRead(
        _query(compiled, dialect, counts=False), tuple(c.keyname for c in columns), tuple(c.type for c in columns)
    )


def run_read(cursor: Any, compiled: CompiledRead, parameters: dict[str, Any], dialect: Dialect) -> list[Any]:
    """The rows of `compiled` for `parameters` on a DBAPI cursor, converted as SQLAlchemy converts them."""
    query = compiled.query
    with _sqlalchemy_errors(query.sql, dialect):
        cursor.execute(query.sql, query.values(parameters))
        raw = cursor.fetchall()
    processors = compiled.processors(tuple(d[1] for d in cursor.description), dialect)
    make = compiled.row._make
    if not any(processors):
        return [make(r) for r in raw]
    return [make([v if p is None else p(v) for v, p in zip(r, processors, strict=True)]) for r in raw]
