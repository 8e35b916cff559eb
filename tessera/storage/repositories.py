"""Repositories: the core's aggregates to and from rows, on one connection inside a transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from tessera.core.errors import ErrorCode
from tessera.core.merchants import ApiKey, KeyKind, Merchant, MerchantStatus
from tessera.core.payments.events import Event
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
from tessera.core.ports import ConcurrentUpdateError, Initiator, ProcessorData, ReferenceTakenError, StoredCiphertext
from tessera.core.threeds.model import TransStatus
from tessera.core.threeds.records import Authentication, ChallengeState
from tessera.core.vault.brands import Brand
from tessera.core.vault.cards import CardStatus, CardType, SavedCard, pan_context
from tessera.core.vault.crypto import WrappedKey
from tessera.core.vault.tokens import CardToken, token_context
from tessera.storage import tables as t
from tessera.storage.engine import Conn

# ------------------------------------------------------------------------------------------ payments

# The hot path's statements, built once: constructing a statement costs more than running it.
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
    "next_action",
    "card_to_save",
    "card_token",
    "browser",
    "return_url",
    "channel_data",
    "attempts",
    "network_transaction_id",
    "auth_status",
    "auth_eci",
    "auth_version",
    "auth_liability_shift",
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
_INSERT_PAYMENT = insert(t.payments)
_INSERT_OPERATION = insert(t.operations)
_INSERT_EVENT = insert(t.events)
_SAVE_PAYMENT = (
    update(t.payments)
    .where(t.payments.c.id == bindparam("w_id"), t.payments.c.version == bindparam("w_version"))
    .values({name: bindparam(name) for name in (*_PAYMENT_MUTABLE, "version")})
)
_SAVE_OPERATION = (
    update(t.operations)
    .where(t.operations.c.id == bindparam("w_id"))
    .values({name: bindparam(name) for name in _OPERATION_MUTABLE})
)
_OPERATIONS_OF = (
    select(t.operations).where(t.operations.c.payment_id == bindparam("payment_id")).order_by(t.operations.c.id)
)
_PAYMENT_BY_ID = select(t.payments).where(t.payments.c.id == bindparam("payment_id"))
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
_MERCHANT_BY_ID = select(t.merchants).where(t.merchants.c.id == bindparam("merchant_id"))
_MERCHANT_BY_ID_LOCKED = _MERCHANT_BY_ID.with_for_update()
_LOCKED = {stmt: stmt.with_for_update() for stmt in (_PAYMENT_BY_ID, _PAYMENT_SCOPED, _PAYMENT_BY_REF)}


def _payment_values(p: Payment) -> dict[str, Any]:
    card = p.card
    return {
        "status": p.status.value,
        "amount_authorized": p.amount_authorized,
        "amount_captured": p.amount_captured,
        "amount_refunded": p.amount_refunded,
        "amount_charged_back": p.amount_charged_back,
        "card_bin": card.bin if card else None,
        "card_last4": card.last4 if card else None,
        "card_brand": card.brand if card else None,
        "card_exp_month": card.exp_month if card else None,
        "card_exp_year": card.exp_year if card else None,
        "card_holder_name": card.holder_name if card else None,
        "processor_ref": p.processor_ref,
        "auth_code": p.auth_code,
        "retrieval_ref": p.retrieval_ref,
        "error_code": p.error_code.value if p.error_code else None,
        "error_message": p.error_message,
        "card_token": p.card_token,
        "auth_status": p.authentication.status if p.authentication else None,
        "auth_eci": p.authentication.eci if p.authentication else None,
        "auth_version": p.authentication.version if p.authentication else None,
        "auth_liability_shift": p.authentication.liability_shift if p.authentication else None,
        "next_action": (
            {"url": p.next_action.url, "method": p.next_action.method, "params": p.next_action.params}
            if p.next_action
            else None
        ),
        "card_to_save": p.card_to_save.as_dict() if p.card_to_save else None,
        "browser": p.browser,
        "return_url": p.return_url,
        "channel_data": p.channel_data,
        "attempts": [a.as_dict() for a in p.attempts],
        "network_transaction_id": p.network_transaction_id,
        "updated_at": p.updated_at,
    }


def _operation_values(op: Operation) -> dict[str, Any]:
    return {
        "status": op.status.value,
        "error_code": op.error_code.value if op.error_code else None,
        "processor_ref": op.processor_ref,
        "response_code": op.response_code,
        "auth_code": op.auth_code,
        "reason_code": op.reason_code,
        "processor_data": op.processor_data.as_dict() or None,
        "updated_at": op.updated_at,
    }


def _operation(row: Row[Any]) -> Operation:
    return Operation(
        id=row.id,
        payment_id=row.payment_id,
        type=OperationType(row.type),
        amount=row.amount,
        status=OperationStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        error_code=ErrorCode(row.error_code) if row.error_code else None,
        processor_ref=row.processor_ref,
        response_code=row.response_code,
        auth_code=row.auth_code,
        reason_code=row.reason_code,
        processor_data=ProcessorData.from_dict(row.processor_data),
    )


def payment_from_row(row: Row[Any], ops: list[Operation]) -> Payment:
    action = row.next_action
    return Payment(
        id=row.id,
        merchant_id=row.merchant_id,
        mode=row.mode,
        amount=row.amount,
        currency=row.currency,
        capture_method=CaptureMethod(row.capture_method),
        status=PaymentStatus(row.status),
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
            else None
        ),
        channel=row.channel,
        channel_data=row.channel_data,
        unique_reference=row.unique_reference,
        processor=row.processor,
        created_at=row.created_at,
        updated_at=row.updated_at,
        reference=row.reference,
        description=row.description,
        customer=row.customer,
        browser=row.browser,
        metadata=row.metadata,
        return_url=row.return_url,
        amount_authorized=row.amount_authorized,
        amount_captured=row.amount_captured,
        amount_refunded=row.amount_refunded,
        amount_charged_back=row.amount_charged_back,
        error_code=ErrorCode(row.error_code) if row.error_code else None,
        error_message=row.error_message,
        processor_ref=row.processor_ref,
        auth_code=row.auth_code,
        retrieval_ref=row.retrieval_ref,
        original_payment_id=row.original_payment_id,
        card_token=row.card_token,
        authentication=(
            AuthenticationSummary(row.auth_status, row.auth_version, row.auth_eci, bool(row.auth_liability_shift))
            if row.auth_status
            else None
        ),
        next_action=NextAction(action["url"], action["method"], action["params"]) if action else None,
        initiator=Initiator(row.initiator),
        network_transaction_id=row.network_transaction_id,
        attempt_budget=row.attempt_budget,
        attempts=[Attempt.from_dict(a) for a in row.attempts or ()],
        card_to_save=SaveCardOnSuccess.from_dict(row.card_to_save) if row.card_to_save else None,
        version=row.version,
        operations=ops,
    )


class SqlPaymentRepository:
    def __init__(self, conn: Conn, *, sqlite: bool) -> None:
        self._conn = conn
        self._sqlite = sqlite
        self._for_update = not sqlite  # SQLite serialises writers; PostgreSQL locks the row

    async def add(self, payment: Payment) -> None:
        values = _payment_values(payment) | {
            "id": payment.id,
            "merchant_id": payment.merchant_id,
            "mode": payment.mode,
            "amount": payment.amount,
            "currency": payment.currency,
            "capture_method": payment.capture_method.value,
            "processor": payment.processor,
            "channel": payment.channel,
            "reference": payment.reference,
            "unique_reference": payment.unique_reference,
            "description": payment.description,
            "customer": payment.customer,
            "metadata": payment.metadata,
            "original_payment_id": payment.original_payment_id,
            "initiator": payment.initiator.value,
            "attempt_budget": payment.attempt_budget,
            "version": payment.version,
            "created_at": payment.created_at,
        }
        if payment.unique_reference is None:
            await self._conn.execute(_INSERT_PAYMENT, values)
        else:
            try:
                await self._conn.execute(_INSERT_PAYMENT, values)
            except IntegrityError as exc:
                # The unique index on the reference decides between racing requests on both
                # databases; anything else is not ours to explain.
                if "unique_reference" not in str(exc.orig):
                    raise
                raise ReferenceTakenError(payment.unique_reference) from None
        await self._flush_children(payment)

    async def _load(self, query: Any, params: dict[str, str], lock: bool) -> Payment | None:
        if lock and self._for_update:
            query = _LOCKED[query]
        row = (await self._conn.execute(query, params)).first()
        if row is None:
            return None
        ops = await self._conn.execute(_OPERATIONS_OF, {"payment_id": row.id})
        return payment_from_row(row, [_operation(r) for r in ops])

    async def get(self, merchant_id: str, mode: str, payment_id: str) -> Payment | None:
        params = {"payment_id": payment_id, "merchant_id": merchant_id, "mode": mode}
        return await self._load(_PAYMENT_SCOPED, params, lock=False)

    async def get_for_update(self, merchant_id: str, mode: str, payment_id: str) -> Payment | None:
        params = {"payment_id": payment_id, "merchant_id": merchant_id, "mode": mode}
        return await self._load(_PAYMENT_SCOPED, params, lock=True)

    async def get_by_id(self, payment_id: str) -> Payment | None:
        return await self._load(_PAYMENT_BY_ID, {"payment_id": payment_id}, lock=False)

    async def get_by_id_for_update(self, payment_id: str) -> Payment | None:
        return await self._load(_PAYMENT_BY_ID, {"payment_id": payment_id}, lock=True)

    async def save(self, payment: Payment) -> None:
        params = _payment_values(payment) | {
            "version": payment.version + 1,
            "w_id": payment.id,
            "w_version": payment.version,
        }
        result = await self._conn.execute(_SAVE_PAYMENT, params)
        if result.rowcount != 1:
            raise ConcurrentUpdateError(payment.id)
        payment.version += 1
        await self._flush_children(payment)

    async def _flush_children(self, payment: Payment) -> None:
        if payment.new_operations:
            await self._conn.execute(
                _INSERT_OPERATION,
                [
                    _operation_values(op)
                    | {
                        "id": op.id,
                        "payment_id": op.payment_id,
                        "merchant_id": payment.merchant_id,
                        "type": op.type.value,
                        "amount": op.amount,
                        "created_at": op.created_at,
                    }
                    for op in payment.new_operations
                ],
            )
        for op in payment.changed_operations:
            await self._conn.execute(_SAVE_OPERATION, _operation_values(op) | {"w_id": op.id})
        if payment.events:
            await insert_events(self._conn, payment.events, sqlite=self._sqlite)

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


# -------------------------------------------------------------------------------------------- tokens


class SqlTokenRepository:
    def __init__(self, conn: Conn, *, for_update: bool) -> None:
        self._conn = conn
        self._for_update = for_update

    async def add(self, token: CardToken) -> None:
        await self._conn.execute(
            insert(t.card_tokens),
            [
                {
                    "id": token.id,
                    "merchant_id": token.merchant_id,
                    "mode": token.mode,
                    "pan_ciphertext": token.pan_ciphertext,
                    "cvv_ciphertext": token.cvv_ciphertext,
                    "bin": token.bin,
                    "last4": token.last4,
                    "brand": token.brand,
                    "exp_month": token.exp_month,
                    "exp_year": token.exp_year,
                    "holder_name": token.holder_name,
                    "created_at": token.created_at,
                    "expires_at": token.expires_at,
                    "key_version": token.key_version,
                }
            ],
        )

    async def get_for_update(self, merchant_id: str, mode: str, token_id: str) -> CardToken | None:
        c = t.card_tokens.c
        query = select(t.card_tokens).where(c.id == token_id, c.merchant_id == merchant_id, c.mode == mode)
        if self._for_update:
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        if row is None:
            return None
        return CardToken(
            id=row.id,
            merchant_id=row.merchant_id,
            mode=row.mode,
            pan_ciphertext=row.pan_ciphertext,
            cvv_ciphertext=row.cvv_ciphertext,
            bin=row.bin,
            last4=row.last4,
            brand=row.brand,
            exp_month=row.exp_month,
            exp_year=row.exp_year,
            holder_name=row.holder_name,
            created_at=row.created_at,
            expires_at=row.expires_at,
            used_at=row.used_at,
            payment_id=row.payment_id,
        )

    async def mark_used(self, token: CardToken) -> None:
        await self._conn.execute(
            update(t.card_tokens)
            .where(t.card_tokens.c.id == token.id)
            .values(used_at=token.used_at, cvv_ciphertext=None, payment_id=token.payment_id)
        )

    async def erase_expired_secrets(self, now: datetime) -> int:
        c = t.card_tokens.c
        result = await self._conn.execute(
            update(t.card_tokens).where(c.expires_at <= now, c.cvv_ciphertext.is_not(None)).values(cvv_ciphertext=None)
        )
        return int(result.rowcount)


# ----------------------------------------------------------------------------------------- merchants


_KEY_JOIN = select(t.api_keys, t.merchants).join(t.merchants, t.merchants.c.id == t.api_keys.c.merchant_id)
_KEY_BY_HASH = _KEY_JOIN.where(t.api_keys.c.key_hash == bindparam("key_hash"), t.api_keys.c.revoked_at.is_(None))


class SqlMerchantRepository:
    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    async def add(self, merchant: Merchant, keys: Sequence[ApiKey]) -> None:
        await self._conn.execute(
            insert(t.merchants),
            [
                {
                    "id": merchant.id,
                    "name": merchant.name,
                    "status": merchant.status.value,
                    "allowed_domains": merchant.allowed_domains,
                    "webhook_secret": merchant.webhook_secret,
                    "threeds_policy": merchant.threeds_policy,
                    "attempt_budget": merchant.attempt_budget,
                    "created_at": merchant.created_at,
                }
            ],
        )
        await self._conn.execute(
            insert(t.api_keys),
            [
                {
                    "id": k.id,
                    "merchant_id": k.merchant_id,
                    "mode": k.mode,
                    "kind": k.kind.value,
                    "client_id": k.client_id,
                    "key_hash": k.key_hash,
                    "prefix": k.prefix,
                    "created_at": k.created_at,
                }
                for k in keys
            ],
        )

    async def _find(self, query: Any, params: dict[str, str] | None = None) -> tuple[ApiKey, Merchant] | None:
        k = t.api_keys
        row = (await self._conn.execute(query, params)).first()
        if row is None:
            return None
        mapping = row._mapping
        key = ApiKey(
            id=mapping[k.c.id],
            merchant_id=mapping[k.c.merchant_id],
            mode=mapping[k.c.mode],
            kind=KeyKind(mapping[k.c.kind]),
            client_id=mapping[k.c.client_id],
            key_hash=mapping[k.c.key_hash],
            prefix=mapping[k.c.prefix],
            created_at=mapping[k.c.created_at],
        )
        return key, _merchant(mapping)

    async def find_key(self, key_hash: str) -> tuple[ApiKey, Merchant] | None:
        return await self._find(_KEY_BY_HASH, {"key_hash": key_hash})

    async def count(self) -> int:
        rows = await self._conn.execute(select(t.merchants.c.id).limit(1))
        return len(rows.all())

    async def set_status(self, merchant_id: str, status: str) -> None:
        await self._conn.execute(update(t.merchants).where(t.merchants.c.id == merchant_id).values(status=status))

    async def get(self, merchant_id: str, *, for_update: bool = False) -> Merchant | None:
        query = _MERCHANT_BY_ID_LOCKED if for_update else _MERCHANT_BY_ID  # FOR UPDATE is nothing on SQLite
        row = (await self._conn.execute(query, {"merchant_id": merchant_id})).first()
        return _merchant(row._mapping) if row else None

    async def key_modes(self, merchant_id: str) -> list[str]:
        """The modes the merchant has (unrevoked) keys for, sorted."""
        k = t.api_keys.c
        rows = await self._conn.execute(
            select(k.mode).where(k.merchant_id == merchant_id, k.revoked_at.is_(None)).distinct().order_by(k.mode)
        )
        return [r.mode for r in rows]

    async def save_settings(self, merchant: Merchant) -> None:
        """The settings a merchant may change: its allowed return-URL domains."""
        await self._conn.execute(
            update(t.merchants).where(t.merchants.c.id == merchant.id).values(allowed_domains=merchant.allowed_domains)
        )


def _merchant(mapping: Any) -> Merchant:
    m = t.merchants.c
    return Merchant(
        id=mapping[m.id],
        name=mapping[m.name],
        status=MerchantStatus(mapping[m.status]),
        created_at=mapping[m.created_at],
        allowed_domains=list(mapping[m.allowed_domains] or []),
        webhook_secret=mapping[m.webhook_secret],
        threeds_policy=mapping[m.threeds_policy],
        attempt_budget=mapping[m.attempt_budget],
    )


# --------------------------------------------------------------------------------------- idempotency


class SqlIdempotencyRepository:
    def __init__(self, conn: Conn, *, sqlite: bool) -> None:
        self._conn = conn
        self._insert = sqlite_insert if sqlite else pg_insert

    def _key(self, merchant_id: str, mode: str, key: str) -> Any:
        c = t.idempotency_keys.c
        return and_(c.merchant_id == merchant_id, c.mode == mode, c.key == key)

    async def try_insert(self, record: dict[str, Any]) -> bool:
        statement = self._insert(t.idempotency_keys).values(record).on_conflict_do_nothing()
        result = await self._conn.execute(statement)
        return bool(result.rowcount == 1)

    async def get(self, merchant_id: str, mode: str, key: str) -> dict[str, Any] | None:
        row = (await self._conn.execute(select(t.idempotency_keys).where(self._key(merchant_id, mode, key)))).first()
        return dict(row._mapping) if row else None

    async def complete(self, merchant_id: str, mode: str, key: str, status: int, body: bytes) -> None:
        await self._conn.execute(
            update(t.idempotency_keys)
            .where(self._key(merchant_id, mode, key))
            .values(state="complete", response_status=status, response_body=body)
        )

    async def delete(self, merchant_id: str, mode: str, key: str) -> None:
        await self._conn.execute(delete(t.idempotency_keys).where(self._key(merchant_id, mode, key)))

    async def purge(self, before: datetime) -> int:
        result = await self._conn.execute(delete(t.idempotency_keys).where(t.idempotency_keys.c.expires_at <= before))
        return int(result.rowcount)


# ---------------------------------------------------------------------------------------------- events


def _event_values(e: Event) -> dict[str, Any]:
    return {
        "id": e.id,
        "merchant_id": e.merchant_id,
        "mode": e.mode,
        "type": e.type,
        "payment_id": e.payment_id,
        "data": e.data,
        "created_at": e.created_at,
    }


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
            rows.append(_event_values(event) | {"sequence": last - len(group) + 1 + offset})
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


# ----------------------------------------------------------------------------------------------- cards

_CARD_BY_TOKEN = select(t.cards).where(
    t.cards.c.card_token == bindparam("card_token"),
    t.cards.c.merchant_id == bindparam("merchant_id"),
    t.cards.c.mode == bindparam("mode"),
)


def _card(row: Row[Any]) -> SavedCard:
    return SavedCard(
        id=row.id,
        card_token=row.card_token,
        merchant_id=row.merchant_id,
        mode=row.mode,
        identifier=row.identifier,
        brand=Brand(row.brand),
        card_type=CardType(row.card_type) if row.card_type else None,
        bin=row.bin,
        last4=row.last4,
        exp_month=row.exp_month,
        exp_year=row.exp_year,
        holder_name=row.holder_name,
        nickname=row.nickname,
        label=row.label,
        pan_ciphertext=row.pan_ciphertext or b"",
        key_version=row.key_version,
        fingerprint=row.fingerprint,
        network_token=row.network_token,
        consent_at=row.consent_at,
        consent_ip=row.consent_ip,
        consent_credential=row.consent_credential,
        created_at=row.created_at,
        status=CardStatus(row.status),
        deleted_at=row.deleted_at,
    )


class SqlCardRepository:
    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    async def add(self, card: SavedCard) -> None:
        await self._conn.execute(
            insert(t.cards),
            {
                "id": card.id,
                "card_token": card.card_token,
                "merchant_id": card.merchant_id,
                "mode": card.mode,
                "identifier": card.identifier,
                "brand": card.brand.value,
                "card_type": card.card_type.value if card.card_type else None,
                "bin": card.bin,
                "last4": card.last4,
                "exp_month": card.exp_month,
                "exp_year": card.exp_year,
                "holder_name": card.holder_name,
                "nickname": card.nickname,
                "label": card.label,
                "pan_ciphertext": card.pan_ciphertext,
                "key_version": card.key_version,
                "fingerprint": card.fingerprint,
                "network_token": card.network_token,
                "consent_at": card.consent_at,
                "consent_ip": card.consent_ip,
                "consent_credential": card.consent_credential,
                "status": card.status.value,
                "created_at": card.created_at,
            },
        )

    async def get(self, merchant_id: str, mode: str, card_token: str) -> SavedCard | None:
        params = {"card_token": card_token, "merchant_id": merchant_id, "mode": mode}
        row = (await self._conn.execute(_CARD_BY_TOKEN, params)).first()
        return _card(row) if row else None

    async def find_active(self, merchant_id: str, mode: str, identifier: str, fingerprint: str) -> SavedCard | None:
        c = t.cards.c
        row = (
            await self._conn.execute(
                select(t.cards).where(
                    c.merchant_id == merchant_id,
                    c.mode == mode,
                    c.identifier == identifier,
                    c.fingerprint == fingerprint,
                    c.status == CardStatus.ACTIVE.value,
                )
            )
        ).first()
        return _card(row) if row else None

    async def list_active(self, merchant_id: str, mode: str, identifier: str) -> list[SavedCard]:
        c = t.cards.c
        rows = await self._conn.execute(
            select(t.cards)
            .where(
                c.merchant_id == merchant_id,
                c.mode == mode,
                c.identifier == identifier,
                c.status == CardStatus.ACTIVE.value,
            )
            .order_by(c.id.desc())
        )
        return [_card(r) for r in rows]

    async def mark_deleted(self, card: SavedCard) -> None:
        await self._conn.execute(
            update(t.cards)
            .where(t.cards.c.id == card.id)
            .values(status=card.status.value, deleted_at=card.deleted_at, pan_ciphertext=None)
        )


# ------------------------------------------------------------------------------------------ vault keys


class SqlVaultKeyRepository:
    def __init__(self, conn: Conn, *, sqlite: bool) -> None:
        self._conn = conn
        self._insert = sqlite_insert if sqlite else pg_insert

    async def data_keys(self) -> list[WrappedKey]:
        rows = await self._conn.execute(select(t.vault_keys).order_by(t.vault_keys.c.version))
        return [WrappedKey(r.version, r.kek_version, r.wrapped_key) for r in rows]

    async def add_data_key(self, key: WrappedKey, created_at: datetime) -> bool:
        statement = (
            self._insert(t.vault_keys)
            .values(version=key.version, kek_version=key.kek_version, wrapped_key=key.wrapped, created_at=created_at)
            .on_conflict_do_nothing()
        )
        return bool((await self._conn.execute(statement)).rowcount == 1)

    async def rewrap(self, key: WrappedKey) -> None:
        await self._conn.execute(
            update(t.vault_keys)
            .where(t.vault_keys.c.version == key.version)
            .values(kek_version=key.kek_version, wrapped_key=key.wrapped)
        )

    async def count_stale(self, current: int) -> int:
        cards = (
            await self._conn.execute(
                select(func.count())
                .select_from(t.cards)
                .where(t.cards.c.key_version != current, t.cards.c.pan_ciphertext.is_not(None))
            )
        ).scalar_one()
        k = t.card_tokens.c
        tokens = (
            await self._conn.execute(
                select(func.count() + func.count(k.cvv_ciphertext)).where(k.key_version != current)
            )
        ).scalar_one()
        return int(cards) + int(tokens)  # fields, as re-encryption counts them

    async def stale_ciphertexts(self, current: int, limit: int) -> list[StoredCiphertext]:
        found: list[StoredCiphertext] = []
        c = t.cards.c
        for row in await self._conn.execute(
            select(c.id, c.pan_ciphertext, c.key_version)
            .where(c.key_version != current, c.pan_ciphertext.is_not(None))
            .order_by(c.id)
            .limit(limit)
        ):
            found.append(
                StoredCiphertext(
                    "cards", row.id, "pan_ciphertext", pan_context(row.id), row.pan_ciphertext, row.key_version
                )
            )
        if len(found) >= limit:
            return found
        k = t.card_tokens.c
        for row in await self._conn.execute(
            select(k.id, k.pan_ciphertext, k.cvv_ciphertext, k.key_version)
            .where(k.key_version != current)
            .order_by(k.id)
            .limit(limit - len(found))
        ):
            found.append(
                StoredCiphertext(
                    "card_tokens",
                    row.id,
                    "pan_ciphertext",
                    token_context(row.id, "pan"),
                    row.pan_ciphertext,
                    row.key_version,
                )
            )
            if row.cvv_ciphertext is not None:
                found.append(
                    StoredCiphertext(
                        "card_tokens",
                        row.id,
                        "cvv_ciphertext",
                        token_context(row.id, "cvv"),
                        row.cvv_ciphertext,
                        row.key_version,
                    )
                )
        return found

    async def replace_ciphertexts(self, updates: Sequence[StoredCiphertext]) -> None:
        by_table: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for item in updates:
            by_table.setdefault((item.table, item.field), []).append(
                {"w_id": item.row_id, "w_value": item.ciphertext, "w_version": item.key_version}
            )
        for (table_name, field), rows in by_table.items():
            table = t.metadata.tables[table_name]
            statement = (
                update(table)
                .where(table.c.id == bindparam("w_id"))
                .values({field: bindparam("w_value"), "key_version": bindparam("w_version")})
            )
            await self._conn.execute(statement, rows)


# -------------------------------------------------------------------------------------- authentications

_INSERT_AUTHENTICATION = insert(t.authentications)
_AUTH_FIELDS = (
    "acs_trans_id",
    "ds_trans_id",
    "trans_status_reason",
    "eci",
    "cavv_ciphertext",
    "acs_url",
    "card_ciphertext",
    "cvv_ciphertext",
    "key_version",
    "exp_month",
    "exp_year",
    "holder_name",
    "updated_at",
)


def _authentication_values(a: Authentication) -> dict[str, Any]:
    values = {name: getattr(a, name) for name in _AUTH_FIELDS}
    values["trans_status"] = a.trans_status.value if a.trans_status else None
    values["challenge"] = a.challenge.value
    return values


def _authentication(row: Row[Any]) -> Authentication:
    return Authentication(
        id=row.id,
        payment_id=row.payment_id,
        merchant_id=row.merchant_id,
        mode=row.mode,
        three_ds_server_trans_id=row.three_ds_server_trans_id,
        version=row.version,
        policy=row.policy,
        expires_at=row.expires_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        acs_trans_id=row.acs_trans_id,
        ds_trans_id=row.ds_trans_id,
        trans_status=TransStatus(row.trans_status) if row.trans_status else None,
        trans_status_reason=row.trans_status_reason,
        eci=row.eci,
        cavv_ciphertext=row.cavv_ciphertext,
        acs_url=row.acs_url,
        challenge=ChallengeState(row.challenge),
        card_ciphertext=row.card_ciphertext,
        cvv_ciphertext=row.cvv_ciphertext,
        key_version=row.key_version,
        exp_month=row.exp_month,
        exp_year=row.exp_year,
        holder_name=row.holder_name,
    )


class SqlAuthenticationRepository:
    def __init__(self, conn: Conn, *, for_update: bool) -> None:
        self._conn = conn
        self._for_update = for_update

    async def add(self, a: Authentication) -> None:
        await self._conn.execute(
            _INSERT_AUTHENTICATION,
            _authentication_values(a)
            | {
                "id": a.id,
                "payment_id": a.payment_id,
                "merchant_id": a.merchant_id,
                "mode": a.mode,
                "three_ds_server_trans_id": a.three_ds_server_trans_id,
                "version": a.version,
                "policy": a.policy,
                "expires_at": a.expires_at,
                "created_at": a.created_at,
            },
        )

    async def _one(self, where: Any) -> Authentication | None:
        query = select(t.authentications).where(where)
        if self._for_update:
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        return _authentication(row) if row else None

    async def get_by_trans_id(self, three_ds_server_trans_id: str) -> Authentication | None:
        return await self._one(t.authentications.c.three_ds_server_trans_id == three_ds_server_trans_id)

    async def get_for_payment(self, payment_id: str) -> Authentication | None:
        return await self._one(t.authentications.c.payment_id == payment_id)

    async def save(self, a: Authentication) -> None:
        await self._conn.execute(
            update(t.authentications).where(t.authentications.c.id == a.id).values(_authentication_values(a))
        )

    async def expired_challenges(self, now: datetime, limit: int) -> list[Authentication]:
        c = t.authentications.c
        rows = await self._conn.execute(
            select(t.authentications)
            .where(c.challenge == ChallengeState.PENDING.value, c.expires_at <= now)
            .order_by(c.expires_at)
            .limit(limit)
        )
        return [_authentication(r) for r in rows]
