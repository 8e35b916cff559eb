"""What a payment holds besides its states and operations: the card it remembers (never more than
BIN, last 4 and expiry), each attempt, where the shopper's browser goes next, the card to save once a
challenge succeeds, and what it shows of its 3-D Secure authentication. Plain values, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from tessera.core.errors import ErrorCode
from tessera.core.vault.cards import CardType


@dataclass(frozen=True, slots=True)
class CardSnapshot:
    """What a payment remembers of its card: never more than BIN, last 4 and expiry."""

    bin: str
    last4: str
    brand: str
    exp_month: int
    exp_year: int
    holder_name: str | None = None


class AttemptStatus(StrEnum):
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"


@dataclass(slots=True)
class Attempt:
    """One card tried on a payment: which card (BIN and last 4 only), how it ended, and when."""

    card: CardSnapshot
    status: AttemptStatus
    created_at: datetime
    updated_at: datetime
    error_code: ErrorCode | None = None
    # Why risk refused it (core.risk's RiskDecision as a dict: code, rule_type, rule_id, reason), if it did.
    risk: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "card": {
                "bin": self.card.bin,
                "last4": self.card.last4,
                "brand": self.card.brand,
                "exp_month": self.card.exp_month,
                "exp_year": self.card.exp_year,
            },
            "status": self.status.value,
            "error_code": self.error_code.value if self.error_code else None,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        } | ({"risk": self.risk} if self.risk else {})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Attempt:
        card = data["card"]
        return cls(
            card=CardSnapshot(card["bin"], card["last4"], card["brand"], card["exp_month"], card["exp_year"]),
            status=AttemptStatus(data["status"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            updated_at=datetime.fromisoformat(data["updated_at"]),
            error_code=ErrorCode(data["error_code"]) if data.get("error_code") else None,
            risk=data.get("risk"),
        )


@dataclass(frozen=True, slots=True)
class NextAction:
    """Where the shopper's browser must go next (3-D Secure); each dialect renders it its own way."""

    url: str
    method: str = "GET"
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SaveCardOnSuccess:
    """Save the card for `identifier` if, and only if, the payment succeeds."""

    identifier: str
    credential: str
    consent_ip: str | None = None
    card_type: CardType | None = None
    nickname: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier,
            "credential": self.credential,
            "consent_ip": self.consent_ip,
            "card_type": self.card_type.value if self.card_type else None,
            "nickname": self.nickname,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SaveCardOnSuccess:
        card_type = data.get("card_type")
        return cls(
            identifier=data["identifier"],
            credential=data["credential"],
            consent_ip=data.get("consent_ip"),
            card_type=CardType(card_type) if card_type else None,
            nickname=data.get("nickname"),
        )


@dataclass(frozen=True, slots=True)
class AuthenticationSummary:
    """What a payment shows of its 3-D Secure authentication: never the authentication value."""

    status: str  # transStatus: Y, A, N, U, R, C (still waiting)
    version: str
    eci: str | None = None
    liability_shift: bool = False
