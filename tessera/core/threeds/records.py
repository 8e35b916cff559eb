"""The 3DS server's record of one authentication attempt for one payment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tessera.core.payments.model import AuthenticationSummary
from tessera.core.threeds.model import TransStatus, liability_shift


class ChallengeState(StrEnum):
    NONE = "none"  # frictionless: no browser step
    PENDING = "pending"  # waiting for the shopper's answer
    COMPLETED = "completed"  # the ACS's RReq arrived
    EXPIRED = "expired"  # never answered in time


@dataclass(slots=True)
class Authentication:
    id: str
    payment_id: str
    merchant_id: str
    mode: str
    three_ds_server_trans_id: str
    version: str
    policy: str
    expires_at: datetime
    created_at: datetime
    updated_at: datetime
    acs_trans_id: str | None = None
    ds_trans_id: str | None = None
    trans_status: TransStatus | None = None
    trans_status_reason: str | None = None
    eci: str | None = None
    cavv_ciphertext: bytes | None = None
    acs_url: str | None = None
    challenge: ChallengeState = ChallengeState.NONE
    card_ciphertext: bytes | None = None
    cvv_ciphertext: bytes | None = None
    key_version: int | None = None
    exp_month: int | None = None
    exp_year: int | None = None
    holder_name: str | None = None

    def __repr__(self) -> str:
        status = self.trans_status.value if self.trans_status else None
        return f"Authentication(id={self.id!r}, status={status}, challenge={self.challenge.value})"

    def summary(self) -> AuthenticationSummary:
        status = self.trans_status or TransStatus.CHALLENGE
        return AuthenticationSummary(
            status=status.value,
            version=self.version,
            eci=self.eci,
            liability_shift=liability_shift(status) and self.cavv_ciphertext is not None,
        )

    def forget_card(self) -> None:
        """Erase the waiting card (and its CVV) once it has been authorised or can never be."""
        self.card_ciphertext = None
        self.cvv_ciphertext = None


def card_context(authentication_id: str, field: str) -> bytes:
    return f"authentication:{authentication_id}:{field}".encode()
