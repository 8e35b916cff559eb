"""Pages the shopper's browser visits at the gateway: the start of a 3-D Secure challenge, and the
return from it (where the ACS posts the CRes), which sends the shopper back to the merchant.

The merchant's page learns the payment's id and status from the redirect, but must not trust it: the
payment (`GET /v1/payments/{id}`) and later the webhooks are the truth, since the status was settled
server to server (the RReq) before the browser was sent back.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tessera.core.payments.model import Payment, PaymentStatus
from tessera.core.threeds.model import from_b64url
from tessera.dialects import dialect_named
from tessera.sandbox import pages

router = APIRouter(prefix="/shopper", tags=["shopper"], include_in_schema=False)


def return_to_merchant(payment: Payment) -> Response:
    """Back to the merchant's return_url with the payment's id and status, in the words of the dialect
    that made it (its channel)."""
    dialect = dialect_named(payment.channel)
    found = dialect.shopper_return(payment)
    url = dialect.shopper_return_url(payment)
    if not url:
        return HTMLResponse(pages.status_page(payment.id, found["status"]))
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(found)) if q)
    return RedirectResponse(urlunsplit(parts._replace(query=query)), status_code=303)


async def _payment(request: Request, payment_id: str) -> Payment | None:
    container = request.app.state.container
    async with container.uow(read_only=True) as tx:
        payment: Payment | None = await tx.payments.get_by_id(payment_id)
    return payment


@router.get("/payments/{payment_id}/authenticate", response_class=HTMLResponse)
async def start_challenge(request: Request, payment_id: str) -> Response:
    """Where a merchant redirects the shopper (the native `redirect_url`): a form that carries the
    CReq to the issuer's ACS, submitted by script or by the shopper's click."""
    payment = await _payment(request, payment_id)
    if payment is None:
        return HTMLResponse(pages.ended("There is no such payment."), status_code=404)
    if payment.status is PaymentStatus.REQUIRES_ACTION and payment.next_action is not None:
        action = payment.next_action
        return HTMLResponse(pages.post_form(action.url, action.params, title="Contacting your bank"))
    return return_to_merchant(payment)


@router.post("/3ds/notify", response_class=HTMLResponse)
async def challenge_finished(
    request: Request,
    cres: Annotated[str, Form()],
    threeDSSessionData: Annotated[str, Form()] = "",  # noqa: N803
) -> Response:
    """The ACS's final CRes, through the browser: unsigned, so it only says the window closed."""
    try:
        message = from_b64url(cres)
    except ValueError:
        return HTMLResponse(pages.ended("The bank's answer could not be read."), status_code=400)
    container = request.app.state.container
    async with container.uow(read_only=True) as tx:
        record = await tx.authentications.get_by_trans_id(str(message.get("threeDSServerTransID")))
        payment = await tx.payments.get_by_id(record.payment_id) if record else None
    if record is None or payment is None or message.get("acsTransID") != record.acs_trans_id:
        return HTMLResponse(pages.ended("This authentication is not known."), status_code=404)
    return return_to_merchant(payment)
