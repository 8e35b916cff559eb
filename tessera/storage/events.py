"""The event outbox in SQL: events written with the state change they record, numbered once committed.

Events are written here (with a payment by `storage.payments`, or on their own) without a number: the
payment's transaction takes no shared row, so a merchant's payments commit side by side. `number_events`
then gives committed events the next numbers of their merchant and mode, in the order it finds them
committed (by `seq` among those committed at the same time), under one lock so that numbers have no gaps
and a cursor (`GET /v1/events?after=N`) never passes an event that commits later: a late commit just
gets a later number. The delivery worker numbers events as it dispatches them; a list numbers what is
committed before it reads, so it always includes everything committed before the request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tessera.core.payments.events import Event
from tessera.storage import tables as t
from tessera.storage.engine import Conn, Database
from tessera.storage.rows import attributes

# Columns holding the event's attribute of the same name; `seq`, `sequence` and `dispatched_at` are the
# store's own.
_EVENT_PLAIN = ("id", "merchant_id", "mode", "type", "payment_id", "data", "created_at")
_INSERT_EVENT = insert(t.events)
_E = t.events.c
_UNNUMBERED = (
    select(_E.seq, _E.merchant_id, _E.mode).where(_E.sequence.is_(None)).order_by(_E.seq).limit(bindparam("limit"))
)
_ANY_UNNUMBERED = select(_E.seq).where(_E.sequence.is_(None)).limit(1)
_SET_NUMBER = update(t.events).where(_E.seq == bindparam("e_seq")).values(sequence=bindparam("e_sequence"))
_NUMBERING_LOCK = 0x7E55E7B  # one numberer at a time on PostgreSQL (SQLite has one writer anyway)
NUMBER_BATCH = 1000


def event_row(event: Event) -> dict[str, Any]:
    return attributes(event, _EVENT_PLAIN)


async def insert_events(conn: Conn, events: Sequence[Event]) -> None:
    """Write events unnumbered, in the transaction of the change they record."""
    await conn.write(_INSERT_EVENT, [event_row(event) for event in events])


async def number_events(conn: Conn, *, sqlite: bool, limit: int = NUMBER_BATCH) -> int:
    """Number up to `limit` committed events, oldest first, in the caller's write transaction (which
    must commit). Returns how many were numbered."""
    if not sqlite:
        # Taken before the events are read: in READ COMMITTED the read below then sees every number the
        # previous holder committed, so no event is numbered twice.
        await conn.execute(text(f"SELECT pg_advisory_xact_lock({_NUMBERING_LOCK})"))
    found = (await conn.execute(_UNNUMBERED, {"limit": limit})).all()
    if not found:
        return 0
    groups: dict[tuple[str, str], list[int]] = {}
    for row in found:
        groups.setdefault((row.merchant_id, row.mode), []).append(row.seq)
    upsert = sqlite_insert if sqlite else pg_insert
    numbers: list[dict[str, Any]] = []
    for (merchant_id, mode), seqs in sorted(groups.items()):
        values = upsert(t.event_sequences).values(merchant_id=merchant_id, mode=mode, last_sequence=len(seqs))
        bump = values.on_conflict_do_update(
            index_elements=["merchant_id", "mode"],
            set_={"last_sequence": t.event_sequences.c.last_sequence + len(seqs)},
        ).returning(t.event_sequences.c.last_sequence)
        first = int((await conn.execute(bump)).scalar_one()) - len(seqs) + 1
        numbers += [{"e_seq": seq, "e_sequence": first + i} for i, seq in enumerate(seqs)]
    await conn.execute(_SET_NUMBER, numbers)
    return len(found)


async def number_committed_events(db: Database) -> None:
    """Number every event committed so far (before a list reads them). A read when there is none."""
    async with db.connect() as conn:
        if (await conn.execute(_ANY_UNNUMBERED)).first() is None:
            return
    while True:
        async with db.connect(write=True) as conn:
            numbered = await number_events(conn, sqlite=db.sqlite)
            await conn.commit()
        if numbered < NUMBER_BATCH:
            return


class SqlEventRepository:
    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    async def add(self, event: Event) -> None:
        await insert_events(self._conn, [event])
