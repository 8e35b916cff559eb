"""Saved cards: what the vault keeps of a card, and the values it derives from one.

A saved card holds its owner's `identifier`, brand, type, BIN, last 4, expiry, names, the encrypted
PAN, a keyed fingerprint (to find the same card again without decrypting), a random `card_token`,
a random network token and the record of the cardholder's consent. Never a CVV.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tessera.core.vault.brands import Brand
from tessera.core.vault.pan import PAN


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


# Where each brand's network tokens come from: (token BIN range prefix, token length). Real networks
# issue tokens (DPANs) from BIN ranges they reserve for tokens, so a token tells a reader its network
# and nothing about the issuer; Tessera stands in for that token service and reserves one range per
# brand, at the top of the brand's own number space so a token still reads as that brand. The length
# is the brand's usual one (Amex numbers are 15 digits), never the card's: the card's BIN and last 4
# are shown separately already, and its length would only narrow down which card it is.
_TOKEN_RANGES: dict[Brand, tuple[str, int]] = {
    Brand.VISA: ("4999", 16),
    Brand.MASTERCARD: ("5599", 16),
    Brand.AMEX: ("3799", 15),
    Brand.DISCOVER: ("6499", 16),
    Brand.JCB: ("3589", 16),
    Brand.DINERS: ("3699", 16),
    Brand.RUPAY: ("6530", 16),
    Brand.UNIONPAY: ("6299", 16),
    Brand.MAESTRO: ("5899", 16),
}


def _luhn_check_digit(partial: str) -> str:
    """The digit that makes `partial` + it pass the Luhn check."""
    total = 0
    for index, char in enumerate(reversed(partial)):
        value = (ord(char) - 48) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str(-total % 10)


def new_network_token(pan: PAN) -> str:
    """A stand-in for a token service's token, new for each saved card: a random, Luhn-valid number
    from the brand's token range. It is drawn from the CSPRNG, so two merchants (or two owners) saving
    one card get unrelated tokens and no token can serve as a card fingerprint; a draw that would start
    with the card's own BIN (a card issued inside a token range) or hold its number is drawn again."""
    prefix, length = _TOKEN_RANGES[pan.brand]
    digits = pan.reveal()
    body_length = length - len(prefix) - 1
    while True:
        partial = prefix + f"{secrets.randbelow(10**body_length):0{body_length}d}"
        candidate = partial + _luhn_check_digit(partial)
        if not candidate.startswith(pan.bin) and digits not in candidate:
            return candidate


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
