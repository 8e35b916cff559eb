"""Which processor capabilities each operation needs, checked before anything is committed.

An operation the processor cannot do must be refused while nothing is durable: committed first, it
would fail inside the call, read as an unknown outcome that no inquiry can resolve, and wedge the
payment. So the service asks here first, and the answer is a clear 4xx in every dialect.
"""

from __future__ import annotations

from tessera.core.errors import NotSupportedError
from tessera.core.payments.model import Operation, OperationType, Payment
from tessera.core.ports import Capability, Processor

_NEEDS: dict[OperationType, tuple[Capability, ...]] = {
    OperationType.PA: (Capability.AUTHORIZE,),
    OperationType.DB: (Capability.SALE,),
    OperationType.RB: (Capability.SALE, Capability.MERCHANT_INITIATED),
    OperationType.CP: (Capability.CAPTURE,),
    OperationType.RV: (Capability.VOID,),
    OperationType.RF: (Capability.REFUND,),
}
_WORDS: dict[Capability, str] = {
    Capability.AUTHORIZE: "authorise without capturing",
    Capability.SALE: "take a sale",
    Capability.MERCHANT_INITIATED: "take merchant-initiated payments",
    Capability.CAPTURE: "capture",
    Capability.PARTIAL_CAPTURE: "capture part of an authorisation",
    Capability.VOID: "void",
    Capability.REFUND: "refund",
    Capability.PARTIAL_REFUND: "refund part of a payment",
}


def needed(kind: OperationType, amount: int | None = None, payment: Payment | None = None) -> tuple[Capability, ...]:
    """The capabilities an operation of `kind` needs; with the amount and payment, partial ones too."""
    caps = _NEEDS.get(kind, ())
    if payment is not None and amount is not None:
        if kind is OperationType.CP and amount < payment.amount_authorized:
            caps = (*caps, Capability.PARTIAL_CAPTURE)
        if kind is OperationType.RF and amount < payment.amount_captured:
            caps = (*caps, Capability.PARTIAL_REFUND)
    return caps


def require(processor: Processor, caps: tuple[Capability, ...]) -> None:
    missing = [cap for cap in caps if cap not in processor.capabilities]
    if missing:
        raise NotSupportedError(f"the payment's processor cannot {_WORDS.get(missing[0], missing[0].value)}")


def require_for(processor: Processor, op: Operation, payment: Payment) -> None:
    require(processor, needed(op.type, op.amount, payment))
