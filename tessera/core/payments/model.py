"""The payment aggregate: states, operations and the amount rules, with no I/O.

Every money movement is an `Operation` (seed 003's vocabulary). A movement begins as a pending
operation, which reserves its amount against the limits, and is settled by `record` with the
processor's result. Concurrency is the storage layer's job (the payment row is locked while a method
here decides); these methods only ever see one consistent payment.

    requires_payment_method ◄──┐ (a declined attempt, while the attempt budget lasts)
        │                      │
        ├──► requires_action ──┤
        ▼                      │
    processing ──► authorized ──► captured ──► partially_refunded ──► refunded
        │   └────► captured        │   └──► voided                 ▲
        └──► failed                 └──────────────────────────────┘

A payment made with its card in one call is an intent confirmed at once, with a budget of one attempt:
a decline fails it. An intent made without a card waits in `requires_payment_method` and takes the
merchant's budget of attempts; every attempt (card, outcome, error, time) is kept on the payment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from tessera.core.errors import ConflictError, ErrorCode, ValidationError
from tessera.core.ids import new_id
from tessera.core.payments import events as ev
from tessera.core.payments.events import Event
from tessera.core.payments.values import Attempt as Attempt
from tessera.core.payments.values import AttemptStatus as AttemptStatus
from tessera.core.payments.values import AuthenticationSummary as AuthenticationSummary
from tessera.core.payments.values import CardSnapshot as CardSnapshot
from tessera.core.payments.values import NextAction as NextAction
from tessera.core.payments.values import SaveCardOnSuccess as SaveCardOnSuccess
from tessera.core.ports import NO_PROCESSOR_DATA, Initiator, Outcome, ProcessorData, ProcessorResult


class PaymentStatus(StrEnum):
    REQUIRES_PAYMENT_METHOD = "requires_payment_method"  # an intent waiting for a card
    PROCESSING = "processing"  # an authorisation is in flight or its outcome is being resolved
    REQUIRES_ACTION = "requires_action"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"
    CHARGED_BACK = "charged_back"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELED = "canceled"  # an intent the merchant called off before a card paid it


class CaptureMethod(StrEnum):
    AUTOMATIC = "automatic"
    MANUAL = "manual"


class OperationType(StrEnum):
    PA = "PA"  # pre-authorisation
    DB = "DB"  # debit (sale)
    CP = "CP"  # capture
    RV = "RV"  # reversal (void)
    RF = "RF"  # refund
    RB = "RB"  # rebill
    RC = "RC"  # receipt
    CB = "CB"  # chargeback
    CR = "CR"  # chargeback reversal


AUTHORISATIONS = frozenset({OperationType.PA, OperationType.DB, OperationType.RB})
SALES = frozenset({OperationType.DB, OperationType.RB})  # authorised and captured at once

EXPIRY_REASON = "expired"  # an RV's reason when the authorisation was never captured in time


class OperationStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"


OPEN_OPERATION = frozenset({OperationStatus.PENDING, OperationStatus.UNKNOWN})


@dataclass(slots=True)
class Operation:
    id: str
    payment_id: str
    type: OperationType
    amount: int
    status: OperationStatus
    created_at: datetime
    updated_at: datetime
    error_code: ErrorCode | None = None
    processor_ref: str | None = None
    response_code: str | None = None
    auth_code: str | None = None
    reason_code: str | None = None  # a chargeback's reason, or why a reversal happened
    processor_data: ProcessorData = NO_PROCESSOR_DATA  # committed with the pending operation

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_OPERATION


@dataclass(slots=True)
class Payment:
    id: str
    merchant_id: str
    mode: str
    amount: int
    currency: str
    capture_method: CaptureMethod
    status: PaymentStatus
    card: CardSnapshot | None  # None until an intent's first attempt
    processor: str
    created_at: datetime
    updated_at: datetime
    channel: str = "native"  # the dialect that made it
    channel_data: dict[str, Any] | None = None  # that dialect's own words, kept as it gave them
    reference: str | None = None
    unique_reference: str | None = None  # one payment per reference, merchant and mode: a repeat is refused
    description: str | None = None
    customer: dict[str, Any] | None = None
    browser: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    return_url: str | None = None
    amount_authorized: int = 0
    amount_captured: int = 0
    amount_refunded: int = 0
    amount_charged_back: int = 0
    error_code: ErrorCode | None = None  # the last attempt's error (the payment's, once failed)
    error_message: str | None = None
    processor_ref: str | None = None
    auth_code: str | None = None
    retrieval_ref: str | None = None
    initiator: Initiator = Initiator.CARDHOLDER
    network_transaction_id: str | None = None  # the network's id of the approved authorisation
    original_payment_id: str | None = None
    card_token: str | None = None  # the saved card paid with, or saved by this payment
    # A card to save once a challenged payment is authorised (the shopper's browser comes first).
    card_to_save: SaveCardOnSuccess | None = None
    authentication: AuthenticationSummary | None = None
    next_action: NextAction | None = None
    attempt_budget: int = 1
    attempts: list[Attempt] = field(default_factory=list)
    fee: int | None = None  # the merchant's charge for it, minor units of its currency (core.risk.fee_for)
    version: int = 0
    operations: list[Operation] = field(default_factory=list)
    # Changes since load, flushed by the repository.
    new_operations: list[Operation] = field(default_factory=list)
    changed_operations: list[Operation] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    # ------------------------------------------------------------------------------ construction

    @classmethod
    def _new(cls, *, payment_id: str | None, now: datetime, **fields: Any) -> Payment:
        fields.setdefault("card", None)
        return cls(
            id=payment_id or new_id("pay"),
            status=PaymentStatus.REQUIRES_PAYMENT_METHOD,
            created_at=now,
            updated_at=now,
            **fields,
        )

    @classmethod
    def intent(cls, *, now: datetime, payment_id: str | None = None, **fields: Any) -> Payment:
        """A payment waiting for its card, with the merchant's budget of attempts."""
        payment = cls._new(payment_id=payment_id, now=now, **fields)
        payment.events.append(
            Event(payment.merchant_id, payment.mode, ev.PAYMENT_CREATED, payment.id, payment.summary(), now)
        )
        return payment

    @classmethod
    def start(
        cls,
        *,
        card: CardSnapshot,
        now: datetime,
        payment_id: str | None = None,
        first_operation: OperationType | None = None,
        processor_data: ProcessorData = NO_PROCESSOR_DATA,
        **fields: Any,
    ) -> tuple[Payment, Operation]:
        """A new payment with its card and its first operation (PA, DB or RB) pending: one attempt."""
        payment = cls._new(payment_id=payment_id, now=now, **fields)
        return payment, payment.begin_attempt(card, now, first_operation=first_operation, data=processor_data)

    @classmethod
    def awaiting_shopper(
        cls, *, payment_id: str, now: datetime, card: CardSnapshot, next_action: NextAction, **fields: Any
    ) -> Payment:
        """A new payment whose shopper must first authenticate in a browser; no money has moved."""
        payment = cls._new(payment_id=payment_id, now=now, **fields)
        payment.await_shopper(card, next_action, now)
        return payment

    @classmethod
    def failed_authentication(cls, *, payment_id: str, now: datetime, card: CardSnapshot, **fields: Any) -> Payment:
        """A new payment refused by 3-D Secure: no authorisation is attempted."""
        payment = cls._new(payment_id=payment_id, now=now, **fields)
        payment.refuse_authentication(card, now)
        return payment

    # ------------------------------------------------------------------------------ attempts

    @property
    def attempts_left(self) -> int:
        return max(0, self.attempt_budget - len(self.attempts))

    def _begin_attempt(self, card: CardSnapshot, status: AttemptStatus, now: datetime) -> None:
        if self.status is not PaymentStatus.REQUIRES_PAYMENT_METHOD:
            raise ConflictError(f"a payment that is {self.status.value} cannot take a payment method")
        if self.attempts_left <= 0:
            raise ConflictError("the payment has used all its attempts", code=ErrorCode.ATTEMPTS_EXHAUSTED)
        self.card = card
        self.attempts.append(Attempt(card, status, now, now))
        self.updated_at = now

    def _end_attempt(self, status: AttemptStatus, code: ErrorCode | None, now: datetime) -> None:
        if self.attempts:
            attempt = self.attempts[-1]
            attempt.status, attempt.error_code, attempt.updated_at = status, code, now

    def begin_attempt(
        self,
        card: CardSnapshot,
        now: datetime,
        *,
        first_operation: OperationType | None = None,
        data: ProcessorData = NO_PROCESSOR_DATA,
    ) -> Operation:
        """A card for this payment, sent to the acquirer now: the PA, DB or RB is opened."""
        self._begin_attempt(card, AttemptStatus.PROCESSING, now)
        self.status = PaymentStatus.PROCESSING
        self.error_code = self.error_message = None
        return self._open(first_operation or self.authorisation_type, self.amount, now, data)

    def await_shopper(self, card: CardSnapshot, next_action: NextAction, now: datetime) -> None:
        """A card for this payment whose holder must first pass a 3-D Secure challenge."""
        self._begin_attempt(card, AttemptStatus.REQUIRES_ACTION, now)
        self.status = PaymentStatus.REQUIRES_ACTION
        self.error_code = self.error_message = None
        self.next_action = next_action
        self.events.append(Event(self.merchant_id, self.mode, ev.PAYMENT_REQUIRES_ACTION, self.id, self.summary(), now))

    def refuse_authentication(self, card: CardSnapshot, now: datetime) -> None:
        """A card for this payment that 3-D Secure refused at once: the attempt fails, no money moved."""
        self._begin_attempt(card, AttemptStatus.PROCESSING, now)
        self._fail(ErrorCode.THREEDS_FAILED, now)

    def refuse_by_risk(self, card: CardSnapshot, decision: dict[str, Any], code: ErrorCode, now: datetime) -> None:
        """A card for this payment that a risk control refused: the attempt fails like a decline, with the
        rule or list entry that decided kept on it; nothing reached 3-D Secure or the acquirer."""
        self._begin_attempt(card, AttemptStatus.PROCESSING, now)
        self.attempts[-1].risk = decision
        self._fail(code, now)

    @classmethod
    def refused_by_risk(
        cls,
        *,
        payment_id: str,
        now: datetime,
        card: CardSnapshot,
        decision: dict[str, Any],
        code: ErrorCode,
        **fields: Any,
    ) -> Payment:
        """A new payment whose attempt a risk control refused."""
        payment = cls._new(payment_id=payment_id, now=now, **fields)
        payment.refuse_by_risk(card, decision, code, now)
        return payment

    @property
    def risk(self) -> dict[str, Any] | None:
        """Why risk refused the last attempt, if it did."""
        return self.attempts[-1].risk if self.attempts else None

    @property
    def authorisation_type(self) -> OperationType:
        """PA for a payment captured later, DB for one captured at once."""
        return OperationType.DB if self.capture_method is CaptureMethod.AUTOMATIC else OperationType.PA

    def begin_authorisation(self, now: datetime, data: ProcessorData = NO_PROCESSOR_DATA) -> Operation:
        """After the shopper authenticated: the PA or DB goes to the acquirer now."""
        if self.status is not PaymentStatus.REQUIRES_ACTION:
            raise ConflictError(f"a payment that is {self.status.value} is not waiting for authentication")
        self.status = PaymentStatus.PROCESSING
        self.next_action = None
        if self.attempts:
            self.attempts[-1].status = AttemptStatus.PROCESSING
        return self._open(self.authorisation_type, self.amount, now, data)

    def fail_authentication(self, now: datetime) -> None:
        if self.status is PaymentStatus.REQUIRES_ACTION:
            self.next_action = None
            self._fail(ErrorCode.THREEDS_FAILED, now)

    def expire(self, now: datetime) -> None:
        """The shopper never finished authenticating."""
        if self.status is PaymentStatus.REQUIRES_ACTION:
            self.status = PaymentStatus.EXPIRED
            self.next_action = None
            self.updated_at = now
            self._end_attempt(AttemptStatus.EXPIRED, None, now)
            self.events.append(Event(self.merchant_id, self.mode, ev.PAYMENT_EXPIRED, self.id, self.summary(), now))

    def cancel(self, now: datetime) -> None:
        """Call off an intent still waiting for its card (no money has moved): no card may follow."""
        if self.status is not PaymentStatus.REQUIRES_PAYMENT_METHOD:
            raise ConflictError(f"a payment that is {self.status.value} cannot be canceled")
        self.status = PaymentStatus.CANCELED
        self.updated_at = now
        self.events.append(Event(self.merchant_id, self.mode, ev.PAYMENT_CANCELED, self.id, self.summary(), now))

    # --------------------------------------------------------------------------------- queries

    def operation(self, operation_id: str) -> Operation:
        for op in self.operations:
            if op.id == operation_id:
                return op
        raise KeyError(operation_id)

    def _open_ops(self, *types: OperationType) -> list[Operation]:
        return [op for op in self.operations if op.is_open and op.type in types]

    @property
    def refundable(self) -> int:
        pending = sum(op.amount for op in self._open_ops(OperationType.RF))
        return self.amount_captured - self.amount_refunded - self.amount_charged_back - pending

    # ------------------------------------------------------------------------------- beginnings

    def begin_capture(self, amount: int | None, now: datetime, data: ProcessorData = NO_PROCESSOR_DATA) -> Operation:
        self._require_authorized("captured")
        amount = self.amount_authorized if amount is None else amount
        _check_positive(amount)
        if amount > self.amount_authorized:
            raise ConflictError("amount exceeds the authorised amount", code=ErrorCode.AMOUNT_TOO_LARGE, field="amount")
        return self._open(OperationType.CP, amount, now, data)

    def begin_void(
        self, now: datetime, *, reason: str | None = None, data: ProcessorData = NO_PROCESSOR_DATA
    ) -> Operation:
        self._require_authorized("voided")
        op = self._open(OperationType.RV, self.amount_authorized, now, data)
        op.reason_code = reason
        return op

    # ------------------------------------------------------------------ the acquirer's own reports

    def chargeback(self, amount: int | None, reason_code: str, processor_ref: str | None, now: datetime) -> Operation:
        """The issuer took money back (CB), whole or part, for `reason_code`."""
        if self.status not in (PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.CHARGED_BACK):
            raise ConflictError(f"a payment that is {self.status.value} cannot be charged back")
        available = (
            self.amount_captured
            - self.amount_refunded
            - self.amount_charged_back
            - sum(op.amount for op in self._open_ops(OperationType.RF))
        )
        # Everything captured is refunded, charged back or being refunded: what is left, not a bad amount.
        if available <= 0:
            raise ConflictError(
                "nothing is left to charge back on this payment", code=ErrorCode.AMOUNT_TOO_LARGE, field="amount"
            )
        amount = available if amount is None else amount
        _check_positive(amount)
        if amount > available:
            raise ConflictError(
                f"amount exceeds what can still be charged back ({available})",
                code=ErrorCode.AMOUNT_TOO_LARGE,
                field="amount",
            )
        op = self._reported(OperationType.CB, amount, processor_ref, now, reason_code)
        self.amount_charged_back += amount
        self.status = PaymentStatus.CHARGED_BACK
        self._emit(ev.CHARGEBACK_CREATED, now, operation=op)
        return op

    def chargeback_reversal(self, amount: int | None, processor_ref: str | None, now: datetime) -> Operation:
        """The issuer gave back (CR) money it had charged back."""
        if self.amount_charged_back <= 0:
            raise ConflictError("the payment has no chargeback to reverse")
        amount = self.amount_charged_back if amount is None else amount
        _check_positive(amount)
        if amount > self.amount_charged_back:
            raise ConflictError(
                f"amount exceeds the amount charged back ({self.amount_charged_back})",
                code=ErrorCode.AMOUNT_TOO_LARGE,
                field="amount",
            )
        op = self._reported(OperationType.CR, amount, processor_ref, now, None)
        self.amount_charged_back -= amount
        if self.amount_charged_back == 0:
            self.status = PaymentStatus.PARTIALLY_REFUNDED if self.amount_refunded else PaymentStatus.CAPTURED
        self._emit(ev.CHARGEBACK_REVERSED, now, operation=op)
        return op

    def receipt(self, amount: int | None, processor_ref: str | None, now: datetime) -> Operation:
        """The acquirer confirms the funds of an authorised (asynchronous) payment (RC): it is captured."""
        self._require_authorized("confirmed")
        amount = self.amount_authorized if amount is None else amount
        _check_positive(amount)
        if amount > self.amount_authorized:
            raise ConflictError("amount exceeds the authorised amount", code=ErrorCode.AMOUNT_TOO_LARGE, field="amount")
        op = self._reported(OperationType.RC, amount, processor_ref, now, None)
        self.amount_captured = amount
        self.status = PaymentStatus.CAPTURED
        self._emit(ev.PAYMENT_COMPLETED, now, operation=op)
        return op

    def _reported(
        self, kind: OperationType, amount: int, processor_ref: str | None, now: datetime, reason: str | None
    ) -> Operation:
        op = self._open(kind, amount, now)
        op.reason_code = reason
        self._settle(op, OperationStatus.SUCCEEDED, ProcessorResult(Outcome.APPROVED, processor_ref=processor_ref), now)
        return op

    def begin_refund(self, amount: int | None, now: datetime, data: ProcessorData = NO_PROCESSOR_DATA) -> Operation:
        if self.status not in (PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED):
            raise ConflictError(f"a payment that is {self.status.value} cannot be refunded")
        available = self.refundable
        amount = available if amount is None else amount
        if available <= 0:
            raise ConflictError(
                "nothing is left to refund on this payment", code=ErrorCode.AMOUNT_TOO_LARGE, field="amount"
            )
        _check_positive(amount)
        if amount > available:
            raise ConflictError(
                f"amount exceeds the refundable amount ({available})",
                code=ErrorCode.AMOUNT_TOO_LARGE,
                field="amount",
            )
        return self._open(OperationType.RF, amount, now, data)

    def _require_authorized(self, verb: str) -> None:
        if self.status is not PaymentStatus.AUTHORIZED:
            raise ConflictError(f"a payment that is {self.status.value} cannot be {verb}")
        if self._open_ops(OperationType.CP, OperationType.RV):
            raise ConflictError(f"the payment cannot be {verb}: a capture or void is already in progress")

    def _open(
        self, kind: OperationType, amount: int, now: datetime, data: ProcessorData = NO_PROCESSOR_DATA
    ) -> Operation:
        op = Operation(new_id("op"), self.id, kind, amount, OperationStatus.PENDING, now, now, processor_data=data)
        self.operations.append(op)
        self.new_operations.append(op)
        self.updated_at = now
        return op

    # --------------------------------------------------------------------------------- results

    def record(self, operation_id: str, result: ProcessorResult, now: datetime) -> None:
        """Settle an open operation with the processor's result and move the payment on."""
        op = self.operation(operation_id)
        if not op.is_open:
            return  # already settled (a retry, or recovery got there first)
        if result.outcome is Outcome.UNKNOWN:
            self._settle(op, OperationStatus.UNKNOWN, result, now)
            return
        approved = result.outcome is Outcome.APPROVED
        if not approved:
            code = result.error_code or ErrorCode.CARD_DECLINED
            if result.outcome is Outcome.UNAVAILABLE:
                code = ErrorCode.NETWORK_ERROR
            result = ProcessorResult(result.outcome, result.processor_ref, result.response_code, code, result.auth_code)
        self._settle(op, OperationStatus.SUCCEEDED if approved else OperationStatus.FAILED, result, now)
        if op.type in AUTHORISATIONS:
            self._after_authorisation(op, approved, result, now)
        elif op.type is OperationType.CP:
            if approved:
                self.amount_captured = op.amount
                self.status = PaymentStatus.CAPTURED
                self._emit(ev.PAYMENT_COMPLETED, now, operation=op)
            else:
                self._emit(ev.PAYMENT_CAPTURE_FAILED, now, operation=op)
        elif op.type is OperationType.RV:
            if approved and op.reason_code == EXPIRY_REASON:
                self.status = PaymentStatus.EXPIRED
                self._emit(ev.PAYMENT_EXPIRED, now, operation=op)
            elif approved:
                self.status = PaymentStatus.VOIDED
                self._emit(ev.PAYMENT_VOIDED, now, operation=op)
            else:
                self._emit(ev.PAYMENT_VOID_FAILED, now, operation=op)
        elif op.type is OperationType.RF:
            if approved:
                self.amount_refunded += op.amount
                fully = self.amount_refunded >= self.amount_captured - self.amount_charged_back
                self.status = PaymentStatus.REFUNDED if fully else PaymentStatus.PARTIALLY_REFUNDED
                self._emit(ev.REFUND_SUCCEEDED, now, operation=op)
            else:
                self._emit(ev.REFUND_FAILED, now, operation=op)

    def _after_authorisation(self, op: Operation, approved: bool, result: ProcessorResult, now: datetime) -> None:
        if approved:
            self.amount_authorized = op.amount
            self.processor_ref = result.processor_ref
            self.auth_code = result.auth_code
            self.retrieval_ref = result.retrieval_ref or op.processor_data.retrieval_ref
            self.network_transaction_id = result.network_transaction_id or self.network_transaction_id
            self._end_attempt(AttemptStatus.SUCCEEDED, None, now)
            if op.type in SALES:
                self.amount_captured = op.amount
                self.status = PaymentStatus.CAPTURED
                self._emit(ev.PAYMENT_COMPLETED, now, operation=op)
            else:
                self.status = PaymentStatus.AUTHORIZED
                self._emit(ev.PAYMENT_AUTHORIZED, now, operation=op)
        else:
            self._fail(result.error_code or ErrorCode.CARD_DECLINED, now, operation=op)

    def abandon_authorisation(self, operation_id: str, reversal: ProcessorResult | None, now: datetime) -> None:
        """End an authorisation whose outcome was never known: it failed with NETWORK_ERROR. When the
        acquirer had approved it, `reversal` is the approved reversal, kept as an RV operation."""
        op = self.operation(operation_id)
        if not op.is_open:
            return
        self._settle(
            op,
            OperationStatus.FAILED,
            ProcessorResult(Outcome.DECLINED, error_code=ErrorCode.NETWORK_ERROR),
            now,
        )
        if reversal is not None:
            rv = self._open(OperationType.RV, op.amount, now)
            self._settle(rv, OperationStatus.SUCCEEDED, reversal, now)
        self._fail(ErrorCode.NETWORK_ERROR, now, operation=op)

    def _fail(self, code: ErrorCode, now: datetime, *, operation: Operation | None = None) -> None:
        """An attempt failed: the payment waits for another card while its budget lasts, else it fails."""
        self.error_code = code
        self.error_message = ERROR_MESSAGES.get(code, "the payment failed")
        self.updated_at = now
        self._end_attempt(AttemptStatus.FAILED, code, now)
        if self.attempts_left > 0:
            self.status = PaymentStatus.REQUIRES_PAYMENT_METHOD
            self._emit(ev.PAYMENT_ATTEMPT_FAILED, now, operation=operation)
        else:
            self.status = PaymentStatus.FAILED
            self._emit(ev.PAYMENT_FAILED, now, operation=operation)

    def _settle(self, op: Operation, status: OperationStatus, result: ProcessorResult, now: datetime) -> None:
        op.status = status
        op.error_code = result.error_code if status is OperationStatus.FAILED else None
        op.processor_ref = result.processor_ref or op.processor_ref
        op.response_code = result.response_code
        op.auth_code = result.auth_code
        op.updated_at = now
        self.updated_at = now
        if op not in self.new_operations and op not in self.changed_operations:
            self.changed_operations.append(op)

    def _emit(self, kind: str, now: datetime, *, operation: Operation | None) -> None:
        data = self.summary()
        if operation is not None:
            data["operation"] = {
                "id": operation.id,
                "type": operation.type.value,
                "amount": operation.amount,
                "status": operation.status.value,
                "response_code": operation.response_code,  # the acquirer's own answer (field 39's, or its vendor's)
            }
        self.events.append(Event(self.merchant_id, self.mode, kind, self.id, data, now))

    def summary(self) -> dict[str, Any]:
        """The card-free facts an event carries."""
        return {
            "payment_id": self.id,
            "status": self.status.value,
            "amount": self.amount,
            "currency": self.currency,
            "amount_authorized": self.amount_authorized,
            "amount_captured": self.amount_captured,
            "amount_refunded": self.amount_refunded,
            "reference": self.reference,
            "channel": self.channel,
            "channel_data": self.channel_data,
            "retrieval_ref": self.retrieval_ref,
            # The authorisation last sent (PA, DB or RB): what a follow-up's event is about.
            "authorization_id": next((op.id for op in reversed(self.operations) if op.type in AUTHORISATIONS), None),
            "card": {"bin": self.card.bin, "last4": self.card.last4, "brand": self.card.brand} if self.card else None,
            "error_code": self.error_code.value if self.error_code else None,
            "fee": self.fee,
            "risk": self.risk,
        }

    def clear_changes(self) -> None:
        self.new_operations.clear()
        self.changed_operations.clear()
        self.events.clear()


def _check_positive(amount: int) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValidationError("amount must be a positive integer number of minor units", field="amount")


ERROR_MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.CARD_DECLINED: "The card was declined by the issuer.",
    ErrorCode.INSUFFICIENT_FUNDS: "The card has insufficient funds.",
    ErrorCode.EXPIRED_CARD: "The card has expired.",
    ErrorCode.INVALID_CVV: "The card security code is incorrect.",
    ErrorCode.THREEDS_FAILED: "3-D Secure authentication failed.",
    ErrorCode.NETWORK_ERROR: "The acquirer could not be reached; nothing was charged.",
    ErrorCode.CARD_BLOCKED: "The card is blocked by the merchant's risk controls.",
    ErrorCode.CUSTOMER_BLOCKED: "The customer is blocked by the merchant's risk controls.",
    ErrorCode.RISK_DECLINED: "The payment was declined by the merchant's risk controls.",
}
