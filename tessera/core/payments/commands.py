"""What a dialect asks the payments service to do: typed, validated, money in minor units."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tessera.core.payments.model import CaptureMethod, SaveCardOnSuccess

__all__ = [
    "CapturePayment",
    "CardSource",
    "CreatePayment",
    "PaymentSource",
    "RebillPayment",
    "RefundPayment",
    "SaveCardOnSuccess",
    "SavedCardSource",
    "TokenSource",
    "VoidPayment",
]
from tessera.core.vault.pan import CardData


@dataclass(frozen=True, slots=True)
class CardSource:
    card: CardData


@dataclass(frozen=True, slots=True)
class TokenSource:
    token_id: str


@dataclass(frozen=True, slots=True)
class SavedCardSource:
    card_token: str
    identifier: str | None  # the owner the merchant says is paying; must be the card's


PaymentSource = CardSource | TokenSource | SavedCardSource


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
    save_card: SaveCardOnSuccess | None = None
    merchant_name: str = ""
    threeds_policy: str = "auto"
    mop_type: str | None = None
    order_reference: str | None = None  # unique per merchant and mode: a repeat is refused, never charged
    order_details: dict[str, Any] | None = None


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


@dataclass(frozen=True, slots=True)
class RebillPayment:
    merchant_id: str
    mode: str
    payment_id: str
    amount: int
    reference: str | None = None
