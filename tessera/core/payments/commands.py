"""What a dialect asks the payments service to do: typed, validated, money in minor units."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tessera.core.payments.model import CaptureMethod, SaveCardOnSuccess

__all__ = [
    "CancelPayment",
    "CapturePayment",
    "CardSource",
    "ConfirmPayment",
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
    """A new payment. With a `source` it is confirmed at once (one attempt: a decline fails it);
    without one it is an intent in `requires_payment_method`, confirmed later with `ConfirmPayment`.

    The core checks every rule itself (amount, currency, return URL, browser data, the merchant's 3-D
    Secure policy and attempt budget): a dialect only translates its vendor's words into this."""

    merchant_id: str
    mode: str
    amount: int
    currency: str
    source: PaymentSource | None = None
    capture_method: CaptureMethod = CaptureMethod.AUTOMATIC
    reference: str | None = None
    description: str | None = None
    return_url: str | None = None
    customer: dict[str, Any] | None = None
    browser: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    save_card: SaveCardOnSuccess | None = None
    channel: str = "native"  # the dialect making it
    channel_data: dict[str, Any] | None = None  # the dialect's own words, kept opaque
    unique_reference: str | None = None  # unique per merchant and mode: a repeat is refused, never charged
    payment_id: str | None = None  # an id the dialect chose (a `pay_` id of core.ids' shape), else a new one


@dataclass(frozen=True, slots=True)
class ConfirmPayment:
    """A card for a payment waiting in `requires_payment_method` (an intent)."""

    merchant_id: str
    mode: str
    payment_id: str
    source: PaymentSource
    browser: dict[str, Any] | None = None
    return_url: str | None = None
    save_card: SaveCardOnSuccess | None = None


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
class CancelPayment:
    """Call off an intent still waiting for its card."""

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
    channel: str = "native"
