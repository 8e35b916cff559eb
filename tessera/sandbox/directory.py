"""The sandbox directory server: answers AReqs as the issuers' ACSs would, by the test-card table.

It checks an AReq the way a directory server does (required fields, formats) and answers with an ARes,
or an `Erro` message naming the field. Its authentication values are 20 bytes (HMAC of the ACS
transaction id under the sandbox's key), so the sandbox acquirer can tell a real one from a made-up one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import timedelta
from typing import Any

from tessera.core.clock import utcnow
from tessera.core.threeds.model import MESSAGE_VERSION, TransStatus, eci_for, new_trans_id
from tessera.core.vault.brands import detect
from tessera.core.vault.pan import mask
from tessera.processors.sandbox.cards import ThreeDS, lookup
from tessera.sandbox.ports import Challenge, ChallengeStore

CHALLENGE_TTL = timedelta(minutes=10)  # how long the ACS serves a challenge

_REQUIRED = (
    "messageType",
    "messageVersion",
    "threeDSServerTransID",
    "deviceChannel",
    "messageCategory",
    "acctNumber",
    "purchaseAmount",
    "purchaseCurrency",
    "purchaseExponent",
    "purchaseDate",
    "notificationURL",
    "browserAcceptHeader",
    "browserUserAgent",
    "browserIP",
)
_FORMATS = {
    "acctNumber": re.compile(r"^\d{13,19}$"),
    "purchaseAmount": re.compile(r"^\d{1,48}$"),
    "purchaseCurrency": re.compile(r"^\d{3}$"),
    "purchaseExponent": re.compile(r"^\d$"),
    "purchaseDate": re.compile(r"^\d{14}$"),
    "cardExpiryDate": re.compile(r"^\d{4}$"),
}
_STATUS = {
    ThreeDS.FRICTIONLESS: TransStatus.AUTHENTICATED,
    ThreeDS.ATTEMPTED: TransStatus.ATTEMPTED,
    ThreeDS.UNAVAILABLE: TransStatus.UNAVAILABLE,
    ThreeDS.REJECTED: TransStatus.NOT_AUTHENTICATED,
    ThreeDS.CHALLENGE: TransStatus.CHALLENGE,
}
_REASONS = {TransStatus.UNAVAILABLE: "22", TransStatus.NOT_AUTHENTICATED: "01"}


def authentication_value(key: bytes, acs_trans_id: str) -> str:
    return base64.b64encode(hmac.new(key, acs_trans_id.encode(), hashlib.sha256).digest()[:20]).decode()


def is_genuine(key: bytes, acs_trans_id: str, value: str) -> bool:
    return hmac.compare_digest(authentication_value(key, acs_trans_id), value)


class SandboxDirectoryServer:
    def __init__(self, *, acs_url: str, key: bytes, challenges: ChallengeStore | None = None) -> None:
        self._acs_url = acs_url
        self._key = key
        self._challenges = challenges  # the ACS's own record of the challenges it will serve

    async def is_enrolled(self, pan_digits: str) -> bool:
        return lookup(pan_digits).enrolled

    async def authenticate(self, areq: dict[str, Any]) -> dict[str, Any]:
        error = _check(areq)
        if error is not None:
            return error
        card = lookup(areq["acctNumber"])
        status = _STATUS[card.threeds] if card.enrolled else TransStatus.UNAVAILABLE
        reason = _REASONS.get(status) if card.enrolled else "13"  # 13: cardholder not enrolled
        acs_trans_id, ds_trans_id = new_trans_id(), new_trans_id()
        ares: dict[str, Any] = {
            "messageType": "ARes",
            "messageVersion": areq["messageVersion"],
            "threeDSServerTransID": areq["threeDSServerTransID"],
            "acsTransID": acs_trans_id,
            "dsTransID": ds_trans_id,
            "transStatus": status.value,
            "acsReferenceNumber": "TESSERA-SANDBOX-ACS",
            "dsReferenceNumber": "TESSERA-SANDBOX-DS",
        }
        brand = detect(areq["acctNumber"])
        if status in (TransStatus.AUTHENTICATED, TransStatus.ATTEMPTED):
            ares["authenticationValue"] = authentication_value(self._key, acs_trans_id)
            ares["authenticationType"] = "02"
        if brand is not None and (eci := eci_for(brand, status)) is not None and status is not TransStatus.CHALLENGE:
            ares["eci"] = eci
        if reason is not None and status in (TransStatus.UNAVAILABLE, TransStatus.NOT_AUTHENTICATED):
            ares["transStatusReason"] = reason
        if status is TransStatus.CHALLENGE:
            ares["acsURL"] = self._acs_url
            ares["acsChallengeMandated"] = "Y"
            ares["authenticationType"] = "02"
            if self._challenges is not None:
                now = utcnow()
                await self._challenges.add(
                    Challenge(
                        acs_trans_id=acs_trans_id,
                        three_ds_server_trans_id=areq["threeDSServerTransID"],
                        ds_trans_id=ds_trans_id,
                        message_version=areq["messageVersion"],
                        notification_url=areq["notificationURL"],
                        merchant_name=str(areq.get("merchantName") or "")[:40],
                        amount=int(areq["purchaseAmount"]),
                        currency_numeric=areq["purchaseCurrency"],
                        exponent=int(areq["purchaseExponent"]),
                        masked_card=mask(areq["acctNumber"]),
                        brand=brand.value if brand else "",
                        created_at=now,
                        expires_at=now + CHALLENGE_TTL,
                    )
                )
        return ares


def _check(areq: dict[str, Any]) -> dict[str, Any] | None:
    for field in _REQUIRED:
        if areq.get(field) in (None, ""):
            return _erro(areq, "201", "A message element required as defined in the specification is missing", field)
    if areq["messageType"] != "AReq":
        return _erro(areq, "101", "Message is not AReq", "messageType")
    if areq["messageVersion"] != MESSAGE_VERSION:
        return _erro(areq, "102", "Message version is not supported", "messageVersion")
    for field, pattern in _FORMATS.items():
        value = areq.get(field)
        if value is not None and not pattern.match(str(value)):
            return _erro(areq, "203", "Format of one or more elements is invalid", field)
    return None


def _erro(areq: dict[str, Any], code: str, description: str, detail: str) -> dict[str, Any]:
    return {
        "messageType": "Erro",
        "messageVersion": areq.get("messageVersion") or MESSAGE_VERSION,
        "threeDSServerTransID": areq.get("threeDSServerTransID"),
        "errorCode": code,
        "errorComponent": "D",
        "errorDescription": description,
        "errorDetail": detail,
    }
