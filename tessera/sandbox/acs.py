"""The sandbox ACS: the issuer's challenge page, one answer per challenge, and the RReq it sends.

The page is plain server-rendered HTML that works without JavaScript. Each rendering of the page
carries a fresh random form token (only its hash is kept), and a challenge accepts exactly one answer:
a replayed or forged form post changes nothing. `123456` authenticates; anything else, or Cancel, does
not. The result goes to the 3DS server as an RReq (server to server) before the browser is sent back
to the merchant's notification URL with the CRes.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from tessera.core.clock import utcnow
from tessera.core.threeds.model import ChallengeCancel, TransStatus, b64url, eci_for, from_b64url
from tessera.core.vault.brands import Brand
from tessera.sandbox import pages
from tessera.sandbox.directory import authentication_value
from tessera.sandbox.ports import ChallengeState, ChallengeStore

OTP = "123456"

router = APIRouter(prefix="/sandbox/acs", tags=["sandbox"], include_in_schema=False)

RReqReceiver = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _challenges(request: Request) -> ChallengeStore:
    challenges: ChallengeStore = request.app.state.container.challenges
    return challenges


@router.post("/challenge", response_class=HTMLResponse)
async def challenge_page(
    request: Request,
    creq: Annotated[str, Form()],
    threeDSSessionData: Annotated[str, Form()] = "",  # noqa: N803
) -> HTMLResponse:
    challenges = _challenges(request)
    try:
        message = from_b64url(creq)
    except ValueError:
        return HTMLResponse(pages.ended("This authentication request could not be read."), status_code=400)
    challenge = await challenges.get(str(message.get("acsTransID")))
    if challenge is None or message.get("threeDSServerTransID") != challenge.three_ds_server_trans_id:
        return HTMLResponse(pages.ended("This authentication request is not known to your bank."), status_code=404)
    if challenge.state is not ChallengeState.WAITING or challenge.expires_at <= utcnow():
        return HTMLResponse(pages.ended("This authentication has already ended."), status_code=409)
    token = secrets.token_urlsafe(24)
    await challenges.issue_form_token(challenge.acs_trans_id, _hash(token))
    return HTMLResponse(pages.challenge(challenge, form_token=token, session_data=threeDSSessionData))


@router.post("/challenge/answer", response_class=HTMLResponse)
async def answer(
    request: Request,
    acs_trans_id: Annotated[str, Form()],
    form_token: Annotated[str, Form()],
    action: Annotated[str, Form()] = "submit",
    otp: Annotated[str, Form()] = "",
    threeDSSessionData: Annotated[str, Form()] = "",  # noqa: N803
) -> HTMLResponse:
    container = request.app.state.container
    challenges = _challenges(request)
    challenge = await challenges.get(acs_trans_id)
    if (
        challenge is None
        or challenge.form_token_hash is None
        or not secrets.compare_digest(challenge.form_token_hash, _hash(form_token))
    ):
        return HTMLResponse(pages.ended("This form was not issued by your bank; nothing was changed."), status_code=403)
    if challenge.expires_at <= utcnow():
        return HTMLResponse(pages.ended("This authentication has expired; nothing was changed."), status_code=409)
    if not await challenges.claim_answer(acs_trans_id):  # exactly one answer, even when two posts race
        return HTMLResponse(
            pages.ended("This authentication has already been answered; nothing was changed."), status_code=409
        )
    status = TransStatus.AUTHENTICATED if action == "submit" and otp.strip() == OTP else TransStatus.NOT_AUTHENTICATED
    rreq: dict[str, Any] = {
        "messageType": "RReq",
        "messageVersion": challenge.message_version,
        "threeDSServerTransID": challenge.three_ds_server_trans_id,
        "acsTransID": challenge.acs_trans_id,
        "dsTransID": challenge.ds_trans_id,
        "messageCategory": "01",
        "transStatus": status.value,
        "authenticationType": "02",
        "interactionCounter": "01",
    }
    if status is TransStatus.AUTHENTICATED:
        rreq["authenticationValue"] = authentication_value(container.sandbox_key, challenge.acs_trans_id)
        rreq["eci"] = eci_for(Brand(challenge.brand), status) if challenge.brand else None
    else:
        rreq["transStatusReason"] = "01"
        if action != "submit":
            rreq["challengeCancel"] = ChallengeCancel.CARDHOLDER_CANCELLED.value
    await container.receive_rreq(rreq)
    cres = {
        "messageType": "CRes",
        "messageVersion": challenge.message_version,
        "threeDSServerTransID": challenge.three_ds_server_trans_id,
        "acsTransID": challenge.acs_trans_id,
        "transStatus": status.value,
        "challengeCompletionInd": "Y",
    }
    return HTMLResponse(
        pages.post_form(
            challenge.notification_url,
            {"cres": b64url(cres), "threeDSSessionData": threeDSSessionData},
            title="Returning to the merchant",
        )
    )
