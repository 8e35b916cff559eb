"""What the sandbox ACS needs kept between the AReq and the shopper's answer: its challenges.

The sandbox directory server records a challenge when it answers an AReq with `C`; the ACS's pages read
it, bind each rendering to a fresh form token, and accept exactly one answer. `storage.sandbox`
implements `ChallengeStore`; the sandbox imports no storage. The ACS is the simulated issuer, not the
core, so its port lives here and not in `core.ports`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class ChallengeState(StrEnum):
    WAITING = "waiting"  # the shopper has not answered yet
    ANSWERED = "answered"  # the one answer was taken; nothing changes it
    EXPIRED = "expired"  # allowed by the table; an unanswered challenge past `expires_at` is refused anyway


@dataclass(frozen=True, slots=True)
class Challenge:
    """One challenge the ACS will serve: what its page shows (never a full card number) and where
    the browser goes back to."""

    acs_trans_id: str
    three_ds_server_trans_id: str
    ds_trans_id: str
    message_version: str
    notification_url: str
    merchant_name: str
    amount: int  # minor units of `currency_numeric`, with `exponent` decimals
    currency_numeric: str
    exponent: int
    masked_card: str
    brand: str
    created_at: datetime
    expires_at: datetime
    state: ChallengeState = ChallengeState.WAITING
    form_token_hash: str | None = None  # of the form token of the latest rendering of the page


class ChallengeStore(Protocol):
    async def add(self, challenge: Challenge) -> None: ...
    async def get(self, acs_trans_id: str) -> Challenge | None: ...
    async def issue_form_token(self, acs_trans_id: str, form_token_hash: str) -> None:
        """Bind the challenge to a newly rendered form (the previous form stops working), while it waits."""
        ...

    async def claim_answer(self, acs_trans_id: str) -> bool:
        """Move a waiting challenge to answered; False if it was not waiting (only one answer counts,
        even when two posts race)."""
        ...
