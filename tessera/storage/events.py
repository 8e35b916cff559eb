"""The event outbox in SQL: events numbered per merchant and mode, in the writing transaction.

Events are written here (with a payment by `storage.payments`, or on their own); the delivery worker
reads them through `storage.webhooks`, and lists read them through `storage.queries`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tessera.core.payments.events import Event
from tessera.storage import tables as t
from tessera.storage.engine import Conn
from tessera.storage.rows import attributes

# Columns holding the event's attribute of the same name; `seq` and `dispatched_at` are the store's own.
_EVENT_PLAIN = ("id", "merchant_id", "mode", "type", "payment_id", "data", "created_at")
_INSERT_EVENT = insert(t.events)


def _event_row(event: Event, sequence: int) -> dict[str, Any]:
    return attributes(event, _EVENT_PLAIN) | {"sequence": sequence}


async def insert_events(conn: Conn, events: Sequence[Event], *, sqlite: bool) -> None:
    """Write events with the next numbers of their merchant and mode, taken in this transaction (the
    counter row stays locked until commit, so numbers follow commit order)."""
    upsert = sqlite_insert if sqlite else pg_insert
    rows: list[dict[str, Any]] = []
    for (merchant_id, mode), group in _grouped(events).items():
        values = upsert(t.event_sequences).values(merchant_id=merchant_id, mode=mode, last_sequence=len(group))
        bump = values.on_conflict_do_update(
            index_elements=["merchant_id", "mode"],
            set_={"last_sequence": t.event_sequences.c.last_sequence + len(group)},
        ).returning(t.event_sequences.c.last_sequence)
        last = int((await conn.execute(bump)).scalar_one())
        for offset, event in enumerate(group):
            rows.append(_event_row(event, last - len(group) + 1 + offset))
    await conn.execute(_INSERT_EVENT, rows)


def _grouped(events: Sequence[Event]) -> dict[tuple[str, str], list[Event]]:
    groups: dict[tuple[str, str], list[Event]] = {}
    for event in events:
        groups.setdefault((event.merchant_id, event.mode), []).append(event)
    return groups


class SqlEventRepository:
    def __init__(self, conn: Conn, *, sqlite: bool) -> None:
        self._conn = conn
        self._sqlite = sqlite

    async def add(self, event: Event) -> None:
        await insert_events(self._conn, [event], sqlite=self._sqlite)
