"""3-D Secure inside a payment: authenticate before authorising, and finish after a challenge.

`authenticate` runs before the payment's first transaction (a directory server is never called inside
a database transaction). A challenge leaves the payment `requires_action` with its card encrypted on
the authentication record; the ACS's RReq (`receive_rreq`), the authoritative result, then authorises
or fails the payment at once, so the status is final before the shopper's browser is redirected, and
the merchant's page is never trusted for the result. Challenges left unanswered expire.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tessera.core.ids import new_id
from tessera.core.money import exponent, numeric_code
from tessera.core.payments.model import NextAction
from tessera.core.ports import AuthenticationData, Cipher
from tessera.core.threeds.model import (
    MESSAGE_VERSION,
    AuthenticationRequest,
    BrowserInfo,
    TransStatus,
    b64url,
    build_areq,
    new_trans_id,
)
from tessera.core.threeds.records import Authentication, ChallengeState, card_context
from tessera.core.threeds.service import (
    AuthenticationResult,
    Decision,
    DirectoryServer,
    Policy,
    decide,
    read_ares,
    should_authenticate,
)
from tessera.core.vault.pan import CardData

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ThreeDSDeps:
    directory: DirectoryServer
    notification_url: str  # where the ACS posts the final CRes through the shopper's browser
    challenge_ttl: timedelta = timedelta(minutes=10)
    timeout: float = 10.0


@dataclass(slots=True)
class Authenticated:
    """The outcome of `authenticate`: what to do with the payment, and the record to keep."""

    decision: Decision
    result: AuthenticationResult
    record: Authentication

    def next_action(self) -> NextAction:
        creq = {
            "messageType": "CReq",
            "messageVersion": self.result.version or MESSAGE_VERSION,
            "threeDSServerTransID": self.result.three_ds_server_trans_id,
            "acsTransID": self.result.acs_trans_id,
            "challengeWindowSize": "05",
        }
        assert self.result.acs_url is not None
        session = b64url({"payment_id": self.record.payment_id})
        return NextAction(self.result.acs_url, "POST", {"creq": b64url(creq), "threeDSSessionData": session})

    def authorisation_data(self) -> AuthenticationData | None:
        return authentication_data(self.result)


def authentication_data(result: AuthenticationResult) -> AuthenticationData | None:
    if result.status not in (TransStatus.AUTHENTICATED, TransStatus.ATTEMPTED, TransStatus.UNAVAILABLE):
        return None
    return AuthenticationData(
        status=result.status.value,
        eci=result.eci,
        authentication_value=result.authentication_value,
        ds_trans_id=result.ds_trans_id,
        acs_trans_id=result.acs_trans_id,
        version=result.version,
    )


async def authenticate(
    *,
    payment_id: str,
    merchant_id: str,
    mode: str,
    merchant_name: str,
    policy: Policy,
    amount: int,
    currency: str,
    card: CardData,
    browser: dict[str, Any] | None,
    deps: ThreeDSDeps,
    cipher: Cipher,
    now: datetime,
) -> Authenticated | None:
    """Run the AReq/ARes exchange if the policy and the card's enrolment call for it."""
    pan = card.pan.reveal()
    if not should_authenticate(policy, await deps.directory.is_enrolled(pan)):
        return None
    trans_id = new_trans_id()
    request = AuthenticationRequest(
        pan_digits=pan,
        exp_month=card.expiry.month,
        exp_year=card.expiry.year,
        amount=amount,
        currency_numeric=numeric_code(currency),
        exponent=exponent(currency),
        merchant_name=merchant_name,
        notification_url=deps.notification_url,
        browser=BrowserInfo.from_dict(browser),
        challenge_indicator="04" if policy is Policy.REQUIRED else "01",
    )
    try:
        async with asyncio.timeout(deps.timeout):  # no extra task, unlike wait_for
            ares = await deps.directory.authenticate(build_areq(request, trans_id=trans_id, now=now))
    except Exception:  # a directory server that fails or times out: authentication could not be performed
        logger.exception("directory server call failed", extra={"payment_id": payment_id})
        ares = {}
    result = read_ares(ares, trans_id=trans_id, brand=card.pan.brand)
    decision = decide(result, policy)
    record = Authentication(
        id=new_id("auth"),
        payment_id=payment_id,
        merchant_id=merchant_id,
        mode=mode,
        three_ds_server_trans_id=trans_id,
        version=result.version or MESSAGE_VERSION,
        policy=policy.value,
        expires_at=now + deps.challenge_ttl,
        created_at=now,
        updated_at=now,
        acs_trans_id=result.acs_trans_id,
        ds_trans_id=result.ds_trans_id,
        trans_status=result.status,
        trans_status_reason=result.reason,
        eci=result.eci,
        acs_url=result.acs_url,
    )
    if result.authentication_value:
        record.cavv_ciphertext = cipher.encrypt(
            result.authentication_value.encode(), context=card_context(record.id, "cavv")
        )
    if decision is Decision.CHALLENGE:
        record.challenge = ChallengeState.PENDING
        sealed = cipher.encrypt(pan.encode(), context=card_context(record.id, "pan"))
        record.card_ciphertext = sealed
        record.key_version = int.from_bytes(sealed[1:3], "big")
        if card.cvv is not None:
            record.cvv_ciphertext = cipher.encrypt(card.cvv.reveal().encode(), context=card_context(record.id, "cvv"))
        record.exp_month, record.exp_year, record.holder_name = card.expiry.month, card.expiry.year, card.holder_name
    logger.info(
        "3ds outcome=%s",
        result.status.value,
        extra={"payment_id": payment_id, "outcome": decision.value, "code": result.reason},
    )
    return Authenticated(decision, result, record)
