"""The payment aggregate in SQL: the `payments` row, its `operations`, and the events it flushes.

One mapping per table (see `storage.rows`). A column added to `payments` needs one line here: in
`_PAYMENT_PLAIN` when it holds the attribute of the same name as is, else in `_payment_row` and
`payment_from_row`; plus one in `_PAYMENT_MUTABLE` if it can change after the payment is made. The
same holds for `operations`. Payments are locked with `FOR UPDATE` on PostgreSQL (SQLite serialises
writers) and written with an optimistic `version` check.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, insert, or_, select
from sqlalchemy.exc import IntegrityError

from tessera.core.errors import ErrorCode
from tessera.core.payments.model import (
    Attempt,
    AuthenticationSummary,
    CaptureMethod,
    CardSnapshot,
    NextAction,
    Operation,
    OperationStatus,
    OperationType,
    Payment,
    PaymentStatus,
    SaveCardOnSuccess,
)
from tessera.core.ports import ConcurrentUpdateError, Initiator, ProcessorData, ReferenceTakenError
from tessera.storage import payment_writes as fused
from tessera.storage import tables as t
from tessera.storage.engine import Conn
from tessera.storage.events import event_row, insert_events
from tessera.storage.rows import attributes, columns, picked, update_by_key

# ------------------------------------------------------------------------------------------ mapping

# Columns holding the payment's attribute of the same name, unchanged.
_PAYMENT_PLAIN = (
    "id",
    "merchant_id",
    "mode",
    "amount",
    "currency",
    "processor",
    "reference",
    "description",
    "return_url",
    "customer",
    "browser",
    "metadata",
    "amount_authorized",
    "amount_captured",
    "amount_refunded",
    "amount_charged_back",
    "processor_ref",
    "auth_code",
    "retrieval_ref",
    "error_message",
    "original_payment_id",
    "card_token",
    "channel",
    "channel_data",
    "unique_reference",
    "network_transaction_id",
    "attempt_budget",
    "fee",
    "version",
    "created_at",
    "updated_at",
)
# What `save` writes: everything that can change after the payment is made (the version is its own).
_PAYMENT_MUTABLE = (
    "status",
    "amount_authorized",
    "amount_captured",
    "amount_refunded",
    "amount_charged_back",
    "card_bin",
    "card_last4",
    "card_brand",
    "card_exp_month",
    "card_exp_year",
    "card_holder_name",
    "processor_ref",
    "auth_code",
    "retrieval_ref",
    "error_code",
    "error_message",
    "card_token",
    "auth_status",
    "auth_eci",
    "auth_version",
    "auth_liability_shift",
    "next_action",
    "card_to_save",
    "browser",
    "return_url",
    "channel_data",
    "attempts",
    "fee",
    "network_transaction_id",
    "updated_at",
)


def customer_email(customer: dict[str, Any] | None) -> str | None:
    """The customer's email as the dashboard filters by it (lower-cased), or None."""
    email = (customer or {}).get("email")
    return email.strip().lower() if isinstance(email, str) and 3 <= len(email.strip()) <= 254 else None


def _payment_row(p: Payment) -> dict[str, Any]:
    auth = p.authentication
    action = p.next_action
    card = p.card
    return attributes(p, _PAYMENT_PLAIN) | {
        "status": p.status.value,
        "capture_method": p.capture_method.value,
        "initiator": p.initiator.value,
        "attempts": [a.as_dict() for a in p.attempts],
        "card_bin": card.bin if card else None,
        "card_last4": card.last4 if card else None,
        "card_brand": card.brand if card else None,
        "card_exp_month": card.exp_month if card else None,
        "card_exp_year": card.exp_year if card else None,
        "card_holder_name": card.holder_name if card else None,
        "customer_email": customer_email(p.customer),
        "error_code": p.error_code.value if p.error_code else None,
        "auth_status": auth.status if auth else None,
        "auth_eci": auth.eci if auth else None,
        "auth_version": auth.version if auth else None,
        "auth_liability_shift": auth.liability_shift if auth else None,
        "next_action": {"url": action.url, "method": action.method, "params": action.params} if action else None,
        "card_to_save": p.card_to_save.as_dict() if p.card_to_save else None,
    }


def payment_from_row(row: Row[Any], ops: list[Operation]) -> Payment:
    action = row.next_action
    return Payment(
        **columns(row, _PAYMENT_PLAIN),
        status=PaymentStatus(row.status),
        capture_method=CaptureMethod(row.capture_method),
        initiator=Initiator(row.initiator),
        attempts=[Attempt.from_dict(a) for a in row.attempts or ()],
        card=(
            CardSnapshot(
                row.card_bin,
                row.card_last4,
                row.card_brand,
                row.card_exp_month,
                row.card_exp_year,
                row.card_holder_name,
            )
            if row.card_bin is not None
            else None  # an intent before its first attempt
        ),
        error_code=ErrorCode(row.error_code) if row.error_code else None,
        authentication=(
            AuthenticationSummary(row.auth_status, row.auth_version, row.auth_eci, bool(row.auth_liability_shift))
            if row.auth_status
            else None
        ),
        next_action=NextAction(action["url"], action["method"], action["params"]) if action else None,
        card_to_save=SaveCardOnSuccess.from_dict(row.card_to_save) if row.card_to_save else None,
        operations=ops,
    )


_OPERATION_PLAIN = (
    "id",
    "payment_id",
    "amount",
    "processor_ref",
    "response_code",
    "auth_code",
    "reason_code",
    "created_at",
    "updated_at",
)
_OPERATION_MUTABLE = (
    "status",
    "error_code",
    "processor_ref",
    "response_code",
    "auth_code",
    "reason_code",
    "processor_data",
    "updated_at",
)


def _operation_row(op: Operation, merchant_id: str) -> dict[str, Any]:
    return attributes(op, _OPERATION_PLAIN) | {
        "merchant_id": merchant_id,
        "type": op.type.value,
        "status": op.status.value,
        "error_code": op.error_code.value if op.error_code else None,
        "processor_data": op.processor_data.as_dict() or None,
    }


def operation_from_row(row: Row[Any]) -> Operation:
    return Operation(
        **columns(row, _OPERATION_PLAIN),
        type=OperationType(row.type),
        status=OperationStatus(row.status),
        error_code=ErrorCode(row.error_code) if row.error_code else None,
        processor_data=ProcessorData.from_dict(row.processor_data),
    )


def _new_operation_rows(payment: Payment) -> list[dict[str, Any]]:
    return [_operation_row(op, payment.merchant_id) for op in payment.new_operations]


def _changed_operation_rows(payment: Payment) -> list[dict[str, Any]]:
    """What `_SAVE_OPERATION` writes for each changed operation: its mutable columns and its key."""
    return [
        picked(_operation_row(op, payment.merchant_id), _OPERATION_MUTABLE) | {"w_key": op.id}
        for op in payment.changed_operations
    ]


# ------------------------------------------------------------------------------------------ statements

# The hot path's statements, built once: constructing a statement costs more than running it.
_INSERT_PAYMENT = insert(t.payments)
_INSERT_OPERATION = insert(t.operations)
_SAVE_PAYMENT = update_by_key(t.payments, (*_PAYMENT_MUTABLE, "version")).where(
    t.payments.c.version == bindparam("w_version")
)
_SAVE_OPERATION = update_by_key(t.operations, _OPERATION_MUTABLE)
_OPERATIONS_OF = (
    select(t.operations).where(t.operations.c.payment_id == bindparam("payment_id")).order_by(t.operations.c.id)
)
_PAYMENT_BY_ID = select(t.payments).where(t.payments.c.id == bindparam("payment_id"))
_PAYMENT_OF_OPERATION = select(t.operations.c.payment_id).where(
    t.operations.c.id == bindparam("operation_id"), t.operations.c.merchant_id == bindparam("merchant_id")
)
_PAYMENT_SCOPED = _PAYMENT_BY_ID.where(
    t.payments.c.merchant_id == bindparam("merchant_id"), t.payments.c.mode == bindparam("mode")
)
_PAYMENT_BY_REF = select(t.payments).where(
    t.payments.c.processor == bindparam("processor"), t.payments.c.processor_ref == bindparam("processor_ref")
)
_PAYMENT_BY_UNIQUE_REFERENCE = select(t.payments).where(
    t.payments.c.merchant_id == bindparam("merchant_id"),
    t.payments.c.mode == bindparam("mode"),
    t.payments.c.unique_reference == bindparam("unique_reference"),
)
_LOCKED = {stmt: stmt.with_for_update() for stmt in (_PAYMENT_BY_ID, _PAYMENT_SCOPED, _PAYMENT_BY_REF)}


# ---------------------------------------------------------------------------------------- repository


class SqlPaymentRepository:
    def __init__(self, conn: Conn, *, sqlite: bool) -> None:
        self._conn = conn
        self._for_update = not sqlite  # SQLite serialises writers; PostgreSQL locks the row
        self._fused = not sqlite  # one statement per change on PostgreSQL (`storage.payment_writes`)

    async def add(self, payment: Payment) -> None:
        try:
            if self._fused and not payment.changed_operations:
                await self._add_fused(payment)
            else:
                await self._conn.write(_INSERT_PAYMENT, _payment_row(payment))
                await self._flush_children(payment)
        except IntegrityError as exc:
            # The unique index on the reference decides between racing requests on both databases;
            # anything else is not ours to explain.
            if payment.unique_reference is None or "unique_reference" not in str(exc.orig):
                raise
            raise ReferenceTakenError(payment.unique_reference) from None

    async def _add_fused(self, payment: Payment) -> None:
        row = _payment_row(payment)
        ops, op_params = fused.prefixed(_new_operation_rows(payment), "n")
        events, event_params = fused.prefixed([event_row(event) for event in payment.events], "e")
        statement = fused.added(tuple(row), ops, events)
        await self._conn.write(statement, fused.parameters("p_", row) | op_params | event_params)

    async def _load(self, query: Any, params: dict[str, str], lock: bool) -> Payment | None:
        if lock and self._for_update:
            query = _LOCKED[query]
        rows = await self._conn.read(query, params)
        if not rows:
            return None
        ops = await self._conn.read(_OPERATIONS_OF, {"payment_id": rows[0].id})
        return payment_from_row(rows[0], [operation_from_row(r) for r in ops])

    async def get(self, merchant_id: str, mode: str, payment_id: str) -> Payment | None:
        params = {"payment_id": payment_id, "merchant_id": merchant_id, "mode": mode}
        return await self._load(_PAYMENT_SCOPED, params, lock=False)

    async def get_for_update(self, merchant_id: str, mode: str, payment_id: str) -> Payment | None:
        params = {"payment_id": payment_id, "merchant_id": merchant_id, "mode": mode}
        return await self._load(_PAYMENT_SCOPED, params, lock=True)

    async def get_by_id(self, payment_id: str) -> Payment | None:
        return await self._load(_PAYMENT_BY_ID, {"payment_id": payment_id}, lock=False)

    async def get_by_operation(self, merchant_id: str, mode: str, operation_id: str) -> Payment | None:
        params = {"operation_id": operation_id, "merchant_id": merchant_id}
        payment_id = (await self._conn.execute(_PAYMENT_OF_OPERATION, params)).scalar()
        return await self.get(merchant_id, mode, payment_id) if payment_id else None

    async def get_by_id_for_update(self, payment_id: str) -> Payment | None:
        return await self._load(_PAYMENT_BY_ID, {"payment_id": payment_id}, lock=True)

    async def save(self, payment: Payment) -> None:
        params = picked(_payment_row(payment), _PAYMENT_MUTABLE) | {
            "version": payment.version + 1,
            "w_key": payment.id,
            "w_version": payment.version,
        }
        if self._fused:
            await self._save_fused(payment, params)
            return
        if await self._conn.write(_SAVE_PAYMENT, params) != 1:
            raise ConcurrentUpdateError(payment.id)
        payment.version += 1
        await self._flush_children(payment)

    async def _save_fused(self, payment: Payment, params: dict[str, Any]) -> None:
        new, new_params = fused.prefixed(_new_operation_rows(payment), "n")
        changed, changed_params = fused.prefixed(_changed_operation_rows(payment), "c")
        events, event_params = fused.prefixed([event_row(event) for event in payment.events], "e")
        statement = fused.saved(tuple(params), new, changed, events)
        values = fused.parameters("p_", params) | new_params | changed_params | event_params
        if await self._conn.write(statement, values) != 1:
            raise ConcurrentUpdateError(payment.id)  # and nothing else was written
        payment.version += 1

    async def _flush_children(self, payment: Payment) -> None:
        if payment.new_operations:
            await self._conn.write(_INSERT_OPERATION, _new_operation_rows(payment))
        for params in _changed_operation_rows(payment):
            await self._conn.write(_SAVE_OPERATION, params)
        if payment.events:
            await insert_events(self._conn, payment.events)

    async def get_by_unique_reference(self, merchant_id: str, mode: str, reference: str) -> Payment | None:
        params = {"merchant_id": merchant_id, "mode": mode, "unique_reference": reference}
        return await self._load(_PAYMENT_BY_UNIQUE_REFERENCE, params, lock=False)

    async def get_by_processor_ref_for_update(self, processor: str, processor_ref: str) -> Payment | None:
        params = {"processor": processor, "processor_ref": processor_ref}
        return await self._load(_PAYMENT_BY_REF, params, lock=True)

    async def authorized_before(self, cutoff: datetime, limit: int) -> Sequence[str]:
        c = t.payments.c
        rows = await self._conn.execute(
            select(c.id)
            .where(c.status == PaymentStatus.AUTHORIZED.value, c.created_at < cutoff)
            .order_by(c.created_at)
            .limit(limit)
        )
        return [r.id for r in rows]

    async def stale_operations(self, before: datetime, limit: int) -> Sequence[tuple[str, str]]:
        c = t.operations.c
        rows = await self._conn.execute(
            select(c.payment_id, c.id)
            .where(
                or_(
                    c.status == OperationStatus.UNKNOWN.value,
                    and_(c.status == OperationStatus.PENDING.value, c.updated_at < before),
                )
            )
            .order_by(c.updated_at)
            .limit(limit)
        )
        return [(r.payment_id, r.id) for r in rows]
