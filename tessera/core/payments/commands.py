"""What a dialect asks the payments service to do: typed, validated, money in minor units."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tessera.core.payments.model import CaptureMethod
from tessera.core.vault.pan import CardData


@dataclass(frozen=True, slots=True)
class CardSource:
    card: CardData


@dataclass(frozen=True, slots=True)
class TokenSource:
    token_id: str


PaymentSource = CardSource | TokenSource


@dataclass(frozen=True, slots=True)
class CreatePayment:
    merchant_id: str
    mode: str
    amount: int
    currency: str
    source: PaymentSource
    capture_method: CaptureMethod = CaptureMethod.AUTOMATIC
    reference: str | None = None
    description: str | None = None
    return_url: str | None = None
    customer: dict[str, Any] | None = None
    browser: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class CapturePayment:
    merchant_id: str
    mode: str
    payment_id: str
    amount: int | None = None


@dataclass(frozen=True, slots=True)
class VoidPayment:
    merchant_id: str
    mode: str
    payment_id: str


@dataclass(frozen=True, slots=True)
class RefundPayment:
    merchant_id: str
    mode: str
    payment_id: str
    amount: int | None = None
    reason: str | None = None
