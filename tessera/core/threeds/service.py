"""The 3DS server's decisions: whether to authenticate, and what an ARes or RReq means for a payment.

A result the gateway cannot read, or whose transaction ids do not match, counts as `U` (could not be
performed), never as authenticated: the merchant's policy then decides, as for any `U`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from tessera.core.threeds.model import TransStatus, eci_for, liability_shift
from tessera.core.vault.brands import Brand

_AUTH_VALUE = re.compile(r"^[A-Za-z0-9+/]{26,28}={0,2}$")


class Policy(StrEnum):
    AUTO = "auto"  # authenticate when the card's issuer takes part (its range is enrolled)
    REQUIRED = "required"  # always authenticate; anything short of Y or A fails the payment


class Decision(StrEnum):
    PROCEED = "proceed"  # authorise (with the authentication data, if any)
    CHALLENGE = "challenge"  # the shopper's browser must complete the challenge first
    FAIL = "fail"  # 3DS_FAILED: never authorise


@dataclass(frozen=True, slots=True)
class AuthenticationResult:
    status: TransStatus
    three_ds_server_trans_id: str
    version: str
    ds_trans_id: str | None = None
    acs_trans_id: str | None = None
    eci: str | None = None
    authentication_value: str | None = None  # the CAVV: passed to the acquirer, never shown
    reason: str | None = None
    acs_url: str | None = None

    @property
    def liability_shift(self) -> bool:
        return liability_shift(self.status) and self.authentication_value is not None

    def __repr__(self) -> str:
        return f"AuthenticationResult(status={self.status.value}, eci={self.eci}, version={self.version})"


class DirectoryServer(Protocol):
    """The role a directory server plays for the 3DS server (the sandbox's, or a real one)."""

    async def is_enrolled(self, pan_digits: str) -> bool:
        """Whether the card's range takes part in 3-D Secure (the PRes card-range cache)."""
        ...

    async def authenticate(self, areq: dict[str, Any]) -> dict[str, Any]:
        """Send an AReq; the ARes (or an `Erro` message) comes back."""
        ...


class NoDirectoryServer:
    """A mode with no directory server to reach (live mode on an acquirer link, until a 3DS server is
    connected): no card range is known to be enrolled, and an authentication the merchant's policy insists
    on cannot be performed, so it reads as `U`. Under `auto` the payment is authorised without 3-D Secure
    (ECI 07, no liability shift, as when an issuer's range is not enrolled); under `required` it fails with
    3DS_FAILED instead of silently going through unauthenticated."""

    async def is_enrolled(self, pan_digits: str) -> bool:
        return False

    async def authenticate(self, areq: dict[str, Any]) -> dict[str, Any]:
        return {}  # no ARes: read_ares makes it U, "authentication could not be performed"


def should_authenticate(policy: Policy, enrolled: bool) -> bool:
    return policy is Policy.REQUIRED or enrolled


def read_ares(ares: dict[str, Any], *, trans_id: str, brand: Brand) -> AuthenticationResult:
    """An ARes as a result; anything malformed or mismatched reads as `U`."""
    version = str(ares.get("messageVersion") or "")
    unavailable = AuthenticationResult(TransStatus.UNAVAILABLE, trans_id, version, reason="22")
    if ares.get("messageType") != "ARes" or ares.get("threeDSServerTransID") != trans_id:
        return unavailable
    try:
        status = TransStatus(str(ares.get("transStatus")))
    except ValueError:
        return unavailable
    value = ares.get("authenticationValue")
    if status in (TransStatus.AUTHENTICATED, TransStatus.ATTEMPTED):
        if not isinstance(value, str) or not _AUTH_VALUE.match(value):
            return unavailable  # "authenticated" without a usable CAVV is no authentication
    else:
        value = None
    if status is TransStatus.CHALLENGE and not ares.get("acsURL"):
        return unavailable
    return AuthenticationResult(
        status=status,
        three_ds_server_trans_id=trans_id,
        version=version,
        ds_trans_id=ares.get("dsTransID"),
        acs_trans_id=ares.get("acsTransID"),
        eci=ares.get("eci") or eci_for(brand, status),
        authentication_value=value,
        reason=ares.get("transStatusReason"),
        acs_url=ares.get("acsURL") if status is TransStatus.CHALLENGE else None,
    )


def read_rreq(rreq: dict[str, Any], *, expected: AuthenticationResult, brand: Brand) -> AuthenticationResult:
    """The authoritative result after a challenge; ids must match the ARes's."""
    ids = ("threeDSServerTransID", "acsTransID", "dsTransID")
    mine = (expected.three_ds_server_trans_id, expected.acs_trans_id, expected.ds_trans_id)
    if rreq.get("messageType") != "RReq" or tuple(rreq.get(k) for k in ids) != mine:
        raise ValueError("RReq does not belong to this authentication")
    as_ares = {**rreq, "messageType": "ARes"}
    result = read_ares(as_ares, trans_id=expected.three_ds_server_trans_id, brand=brand)
    if result.status in (TransStatus.CHALLENGE, TransStatus.DECOUPLED):
        raise ValueError("an RReq cannot ask for another challenge")
    return result


def decide(result: AuthenticationResult, policy: Policy) -> Decision:
    status = result.status
    if status in (TransStatus.AUTHENTICATED, TransStatus.ATTEMPTED, TransStatus.INFORMATIONAL):
        return Decision.PROCEED
    if status in (TransStatus.CHALLENGE, TransStatus.DECOUPLED):
        return Decision.CHALLENGE
    if status is TransStatus.UNAVAILABLE and policy is Policy.AUTO:
        return Decision.PROCEED  # without liability shift, at the merchant's risk
    return Decision.FAIL
