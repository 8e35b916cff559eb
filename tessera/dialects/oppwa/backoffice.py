"""Which `700.*` code a back-office operation on a payment gets when it cannot be done (oppwa.md 1.2 and
4.2): said before the core is asked, from the payment as it stands. The core still decides: a refusal it
makes (two requests racing) is said with the operation's generic code (`RACED`). Pure functions.
"""

from __future__ import annotations

from tessera.core.payments.model import OperationStatus, OperationType, Payment, PaymentStatus
from tessera.dialects.oppwa import codes as c

_PENDING = frozenset({PaymentStatus.REQUIRES_ACTION, PaymentStatus.PROCESSING})
_REJECTED = frozenset({PaymentStatus.FAILED, PaymentStatus.EXPIRED, PaymentStatus.CANCELED})
_CAPTURED = frozenset({PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED})
RACED: dict[str, str] = {
    "CP": c.CAPTURE_REFUSED,
    "RF": c.REFUND_REFUSED,
    "RV": c.REVERSAL_REFUSED,
    "RB": c.REF_TYPE,
    "CB": c.CHARGEBACK_REFUSED,
    "CR": c.CR_ALREADY,
    "RC": c.RECEIPT_NEEDS_PA,
}


def _done(p: Payment, kind: OperationType) -> bool:
    return any(op.type is kind and op.status is OperationStatus.SUCCEEDED for op in p.operations)


def refusal(kind: str, p: Payment, amount: int | None) -> str | None:
    """The code refusing `kind` on `p`, or None when the core may be asked."""
    if p.status in _PENDING or any(op.is_open for op in p.operations):
        return c.REF_PENDING
    if p.status in _REJECTED and p.amount_authorized == 0:
        return c.REF_REJECTED
    return _RULES[kind](p, amount)


def _capture(p: Payment, amount: int | None) -> str | None:
    if _done(p, OperationType.DB) or _done(p, OperationType.RB):
        return c.CAPTURE_NEEDS_PA
    if _done(p, OperationType.CP) or _done(p, OperationType.RC):
        return c.REF_ALREADY_DONE  # a capture is a one-time event
    if p.status is not PaymentStatus.AUTHORIZED:
        return c.CAPTURE_REFUSED  # reverted (RV) or expired
    if amount is not None and amount > p.amount_authorized:
        return c.CAPTURE_REFUSED
    return None


def _refund(p: Payment, amount: int | None) -> str | None:
    if p.status is PaymentStatus.CHARGED_BACK:
        return c.REF_CHARGED_BACK
    if p.status is PaymentStatus.AUTHORIZED:
        return c.REFUND_NEEDS_CAPTURE
    if p.status not in _CAPTURED or p.refundable <= 0:
        return c.REFUND_REFUSED  # reversed, or everything refunded
    if amount is not None and amount > p.refundable:
        return c.REFUND_REFUSED
    return None


def _reversal(p: Payment, amount: int | None) -> str | None:
    if p.status is PaymentStatus.CHARGED_BACK:
        return c.REF_CHARGED_BACK
    if p.status in (PaymentStatus.VOIDED, PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED):
        return c.REVERSAL_REFUSED
    if p.status is not PaymentStatus.AUTHORIZED:
        return c.REF_NOT_REVERSIBLE  # captured: the money moved, only a refund returns it
    return None


def _rebill(p: Payment, amount: int | None) -> str | None:
    if p.card_token is None:
        return c.REF_NO_ACCOUNT
    if p.amount_captured <= 0:
        return c.REF_TYPE
    if amount is None:
        return c.AMOUNT_MISSING
    return None


def _chargeback(p: Payment, amount: int | None) -> str | None:
    if _done(p, OperationType.CB):
        return c.REF_MULTIPLE_CB  # one chargeback per payment
    if p.status not in _CAPTURED:
        return c.CHARGEBACK_NEEDS_CAPTURE
    available = p.amount_captured - p.amount_refunded - p.amount_charged_back
    if available <= 0 or (amount is not None and amount > available):
        return c.CHARGEBACK_REFUSED
    return None


def _chargeback_reversal(p: Payment, amount: int | None) -> str | None:
    if not _done(p, OperationType.CB):
        return c.CR_NO_CHARGEBACK
    if p.amount_charged_back <= 0 or (amount is not None and amount > p.amount_charged_back):
        return c.CR_ALREADY
    return None


def _receipt(p: Payment, amount: int | None) -> str | None:
    if p.status is not PaymentStatus.AUTHORIZED:
        return (
            c.RECEIPT_NEEDS_PA if not (_done(p, OperationType.RC) or _done(p, OperationType.CP)) else c.REF_ALREADY_DONE
        )
    if amount is not None and amount > p.amount_authorized:
        return c.CAPTURE_REFUSED
    return None


_RULES = {
    "CP": _capture,
    "RF": _refund,
    "RV": _reversal,
    "RB": _rebill,
    "CB": _chargeback,
    "CR": _chargeback_reversal,
    "RC": _receipt,
}
