"""The payment aggregate's states and amount rules, with no I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tessera.core.errors import ConflictError, ErrorCode
from tessera.core.payments.model import (
    CaptureMethod,
    CardSnapshot,
    NextAction,
    Operation,
    OperationStatus,
    OperationType,
    Payment,
    PaymentStatus,
)
from tessera.core.ports import Outcome, ProcessorResult

NOW = datetime(2026, 11, 21, tzinfo=UTC)
OK = ProcessorResult(Outcome.APPROVED, processor_ref="ref", auth_code="123456")


def _payment(method: CaptureMethod = CaptureMethod.MANUAL, amount: int = 1000) -> Payment:
    payment, op = Payment.start(
        merchant_id="mer_1",
        mode="test",
        amount=amount,
        currency="INR",
        capture_method=method,
        card=CardSnapshot("424242", "4242", "visa", 12, 2030),
        processor="sandbox",
        now=NOW,
    )
    payment.record(op.id, OK, NOW)
    return payment


def _sale(last4: str) -> tuple[Payment, Operation]:
    """A new sale of 5 paise, its DB pending, on a Visa card ending in `last4`."""
    return Payment.start(
        merchant_id="m",
        mode="test",
        amount=5,
        currency="INR",
        capture_method=CaptureMethod.AUTOMATIC,
        card=CardSnapshot("400000", last4, "visa", 1, 2030),
        processor="sandbox",
        now=NOW,
    )


def test_a_sale_is_a_debit_and_captures_at_once() -> None:
    p = _payment(CaptureMethod.AUTOMATIC)
    assert p.status is PaymentStatus.CAPTURED
    assert p.operations[0].type is OperationType.DB
    assert (p.amount_authorized, p.amount_captured) == (1000, 1000)
    assert [e.type for e in p.events] == ["payment.completed"]


def test_a_pre_authorisation_reserves_and_waits() -> None:
    p = _payment()
    assert p.status is PaymentStatus.AUTHORIZED and p.amount_captured == 0
    assert [e.type for e in p.events] == ["payment.authorized"]


def test_capture_above_authorized_amount_is_refused() -> None:
    with pytest.raises(ConflictError) as caught:
        _payment().begin_capture(1001, NOW)
    assert caught.value.code is ErrorCode.AMOUNT_TOO_LARGE


def test_a_second_capture_while_one_is_pending_is_refused() -> None:
    p = _payment()
    p.begin_capture(500, NOW)
    with pytest.raises(ConflictError):
        p.begin_capture(500, NOW)
    with pytest.raises(ConflictError):
        p.begin_void(NOW)


def test_partial_capture_then_refunds_count_pending_ones_against_the_limit() -> None:
    p = _payment()
    cap = p.begin_capture(600, NOW)
    p.record(cap.id, OK, NOW)
    assert p.status is PaymentStatus.CAPTURED and p.amount_captured == 600
    first = p.begin_refund(400, NOW)
    assert p.refundable == 200
    with pytest.raises(ConflictError):
        p.begin_refund(201, NOW)
    p.record(first.id, OK, NOW)
    assert p.status is PaymentStatus.PARTIALLY_REFUNDED and p.amount_refunded == 400
    rest = p.begin_refund(None, NOW)
    assert rest.amount == 200
    p.record(rest.id, OK, NOW)
    assert p.status is PaymentStatus.REFUNDED


def test_a_declined_refund_releases_its_reservation() -> None:
    p = _payment(CaptureMethod.AUTOMATIC)
    op = p.begin_refund(1000, NOW)
    p.record(op.id, ProcessorResult(Outcome.DECLINED, error_code=ErrorCode.CARD_DECLINED), NOW)
    assert p.refundable == 1000 and p.amount_refunded == 0
    assert p.status is PaymentStatus.CAPTURED
    assert p.events[-1].type == "refund.failed"


def test_declined_authorisation_fails_the_payment_with_its_code() -> None:
    payment, op = _sale("9995")
    payment.record(op.id, ProcessorResult(Outcome.DECLINED, error_code=ErrorCode.INSUFFICIENT_FUNDS), NOW)
    assert payment.status is PaymentStatus.FAILED and payment.error_code is ErrorCode.INSUFFICIENT_FUNDS


def test_unavailable_acquirer_is_network_error() -> None:
    payment, op = _sale("0119")
    payment.record(op.id, ProcessorResult(Outcome.UNAVAILABLE), NOW)
    assert payment.error_code is ErrorCode.NETWORK_ERROR


def test_an_unknown_outcome_is_never_approved() -> None:
    payment, op = _sale("0259")
    payment.record(op.id, ProcessorResult(Outcome.UNKNOWN), NOW)
    assert payment.status is PaymentStatus.PROCESSING
    assert op.status is OperationStatus.UNKNOWN and payment.amount_captured == 0
    payment.abandon_authorisation(op.id, ProcessorResult(Outcome.APPROVED, processor_ref="rv"), NOW)
    assert payment.status is PaymentStatus.FAILED and payment.error_code is ErrorCode.NETWORK_ERROR
    assert [(o.type, o.status) for o in payment.operations] == [
        (OperationType.DB, OperationStatus.FAILED),
        (OperationType.RV, OperationStatus.SUCCEEDED),
    ]


def test_a_settled_operation_is_not_settled_twice() -> None:
    p = _payment()
    before = list(p.events)
    p.record(p.operations[0].id, ProcessorResult(Outcome.DECLINED), NOW)
    assert p.status is PaymentStatus.AUTHORIZED and p.events == before


def test_events_carry_no_card_number() -> None:
    p = _payment()
    assert "4242424242424242" not in repr([e.data for e in p.events])


# ------------------------------------------------------------------------------------------ intents

VISA = CardSnapshot("424242", "4242", "visa", 12, 2030)
DECLINE = ProcessorResult(Outcome.DECLINED, error_code=ErrorCode.CARD_DECLINED)


def _intent(budget: int = 3) -> Payment:
    return Payment.intent(
        merchant_id="mer_1",
        mode="test",
        amount=1000,
        currency="INR",
        capture_method=CaptureMethod.AUTOMATIC,
        processor="sandbox",
        attempt_budget=budget,
        now=NOW,
    )


def test_an_intent_has_no_card_and_announces_itself() -> None:
    intent = _intent()
    assert intent.status is PaymentStatus.REQUIRES_PAYMENT_METHOD and intent.card is None
    assert [e.type for e in intent.events] == ["payment.created"] and intent.events[0].data["card"] is None


def test_each_declined_attempt_returns_the_intent_until_its_budget_is_spent() -> None:
    intent = _intent(budget=2)
    first = intent.begin_attempt(VISA, NOW)
    intent.record(first.id, DECLINE, NOW)
    assert intent.status is PaymentStatus.REQUIRES_PAYMENT_METHOD and intent.error_code is ErrorCode.CARD_DECLINED
    assert intent.events[-1].type == "payment.attempt_failed" and intent.attempts_left == 1
    second = intent.begin_attempt(CardSnapshot("555555", "4444", "mastercard", 1, 2031), NOW)
    intent.record(second.id, DECLINE, NOW)
    assert intent.status is PaymentStatus.FAILED and intent.events[-1].type == "payment.failed"
    assert [(a.card.last4, a.status.value) for a in intent.attempts] == [("4242", "failed"), ("4444", "failed")]
    with pytest.raises(ConflictError):
        intent.begin_attempt(VISA, NOW)


def test_an_attempt_refused_by_3ds_or_lost_at_the_acquirer_also_counts() -> None:
    intent = _intent(budget=3)
    intent.refuse_authentication(VISA, NOW)
    assert intent.status is PaymentStatus.REQUIRES_PAYMENT_METHOD and intent.error_code is ErrorCode.THREEDS_FAILED
    op = intent.begin_attempt(VISA, NOW)
    intent.record(op.id, ProcessorResult(Outcome.UNKNOWN), NOW)
    intent.abandon_authorisation(op.id, None, NOW)
    assert intent.status is PaymentStatus.REQUIRES_PAYMENT_METHOD and intent.error_code is ErrorCode.NETWORK_ERROR
    assert intent.attempts_left == 1


def test_a_challenged_attempt_that_succeeds_captures_the_intent() -> None:
    intent = _intent()
    intent.await_shopper(VISA, NextAction("https://acs.example/challenge"), NOW)
    assert intent.status is PaymentStatus.REQUIRES_ACTION and intent.attempts[-1].status.value == "requires_action"
    op = intent.begin_authorisation(NOW)
    intent.record(op.id, OK, NOW)
    assert intent.status is PaymentStatus.CAPTURED and intent.attempts[-1].status.value == "succeeded"


def test_only_an_intent_waiting_for_a_card_takes_one() -> None:
    paid = _payment(CaptureMethod.AUTOMATIC)
    with pytest.raises(ConflictError):
        paid.begin_attempt(VISA, NOW)


def test_a_rebill_is_a_sale_and_a_one_call_payment_has_one_attempt() -> None:
    payment, op = Payment.start(
        merchant_id="m",
        mode="test",
        amount=5,
        currency="INR",
        capture_method=CaptureMethod.AUTOMATIC,
        card=VISA,
        processor="sandbox",
        first_operation=OperationType.RB,
        now=NOW,
    )
    payment.record(op.id, OK, NOW)
    assert payment.status is PaymentStatus.CAPTURED and payment.amount_captured == 5
    assert payment.attempt_budget == 1 and len(payment.attempts) == 1
