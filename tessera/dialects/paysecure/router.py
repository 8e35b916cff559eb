"""Paysecure's routes under /paysecure/api/v1 (seed 001): purchases, the S2S card post, the shopper's
callback URL, the purchase's later life, saved cards and the callback signing key.

A purchase is a core payment intent whose id is the purchaseId's bits (`requests.new_purchase_id`), so
`/v1` and the dashboard see the same payment; its S2S post is a confirmation. Handlers parse, make one
core call and render; the rules are the core's.
"""

from __future__ import annotations

import json
from decimal import Decimal
from html import escape
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response

from tessera.core.clock import utcnow
from tessera.core.errors import ConflictError, ErrorCode, NotFoundError, TesseraError, ValidationError
from tessera.core.merchants import MerchantContext
from tessera.core.payments.commands import CancelPayment, RefundPayment, VoidPayment
from tessera.core.payments.model import Payment, PaymentStatus
from tessera.core.payments.rules import check_return_url
from tessera.core.services import Services
from tessera.dialects._common.deps import SecretCtx, ServicesDep, get_services
from tessera.dialects._common.hot_route import HotRoute, hot, secret_caller
from tessera.dialects.paysecure import messages as m
from tessera.dialects.paysecure import purchase as render
from tessera.dialects.paysecure import requests as req
from tessera.dialects.paysecure import schemas as s
from tessera.dialects.paysecure.callback import FORMAT
from tessera.dialects.paysecure.errors import MalformedJsonError, MediaTypeError, RefundNotFoundError
from tessera.dialects.paysecure.identity import KIND

router = APIRouter(prefix="/paysecure/api/v1", tags=["paysecure"], route_class=HotRoute)
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": s.PaysecureErrorOut} for code in (400, 401, 404, 415)}
# For routes whose success is not JSON (a page, a PEM): their errors still are.
_JSON_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"content": {"application/json": {"schema": s.ERROR_SCHEMA}}} for code in (400, 401, 404, 415)
}
_SUCCESS = frozenset({PaymentStatus.CAPTURED, PaymentStatus.AUTHORIZED, PaymentStatus.PARTIALLY_REFUNDED})


class PaysecureError(TesseraError):
    """A refusal in Paysecure's own words (a message of seed 001's list)."""

    def __init__(self, message: str, *, code: ErrorCode = ErrorCode.PARAMETER_INVALID) -> None:
        super().__init__(message, code=code)


async def _json(request: Request, *, required: bool = True) -> Any:
    """The JSON body, decimals kept exact; 415 for another media type, as Paysecure answers."""
    raw = await request.body()
    if not raw and not required:
        return None
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise MediaTypeError("Unsupported media type in request; send application/json.")
    try:
        return json.loads(raw, parse_float=Decimal)
    except (ValueError, RecursionError):
        raise MalformedJsonError(m.BAD_JSON) from None


def _url(svc: Services, purchase_id: str) -> str:
    return f"{svc.public_url}/paysecure/api/v1/payment/{purchase_id}/"


async def _purchase(svc: Services, ctx: MerchantContext, purchase_id: str, *, payment: bool = False) -> Payment:
    """The caller's purchase. With `payment`, a purchase made with the merchant's key of the other mode
    is seed 001's "Different Type of key" refusal rather than "not found"."""
    payment_id = req.payment_id_of(purchase_id)
    if payment_id is None:
        raise NotFoundError(m.NOT_FOUND, field="purchaseId")
    try:
        return await svc.payments.get(ctx.merchant_id, ctx.mode, payment_id)
    except NotFoundError:
        if payment:
            other = await svc.payments.find(payment_id)
            if other is not None and other.merchant_id == ctx.merchant_id and other.mode != ctx.mode:
                raise PaysecureError(m.KEY_TYPE) from None
        raise


def _purchase_out(p: Payment, svc: Services, status: int = 200) -> JSONResponse:
    return JSONResponse(render.render(p, public_url=svc.public_url), status_code=status)


# ------------------------------------------------------------------------------------------ purchases


async def _create_purchase_hot(request: Request) -> Response | None:
    """`create_purchase` without FastAPI's per-request work (`hot_route`), for a request with a bearer
    key; None for anything else, which FastAPI's handler then refuses with its exact error."""
    if (caller := await secret_caller(request)) is None:
        return None
    ctx, svc = caller
    return await _create_purchase(request, ctx, svc)


@router.post(
    "/purchases/",
    status_code=202,
    response_model=s.PaysecurePurchaseOut,
    responses=_ERRORS,
    summary="Create a purchase (seed 001 step 1)",
    openapi_extra=s.json_body(s.PURCHASE_SCHEMA),
)
@hot(_create_purchase_hot)
async def create_purchase(request: Request, ctx: SecretCtx, svc: ServicesDep) -> Response:
    return await _create_purchase(request, ctx, svc)


async def _create_purchase(request: Request, ctx: MerchantContext, svc: Services) -> Response:
    raw = await _json(request)
    new = req.purchase_command(raw, ctx, client_ip=request.client.host if request.client else None)
    brand = await svc.identities.get(ctx.merchant_id, ctx.mode, KIND)
    if new.brand_id != brand.public_id:
        raise ValidationError(m.BRAND_UNKNOWN, field="brand_id")
    check_return_url(ctx.merchant, new.failure_redirect)
    for name, url in new.callbacks.items():
        await svc.webhooks.check_url(ctx.mode, url, name)
    if new.callbacks:  # its callbacks travel through the merchant's paysecure channel endpoint
        await svc.webhooks.channel_endpoint(ctx.merchant_id, ctx.mode, FORMAT, next(iter(new.callbacks.values())))
    payment = await svc.payments.create(new.command)
    return _purchase_out(payment, svc, 202)


router.add_api_route(
    "/purchases",
    create_purchase,
    methods=["POST"],
    status_code=202,
    response_model=s.PaysecurePurchaseOut,
    responses=_ERRORS,
    summary="Create a purchase (the same, without the trailing slash)",
    openapi_extra=s.json_body(s.PURCHASE_SCHEMA),
)


@router.get(
    "/purchases/{purchaseId}/", response_model=s.PaysecurePurchaseOut, responses=_ERRORS, summary="Read a purchase"
)
async def get_purchase(purchaseId: str, ctx: SecretCtx, svc: ServicesDep) -> Response:  # noqa: N803
    return _purchase_out(await _purchase(svc, ctx, purchaseId), svc)


# ------------------------------------------------------------------------------------------ S2S


async def _s2s_post_hot(request: Request) -> Response | None:
    """`s2s_post` without FastAPI's per-request work (`hot_route`), for a request with a bearer key and
    `?s2s=true`; None for anything else, which FastAPI's handler then refuses with its exact error."""
    if request.query_params.get("s2s") != "true" or (caller := await secret_caller(request)) is None:
        return None
    ctx, svc = caller
    return await _s2s_post(request.path_params["purchaseId"], request, ctx, svc)


@router.post(
    "/p/{purchaseId}/",
    status_code=202,
    response_model=s.PaysecureS2SOut,
    responses=_ERRORS,
    summary="Send the card for a purchase, server to server (seed 001 step 2)",
    openapi_extra=s.json_body(s.S2S_SCHEMA),
)
@hot(_s2s_post_hot)
async def s2s_post(
    purchaseId: str,  # noqa: N803
    request: Request,
    ctx: SecretCtx,
    svc: ServicesDep,
    s2s: Annotated[s.S2SFlag, Query(description="must be true: the JSON S2S post")],
) -> Response:
    return await _s2s_post(purchaseId, request, ctx, svc)


async def _s2s_post(purchaseId: str, request: Request, ctx: MerchantContext, svc: Services) -> Response:  # noqa: N803
    raw = await _json(request)
    payment = await _purchase(svc, ctx, purchaseId, payment=True)
    _check_payable(payment)
    identifier = str((payment.customer or {}).get("identifier") or "")
    post = req.s2s_command(raw, ctx, payment.id, identifier, now=utcnow())
    try:
        payment = await svc.payments.confirm(post.command)
    except ConflictError:
        _check_payable(await svc.payments.get(ctx.merchant_id, ctx.mode, payment.id))
        raise PaysecureError(m.NOT_PAYABLE) from None
    except NotFoundError as exc:
        if exc.field in ("saved_card", "card_token"):
            raise ValidationError(m.TOKEN_INVALID, code=ErrorCode.TOKEN_EXPIRED) from None
        raise
    latest = payment.attempts[-1] if payment.attempts else None
    if latest is not None and latest.error_code in m.RISK_CODES:
        # A risk decision is taken before 3-D Secure and the acquirer: the call itself is refused.
        raise TesseraError(m.ERRORS[latest.error_code][2] or "", code=latest.error_code)
    return JSONResponse({"status": "pending", "callback_url": _url(svc, purchaseId), "method": "GET"}, status_code=202)


def _check_payable(payment: Payment) -> None:
    if payment.status is PaymentStatus.REQUIRES_PAYMENT_METHOD and payment.attempts_left > 0:
        return
    if payment.status in (PaymentStatus.FAILED, PaymentStatus.REQUIRES_PAYMENT_METHOD) and payment.attempts_left <= 0:
        raise PaysecureError(m.ATTEMPTS)
    raise PaysecureError(m.NOT_PAYABLE)


async def _shopper_payment_hot(request: Request) -> Response:
    """`shopper_payment` without FastAPI's per-request work (`hot_route`): it takes every request, since
    the route has nothing FastAPI could refuse (a text path parameter, no credentials, no body)."""
    return await _shopper_payment(request.path_params["purchaseId"], await get_services(request))


@router.get(
    "/payment/{purchaseId}/",
    response_class=HTMLResponse,
    responses={303: {"description": "to the purchase's success_redirect or failure_redirect"}, **_JSON_ERRORS},
    summary="The callback_url, opened by the shopper's browser (seed 001 step 3)",
)
@hot(_shopper_payment_hot)
async def shopper_payment(purchaseId: str, svc: ServicesDep) -> Response:  # noqa: N803
    return await _shopper_payment(purchaseId, svc)


async def _shopper_payment(purchaseId: str, svc: Services) -> Response:  # noqa: N803
    payment_id = req.payment_id_of(purchaseId)
    payment = await svc.payments.find(payment_id) if payment_id else None
    if payment is None or payment.channel != req.CHANNEL:
        raise NotFoundError(m.NOT_FOUND, field="purchaseId")
    if payment.status is PaymentStatus.REQUIRES_ACTION and payment.next_action is not None:
        return HTMLResponse(_acs_form(payment.next_action.url, payment.next_action.params))
    if payment.status is PaymentStatus.REQUIRES_PAYMENT_METHOD and not payment.attempts:
        raise PaysecureError(m.NOT_PAYABLE)
    return RedirectResponse(return_url(payment), status_code=303)


def _acs_form(url: str, params: dict[str, str]) -> str:
    fields = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in params.items())
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Contacting your bank</title></head>'
        f'<body><form method="post" action="{escape(url)}">{fields}'
        "<noscript><p>Press Continue to reach your bank.</p></noscript>"
        '<button type="submit">Continue</button></form><script>document.forms[0].submit()</script></body></html>'
    )


def shopper_url(payment: Payment) -> str | None:
    """success_redirect once the money is taken or held, failure_redirect otherwise."""
    data = render.channel(payment)
    if payment.status in _SUCCESS:
        return data.get("success_redirect") or payment.return_url
    if payment.status is PaymentStatus.PROCESSING and data.get("pending_redirect"):
        return str(data["pending_redirect"])
    return data.get("failure_redirect") or payment.return_url


def shopper_params(payment: Payment) -> dict[str, str]:
    return {"purchaseId": req.purchase_id_of(payment.id), "status": render.status(payment).lower()}


def return_url(payment: Payment) -> str:
    url = shopper_url(payment) or "/"
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(shopper_params(payment))) if q)
    return urlunsplit(parts._replace(query=query))


# ------------------------------------------------------------------------------------------ later life


@router.get(
    "/purchases/{purchaseId}/cancel/", response_model=s.PaysecurePurchaseOut, responses=_ERRORS, status_code=202
)
async def cancel_purchase(purchaseId: str, ctx: SecretCtx, svc: ServicesDep) -> Response:  # noqa: N803
    """Cancel: an unpaid purchase takes no card afterwards; a held (skip_capture) one is released."""
    payment = await _purchase(svc, ctx, purchaseId)
    try:
        if payment.status is PaymentStatus.AUTHORIZED:
            payment = await svc.payments.void(VoidPayment(ctx.merchant_id, ctx.mode, payment.id))
        else:
            payment = await svc.payments.cancel(CancelPayment(ctx.merchant_id, ctx.mode, payment.id))
    except ConflictError:
        raise PaysecureError(m.NOT_CANCELLABLE) from None
    return _purchase_out(payment, svc, 202)


router.add_api_route(
    "/purchases/{purchaseId}/cancel/",
    cancel_purchase,
    methods=["POST"],
    status_code=202,
    response_model=s.PaysecurePurchaseOut,
    responses=_ERRORS,
    summary="Cancel (the same, by POST)",
)


@router.post(
    "/purchases/{purchaseId}/capture/",
    status_code=202,
    response_model=s.PaysecureCaptureOut,
    responses=_ERRORS,
    summary="Capture part or all of a held (skip_capture) purchase",
    openapi_extra=s.json_body(s.CAPTURE_SCHEMA, required=False),
)
async def capture_purchase(purchaseId: str, request: Request, ctx: SecretCtx, svc: ServicesDep) -> Response:  # noqa: N803
    raw = await _json(request, required=False)
    payment = await _purchase(svc, ctx, purchaseId)
    if payment.status is not PaymentStatus.AUTHORIZED:
        raise PaysecureError("Only purchases on hold can be captured.")
    held = payment.amount_authorized
    payment = await svc.payments.capture(req.capture_command(raw, ctx, payment.id, payment.currency))
    cur = payment.currency
    body = {
        "purchaseId": purchaseId,
        "status": "PAID" if payment.amount_captured == held else "PARTIALLY_CAPTURED",
        "captured_amount": render.major(payment.amount_captured, cur),
        "released_amount": render.major(held - payment.amount_captured, cur),
        "payment": render.render(payment, public_url=svc.public_url)["payment"],
    }
    return JSONResponse(body, status_code=202)


@router.get(
    "/purchases/{purchaseId}/refund/", response_model=s.PaysecurePurchaseOut, responses=_ERRORS, status_code=202
)
async def full_refund(purchaseId: str, ctx: SecretCtx, svc: ServicesDep) -> Response:  # noqa: N803
    """Refund what is left of a paid purchase."""
    payment = await _purchase(svc, ctx, purchaseId)
    _check_refundable(payment)
    payment = await svc.payments.refund(RefundPayment(ctx.merchant_id, ctx.mode, payment.id, reason="full refund"))
    return _purchase_out(payment, svc, 202)


def _check_refundable(payment: Payment) -> None:
    if payment.status is PaymentStatus.REFUNDED:
        raise PaysecureError(m.FULLY_REFUNDED)
    if payment.status not in (PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED):
        raise PaysecureError(m.NOT_REFUNDABLE)


@router.post(
    "/purchases/{purchaseId}/refund",
    status_code=202,
    response_model=s.PaysecureRefundOut,
    responses=_ERRORS,
    summary="Refund part of a paid purchase",
    openapi_extra=s.json_body(s.REFUND_SCHEMA),
)
async def partial_refund(purchaseId: str, request: Request, ctx: SecretCtx, svc: ServicesDep) -> Response:  # noqa: N803
    raw = await _json(request)
    payment = await _purchase(svc, ctx, purchaseId)
    _check_refundable(payment)
    cmd = req.refund_command(raw, ctx, payment.id, payment.currency)
    if cmd.amount is not None and cmd.amount > payment.refundable:
        raise TesseraError(
            f"Refund amount exceeds refundable amount: {render.major(payment.refundable, payment.currency)}",
            code=ErrorCode.AMOUNT_TOO_LARGE,
        )
    payment = await svc.payments.refund(cmd)
    refund = [op for op in payment.operations if op.type.value == "RF"][-1]
    return JSONResponse(_refund_out(payment, refund.id, purchaseId, cmd.reason), status_code=202)


def _refund_out(payment: Payment, refund_id: str, purchase_id: str, reason: str | None) -> dict[str, Any]:
    op = payment.operation(refund_id)
    done = op.status.value == "succeeded"
    return {
        "refundId": op.id,
        "purchaseId": purchase_id,
        "amount": render.major(op.amount, payment.currency),
        "currency": payment.currency,
        "status": "REFUNDED" if done else ("REFUND_FAILED" if op.status.value == "failed" else "REFUND_IN_PROCESS"),
        "reason": reason,
        "createdOn": int(op.created_at.timestamp()),
        "refundOn": int(op.updated_at.timestamp()) if done else 0,
    }


@router.post(
    "/refundStatus/{purchaseId}/",
    response_model=s.PaysecureRefundOut,
    responses=_ERRORS,
    summary="A refund's status",
    openapi_extra=s.json_body(s.REFUND_STATUS_SCHEMA),
)
async def refund_status(purchaseId: str, request: Request, ctx: SecretCtx, svc: ServicesDep) -> Response:  # noqa: N803
    raw = await _json(request)
    payment = await _purchase(svc, ctx, purchaseId)
    refund_id = raw.get("refundId") if isinstance(raw, dict) else None
    if not isinstance(refund_id, str) or not refund_id:
        raise ValidationError("refundId is missing", code=ErrorCode.PARAMETER_MISSING, field="refundId")
    found = [op for op in payment.operations if op.type.value == "RF" and op.id == refund_id]
    if not found:
        raise RefundNotFoundError("Refund not found for this purchase.")
    return JSONResponse(_refund_out(payment, refund_id, purchaseId, None))


# ------------------------------------------------------------------------------------------ saved cards


@router.get(
    "/listSavedCards",
    response_model=list[s.PaysecureSavedCardOut],
    responses=_ERRORS,
    summary="A customer's saved cards",
)
async def list_saved_cards(
    ctx: SecretCtx,
    svc: ServicesDep,
    customerId: Annotated[str, Query(min_length=1, max_length=200)],  # noqa: N803
    brandId: Annotated[str | None, Query(max_length=64)] = None,  # noqa: N803
) -> Response:
    cards = await svc.vault.list_cards(ctx.merchant_id, ctx.mode, customerId)
    return JSONResponse([{"card_last_four": c.last4, "token_reference": c.card_token} for c in cards])


@router.delete(
    "/tokens/v1/deleteToken/{token}",
    response_model=s.PaysecureMessageOut,
    responses=_ERRORS,
    summary="Delete a saved card",
)
async def delete_token(token: str, ctx: SecretCtx, svc: ServicesDep) -> Response:
    try:
        await svc.vault.delete_card(ctx.merchant_id, ctx.mode, token)
    except NotFoundError:
        raise ValidationError(m.TOKEN_INVALID, code=ErrorCode.TOKEN_EXPIRED) from None
    return JSONResponse({"message": m.TOKEN_DELETED})


# ------------------------------------------------------------------------------------------ signing key


@router.get(
    "/public_key/",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}, **_JSON_ERRORS},
    summary="The public key that verifies this merchant's paysecure-sign callbacks (PEM)",
)
async def public_key(ctx: SecretCtx, svc: ServicesDep) -> Response:
    brand = await svc.identities.get(ctx.merchant_id, ctx.mode, KIND)
    return PlainTextResponse(brand.public_data or "", media_type="text/plain")
