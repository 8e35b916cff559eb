"""The payment aggregate's states and amount rules, with no I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tessera.core.errors import ConflictError, ErrorCode
from tessera.core.payments.model import (
    CaptureMethod,
    CardSnapshot,
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
