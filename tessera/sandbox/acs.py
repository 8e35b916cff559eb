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
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import insert, select, update

from tessera.core.clock import utcnow
from tessera.core.threeds.model import ChallengeCancel, TransStatus, b64url, eci_for, from_b64url
from tessera.core.vault.brands import Brand
from tessera.sandbox import pages
from tessera.sandbox.directory import authentication_value
from tessera.storage import tables as t
from tessera.storage.engine import Database

OTP = "123456"
CHALLENGE_TTL = timedelta(minutes=10)

router = APIRouter(prefix="/sandbox/acs", tags=["sandbox"], include_in_schema=False)

RReqReceiver = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def challenge_store(db: Database) -> Callable[[dict[str, Any]], Awaitable[None]]:
    async def store(values: dict[str, Any]) -> None:
        now = utcnow()
        async with db.begin() as conn:
            await conn.execute(
                insert(t.sandbox_challenges),
                values
                | {"state": "waiting", "form_token_hash": None, "created_at": now, "expires_at": now + CHALLENGE_TTL},
            )

    return store


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _challenge(db: Database, acs_trans_id: str) -> Any:
    async with db.connect() as conn:
        return (
            await conn.execute(select(t.sandbox_challenges).where(t.sandbox_challenges.c.acs_trans_id == acs_trans_id))
        ).first()


@router.post("/challenge", response_class=HTMLResponse)
async def challenge_page(
    request: Request,
    creq: Annotated[str, Form()],
    threeDSSessionData: Annotated[str, Form()] = "",  # noqa: N803
) -> HTMLResponse:
    db: Database = request.app.state.container.db
    try:
        message = from_b64url(creq)
    except ValueError:
        return HTMLResponse(pages.ended("This authentication request could not be read."), status_code=400)
    row = await _challenge(db, str(message.get("acsTransID")))
    if row is None or message.get("threeDSServerTransID") != row.three_ds_server_trans_id:
        return HTMLResponse(pages.ended("This authentication request is not known to your bank."), status_code=404)
    if row.state != "waiting" or row.expires_at <= utcnow():
        return HTMLResponse(pages.ended("This authentication has already ended."), status_code=409)
    token = secrets.token_urlsafe(24)
    async with db.begin() as conn:
        await conn.execute(
            update(t.sandbox_challenges)
            .where(t.sandbox_challenges.c.acs_trans_id == row.acs_trans_id, t.sandbox_challenges.c.state == "waiting")
            .values(form_token_hash=_hash(token))
        )
    return HTMLResponse(pages.challenge(row, form_token=token, session_data=threeDSSessionData))


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
    db: Database = container.db
    row = await _challenge(db, acs_trans_id)
    if row is None or row.form_token_hash is None or not secrets.compare_digest(row.form_token_hash, _hash(form_token)):
        return HTMLResponse(pages.ended("This form was not issued by your bank; nothing was changed."), status_code=403)
    if row.expires_at <= utcnow():
        return HTMLResponse(pages.ended("This authentication has expired; nothing was changed."), status_code=409)
    async with db.begin() as conn:  # exactly one answer: only the first post moves `waiting` on
        claimed = await conn.execute(
            update(t.sandbox_challenges)
            .where(t.sandbox_challenges.c.acs_trans_id == acs_trans_id, t.sandbox_challenges.c.state == "waiting")
            .values(state="answered")
        )
    if claimed.rowcount != 1:
        return HTMLResponse(
            pages.ended("This authentication has already been answered; nothing was changed."), status_code=409
        )
    status = TransStatus.AUTHENTICATED if action == "submit" and otp.strip() == OTP else TransStatus.NOT_AUTHENTICATED
    rreq: dict[str, Any] = {
        "messageType": "RReq",
        "messageVersion": row.message_version,
        "threeDSServerTransID": row.three_ds_server_trans_id,
        "acsTransID": row.acs_trans_id,
        "dsTransID": row.ds_trans_id,
        "messageCategory": "01",
        "transStatus": status.value,
        "authenticationType": "02",
        "interactionCounter": "01",
    }
    if status is TransStatus.AUTHENTICATED:
        rreq["authenticationValue"] = authentication_value(container.sandbox_key, row.acs_trans_id)
        rreq["eci"] = eci_for(Brand(row.brand), status) if row.brand else None
    else:
        rreq["transStatusReason"] = "01"
        if action != "submit":
            rreq["challengeCancel"] = ChallengeCancel.CARDHOLDER_CANCELLED.value
    await container.receive_rreq(rreq)
    cres = {
        "messageType": "CRes",
        "messageVersion": row.message_version,
        "threeDSServerTransID": row.three_ds_server_trans_id,
        "acsTransID": row.acs_trans_id,
        "transStatus": status.value,
        "challengeCompletionInd": "Y",
    }
    return HTMLResponse(
        pages.post_form(
            row.notification_url,
            {"cres": b64url(cres), "threeDSSessionData": threeDSSessionData},
            title="Returning to the merchant",
        )
    )
