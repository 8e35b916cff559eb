"""Saved cards: what the vault keeps of a card, and the values it derives from one.

A saved card holds its owner's `identifier`, brand, type, BIN, last 4, expiry, names, the encrypted
PAN, a keyed fingerprint (to find the same card again without decrypting), a random `card_token`,
a network token and the record of the cardholder's consent. Never a CVV.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tessera.core.vault.brands import Brand
from tessera.core.vault.pan import PAN, luhn_valid


class CardType(StrEnum):
    CREDIT = "CREDIT"
    DEBIT = "DEBIT"
    PREPAID = "PREPAID"


class CardStatus(StrEnum):
    ACTIVE = "active"
    DELETED = "deleted"


@dataclass(slots=True)
class SavedCard:
    id: str
    card_token: str
    merchant_id: str
    mode: str
    identifier: str
    brand: Brand
    card_type: CardType | None
    bin: str
    last4: str
    exp_month: int
    exp_year: int
    holder_name: str | None
    nickname: str | None
    label: str
    pan_ciphertext: bytes
    key_version: int
    fingerprint: str
    network_token: str
    consent_at: datetime
    consent_ip: str | None
    consent_credential: str
    created_at: datetime
    status: CardStatus = CardStatus.ACTIVE
    deleted_at: datetime | None = None

    def __repr__(self) -> str:
        return f"SavedCard(card_token={self.card_token!r}, card={self.bin}…{self.last4}, status={self.status.value})"


def new_card_token() -> str:
    """Random and unrelated to the card (80 bits, hex like seed 004's `c8a28bca2021ead49124`)."""
    return secrets.token_hex(10)


def pan_context(card_id: str) -> bytes:
    return f"card:{card_id}:pan".encode()


def card_label(brand: Brand, last4: str, nickname: str | None) -> str:
    return nickname.strip() if nickname and nickname.strip() else f"{BRAND_NAMES[brand]} •••• {last4}"


def network_token(pan: PAN, digest: bytes) -> str:
    """A stand-in for a token service's token: Luhn-valid, same BIN (so the same brand) and length as
    the PAN, never the PAN, and stable for the card because `digest` is a keyed hash of it."""
    digits = pan.reveal()
    body_length = len(digits) - 7  # six BIN digits, the body, one check digit
    number = int.from_bytes(digest, "big")
    attempt = 0
    while True:
        body = f"{(number + attempt) % 10**body_length:0{body_length}d}"
        partial = digits[:6] + body
        candidate = next(partial + d for d in "0123456789" if luhn_valid(partial + d))
        if candidate != digits:
            return candidate
        attempt += 1


BRAND_NAMES: dict[Brand, str] = {
    Brand.VISA: "Visa",
    Brand.MASTERCARD: "Mastercard",
    Brand.AMEX: "American Express",
    Brand.DISCOVER: "Discover",
    Brand.JCB: "JCB",
    Brand.DINERS: "Diners Club",
    Brand.RUPAY: "RuPay",
    Brand.UNIONPAY: "UnionPay",
    Brand.MAESTRO: "Maestro",
}
