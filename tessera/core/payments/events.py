"""Events: facts about a payment, written in the same transaction as the change they describe."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tessera.core.ids import new_id


@dataclass(frozen=True, slots=True)
class Event:
    merchant_id: str
    mode: str
    type: str
    payment_id: str | None
    data: dict[str, Any]
    created_at: datetime
    id: str = field(default_factory=lambda: new_id("evt"))


# Event types, past tense, dotted as webhook consumers expect.
PAYMENT_CREATED = "payment.created"  # an intent, waiting for its card
PAYMENT_ATTEMPT_FAILED = "payment.attempt_failed"  # a declined card; the payment waits for another
PAYMENT_AUTHORIZED = "payment.authorized"
PAYMENT_COMPLETED = "payment.completed"
PAYMENT_FAILED = "payment.failed"
PAYMENT_REQUIRES_ACTION = "payment.requires_action"
PAYMENT_VOIDED = "payment.voided"
PAYMENT_EXPIRED = "payment.expired"
PAYMENT_CANCELED = "payment.canceled"  # an intent called off before a card paid it
PAYMENT_CAPTURE_FAILED = "payment.capture_failed"
PAYMENT_VOID_FAILED = "payment.void_failed"
REFUND_SUCCEEDED = "refund.succeeded"
REFUND_FAILED = "refund.failed"
CHARGEBACK_CREATED = "chargeback.created"
CHARGEBACK_REVERSED = "chargeback.reversed"
