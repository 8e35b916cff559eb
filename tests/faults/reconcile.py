"""Reconciling what a load's clients were told against what the database holds, after crashes.

- lost: a payment whose last answer showed an outcome is stored with another status or other amounts;
- double: two payments for one merchant reference, a payment the clients never heard of (a charge
  without a request that asked for it), more than one approved authorisation on a payment, two approved
  money movements sharing one acquirer reference, or amounts that are not the sum of the approved
  operations behind them;
- stuck: a payment still `processing`, or an operation still pending or unknown;
- held keys: an Idempotency-Key still `in_progress`.

The sandbox acquirer keeps its ledger in the serving process's memory, which `kill -9` takes with it,
so the acquirer's side is checked through what the gateway recorded of it: each approved operation's
acquirer reference, and no approval left behind an operation whose outcome is unknown.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import func, select

from tessera.storage import tables as t
from tessera.storage.engine import create_database
from tessera.storage.events import number_committed_events
from tests.faults.load import Exchange

_P, _O = t.payments, t.operations
# What a client's answer says, in the wire words of the native dialect, against the stored status.
_WIRE = {"captured": "completed"}
_AUTHORISATIONS = ("PA", "DB", "RB")
T = TypeVar("T")


@dataclass
class Stored:
    payments: dict[str, Any]  # id -> row
    operations: dict[str, list[Any]]  # payment id -> rows
    held_keys: list[str]
    events: list[Any]  # (id, payment_id, sequence, type) in commit order


@dataclass
class Findings:
    lost: list[str] = field(default_factory=list)
    double: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    held_keys: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"{len(self.lost)} lost, {len(self.double)} double, {len(self.stuck)} stuck"


async def read(database_url: str, merchant_id: str) -> Stored:
    """What the database holds for `merchant_id`, read on a thread of its own (see `_off_the_loop`)."""
    return await _off_the_loop(_read(database_url, merchant_id))


async def unsettled(database_url: str) -> int:
    """Payments still `processing` plus operations still open, for the whole database."""
    return await _off_the_loop(_unsettled(database_url))


async def _off_the_loop(query: Coroutine[Any, Any, T]) -> T:
    """Run `query` on its own event loop in a thread. A SQLite read runs synchronously and may wait on
    another process's write lock: on the test's loop it would stall the webhook receiver living there,
    and a receiver that stalls makes deliveries time out, which is not what these tests measure."""
    return await asyncio.to_thread(asyncio.run, query)


async def _read(database_url: str, merchant_id: str) -> Stored:
    db = create_database(database_url, pool_size=4)
    try:
        await number_committed_events(db)  # events are numbered after they commit (storage.events)
        async with db.connect() as conn:
            payments = {r.id: r for r in (await conn.execute(select(_P).where(_P.c.merchant_id == merchant_id))).all()}
            ops: dict[str, list[Any]] = defaultdict(list)
            for r in (await conn.execute(select(_O).where(_O.c.merchant_id == merchant_id).order_by(_O.c.id))).all():
                ops[r.payment_id].append(r)
            keys = t.idempotency_keys.c
            held = (
                await conn.execute(select(keys.key).where(keys.merchant_id == merchant_id, keys.state == "in_progress"))
            ).scalars()
            ev = t.events.c
            events = (
                await conn.execute(
                    select(ev.id, ev.payment_id, ev.sequence, ev.type)
                    .where(ev.merchant_id == merchant_id)
                    .order_by(ev.sequence)
                )
            ).all()
            return Stored(payments, dict(ops), list(held), list(events))
    finally:
        await db.dispose()


async def _unsettled(database_url: str) -> int:
    db = create_database(database_url, pool_size=4)
    try:
        async with db.connect() as conn:
            processing = await conn.execute(select(func.count()).where(_P.c.status == "processing"))
            open_ops = await conn.execute(select(func.count()).where(_O.c.status.in_(("pending", "unknown"))))
            return int(processing.scalar_one()) + int(open_ops.scalar_one())
    finally:
        await db.dispose()


def reconcile(stored: Stored, exchanges: Iterable[Exchange], prefix: str) -> Findings:
    found = Findings(held_keys=list(stored.held_keys))
    # The last payment each flow was shown (flows are sequential, and a flow stops at a lost answer, so
    # the last exchange showing its payment, counting the retry of a lost one, shows its latest state).
    told: dict[str, dict[str, Any]] = {}
    for x in exchanges:
        shown = x.payment()
        if shown is not None:
            told[shown["id"]] = shown
    by_reference = Counter(p.reference for p in stored.payments.values() if (p.reference or "").startswith(prefix))
    found.double += [f"reference {ref} has {n} payments" for ref, n in by_reference.items() if n > 1]
    for pid, p in stored.payments.items():
        if not (p.reference or "").startswith(prefix):
            continue  # the demo merchant's own, made before the load
        ops = stored.operations.get(pid, [])
        if pid not in told:
            found.double.append(f"{pid}: stored, but no client was ever told of it")
        _check_payment(found, p, ops)
        answer = told.get(pid)
        if answer is None or answer["status"] == "processing":
            continue
        status = _WIRE.get(p.status, p.status)
        shown = (answer["status"], answer["amount"], answer["amount_captured"], answer["amount_refunded"])
        kept = (status, p.amount, p.amount_captured, p.amount_refunded)
        if shown != kept:
            found.lost.append(f"{pid}: told {shown}, stored {kept}")
    return found


def _check_payment(found: Findings, p: Any, ops: list[Any]) -> None:
    if p.status == "processing":
        found.stuck.append(f"{p.id}: processing")
    found.stuck += [f"{p.id}: {op.type} {op.status}" for op in ops if op.status in ("pending", "unknown")]
    approved = [op for op in ops if op.status == "succeeded"]
    auths = [op for op in approved if op.type in _AUTHORISATIONS]
    if len(auths) > 1:
        found.double.append(f"{p.id}: {len(auths)} approved authorisations")
    refs = Counter(op.processor_ref for op in approved if op.processor_ref)
    found.double += [f"{p.id}: acquirer reference used by {n} operations" for ref, n in refs.items() if n > 1]
    captured = sum(op.amount for op in approved if op.type in ("DB", "RB", "CP"))
    refunded = sum(op.amount for op in approved if op.type == "RF")
    if (captured, refunded) != (p.amount_captured, p.amount_refunded):
        found.double.append(
            f"{p.id}: captured/refunded {p.amount_captured}/{p.amount_refunded}, operations say {captured}/{refunded}"
        )
    if p.status in ("failed", "voided", "requires_payment_method") and p.amount_captured:
        found.double.append(f"{p.id}: {p.status} with {p.amount_captured} captured")


@dataclass
class Deliveries:
    events: int  # events of the load's payments
    received: int  # deliveries the receiver took, duplicates included
    duplicates: int = 0  # deliveries received again (a worker killed between sending and recording)
    missing: list[str] = field(default_factory=list)
    out_of_order: list[str] = field(default_factory=list)


def check_deliveries(stored: Stored, received: list[dict[str, Any]], payment_ids: set[str]) -> Deliveries:
    """Every event of `payment_ids` reached the receiver at least once, and each payment's events arrived
    in their sequence order (a delivery is repeated only before its payment's next event goes: the
    delivery code promises at least once, in order per payment)."""
    wanted = [e for e in stored.events if e.payment_id in payment_ids]
    ours = [b for b in received if b["data"].get("payment_id") in payment_ids]
    arrived = {b["id"] for b in ours}
    result = Deliveries(len(wanted), len(ours), len(ours) - len(arrived))
    result.missing = [f"{e.id} ({e.type} of {e.payment_id})" for e in wanted if e.id not in arrived]
    last: dict[str, int] = {}
    for b in ours:
        pid = b["data"]["payment_id"]
        if b["sequence"] < last.get(pid, 0):
            result.out_of_order.append(f"{pid}: event {b['sequence']} arrived after {last[pid]}")
        last[pid] = max(last.get(pid, 0), b["sequence"])
    return result
