"""EMV 3-D Secure 2.2 values, messages and the rules that turn a result into ECI and liability.

Messages are plain dicts with the specification's field names (`threeDSServerTransID`, `transStatus`,
...), so that a real directory server can replace the sandbox one behind `DirectoryServer` without
translation. An AReq carries the card number: it is built only to be sent, and never logged.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from tessera.core.ids import random_uuid
from tessera.core.vault.brands import Brand

MESSAGE_VERSION = "2.2.0"


class TransStatus(StrEnum):
    AUTHENTICATED = "Y"
    ATTEMPTED = "A"
    NOT_AUTHENTICATED = "N"
    UNAVAILABLE = "U"
    CHALLENGE = "C"
    DECOUPLED = "D"
    REJECTED = "R"
    INFORMATIONAL = "I"


class ChallengeCancel(StrEnum):
    CARDHOLDER_CANCELLED = "01"
    ACS_TIMEOUT = "04"


# ECI by network family and result (primer A.8): Mastercard and Maestro use 02/01/00, the rest 05/06/07.
_MASTERCARD_FAMILY = frozenset({Brand.MASTERCARD, Brand.MAESTRO})
_ECI = {
    TransStatus.AUTHENTICATED: ("02", "05"),
    TransStatus.ATTEMPTED: ("01", "06"),
    TransStatus.UNAVAILABLE: ("00", "07"),
    TransStatus.NOT_AUTHENTICATED: ("00", "07"),
    TransStatus.REJECTED: ("00", "07"),
}


def eci_for(brand: Brand, status: TransStatus) -> str | None:
    pair = _ECI.get(status)
    if pair is None:
        return None
    return pair[0] if brand in _MASTERCARD_FAMILY else pair[1]


def liability_shift(status: TransStatus) -> bool:
    """Authenticated and attempted results carried in the authorisation move fraud liability to the
    issuer (network rules, reported as a flag, not guaranteed)."""
    return status in (TransStatus.AUTHENTICATED, TransStatus.ATTEMPTED)


def new_trans_id() -> str:
    return random_uuid()


def b64url(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def from_b64url(text: str) -> dict[str, Any]:
    """Decode a creq/cres form field, with or without `=` padding."""
    padded = text + "=" * (-len(text) % 4)
    decoded = json.loads(base64.urlsafe_b64decode(padded.encode()))
    if not isinstance(decoded, dict):
        raise ValueError("not a 3-D Secure message")
    return decoded


@dataclass(frozen=True, slots=True)
class BrowserInfo:
    """What an AReq needs of the shopper's browser (primer A.9)."""

    ip: str | None = None
    user_agent: str | None = None
    accept_header: str | None = None
    language: str | None = None
    color_depth: int | None = None
    screen_height: int | None = None
    screen_width: int | None = None
    timezone_offset: int | None = None
    java_enabled: bool | None = None
    javascript_enabled: bool | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> BrowserInfo:
        data = data or {}
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})

    def areq_fields(self) -> dict[str, Any]:
        depth = self.color_depth
        if depth == 30:  # browsers report 30; the specification lists 24 and 32 around it
            depth = 24
        fields: dict[str, Any] = {
            "browserAcceptHeader": self.accept_header or "*/*",
            "browserIP": self.ip,
            "browserJavaEnabled": bool(self.java_enabled),
            "browserJavascriptEnabled": self.javascript_enabled is not False,
            "browserLanguage": (self.language or "en")[:8],
            "browserColorDepth": str(depth) if depth is not None else None,
            "browserScreenHeight": str(self.screen_height) if self.screen_height is not None else None,
            "browserScreenWidth": str(self.screen_width) if self.screen_width is not None else None,
            "browserTZ": str(self.timezone_offset) if self.timezone_offset is not None else None,
            "browserUserAgent": (self.user_agent or "")[:2048],
        }
        return {k: v for k, v in fields.items() if v is not None}


@dataclass(frozen=True, slots=True)
class AuthenticationRequest:
    """The facts of a payment an AReq is built from."""

    pan_digits: str  # revealed only to be put in the AReq sent to the directory server
    exp_month: int
    exp_year: int
    amount: int
    currency_numeric: str
    exponent: int
    merchant_name: str
    notification_url: str
    browser: BrowserInfo
    challenge_indicator: str = "01"  # no preference; "04" when the merchant's policy mandates it

    def __repr__(self) -> str:
        return f"AuthenticationRequest(card=***{self.pan_digits[-4:]}, amount={self.amount})"


def build_areq(req: AuthenticationRequest, *, trans_id: str, now: datetime) -> dict[str, Any]:
    return {
        "messageType": "AReq",
        "messageVersion": MESSAGE_VERSION,
        "threeDSServerTransID": trans_id,
        "deviceChannel": "02",
        "messageCategory": "01",
        "acctNumber": req.pan_digits,
        "cardExpiryDate": f"{req.exp_year % 100:02d}{req.exp_month:02d}",
        "purchaseAmount": str(req.amount),
        "purchaseCurrency": req.currency_numeric,
        "purchaseExponent": str(req.exponent),
        "purchaseDate": now.strftime("%Y%m%d%H%M%S"),
        "merchantName": req.merchant_name[:40],
        "notificationURL": req.notification_url,
        "threeDSCompInd": "U",
        "threeDSRequestorAuthenticationInd": "01",
        "threeDSRequestorChallengeInd": req.challenge_indicator,
        **req.browser.areq_fields(),
    }
