"""The native API's routes under /v1: parse, translate, one service call, render."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from tessera.core.clock import iso_utc
from tessera.core.errors import PermissionDeniedError, ValidationError
from tessera.core.merchants import MerchantContext, require_secret
from tessera.core.payments.commands import CapturePayment, RebillPayment, RefundPayment, VoidPayment
from tessera.core.payments.model import Payment
from tessera.core.ports import ReportKind
from tessera.core.services import MAX_SEQUENCE, Services
from tessera.dialects._common.deps import AnyKeyCtx, SecretCtx, ServicesDep, idempotency_key_header
from tessera.dialects._common.hot_route import HotRoute, hot, hot_request
from tessera.dialects._common.idempotency import idempotent
from tessera.dialects._common.responses import FastJSONResponse
from tessera.dialects.native import risk, translate, webhooks
from tessera.dialects.native.schemas import (
    CaptureIn,
    CardCreate,
    CardList,
    CardOut,
    ChargebackIn,
    ErrorBody,
    KnownEventType,
    PaymentConfirm,
    PaymentCreate,
    PaymentList,
    PaymentOut,
    RebillIn,
    RefundIn,
    ReversalIn,
    TokenCreate,
    TokenOut,
)

router = APIRouter(prefix="/v1", tags=["native"], route_class=HotRoute)


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorBody} for code in codes}


_POST_ERRORS = _errors(400, 401, 403, 404, 409, 422)
_GET_ERRORS = _errors(400, 401, 403, 404)
_IDEMPOTENT = [Depends(idempotency_key_header)]
_PAYMENT_ID = "The payment's id (pay_...)"


def _json(body: dict[str, Any], status: int) -> JSONResponse:
    return FastJSONResponse(body, status_code=status)


def _payment(payment: Payment, svc: Services, status: int) -> JSONResponse:
    return _json(translate.render_payment(payment, svc.public_url), status)


async def _create_card_token(body: TokenCreate, request: Request, ctx: MerchantContext, svc: Services) -> Response:
    async def run() -> Response:
        token = await svc.vault.create_token(ctx.merchant_id, ctx.mode, translate.card_data(body.card))
        return _json(translate.render_token(token), 201)

    return await idempotent(request, ctx, svc, run)


async def _create_card_token_hot(request: Request) -> Response | None:
    """`create_card_token` for a well-formed request (`hot_route`); None for anything else."""
    if (found := await hot_request(request, TokenCreate)) is None:
        return None
    body, ctx, svc = found
    return await _create_card_token(body, request, ctx, svc)


@router.post(
    "/tokens",
    status_code=201,
    response_model=TokenOut,
    responses=_POST_ERRORS,
    dependencies=_IDEMPOTENT,
    summary="Tokenize a card (publishable or secret key)",
)
@hot(_create_card_token_hot)
async def create_card_token(body: TokenCreate, request: Request, ctx: AnyKeyCtx, svc: ServicesDep) -> Response:
    return await _create_card_token(body, request, ctx, svc)


async def _create_payment(body: PaymentCreate, request: Request, ctx: MerchantContext, svc: Services) -> Response:
    async def run() -> Response:
        payment = await svc.payments.create(translate.create_command(body, ctx))
        return _payment(payment, svc, translate.CREATED_HTTP.get(payment.status, 201))

    return await idempotent(request, ctx, svc, run)


async def _create_payment_hot(request: Request) -> Response | None:
    """`create_payment` for a well-formed request without FastAPI's per-request work (`hot_route`); None
    for anything else, which FastAPI's handler then parses and refuses with its usual error."""
    if (found := await hot_request(request, PaymentCreate)) is None:
        return None
    body, ctx, svc = found
    return await _create_payment(body, request, require_secret(ctx), svc)


@router.post(
    "/payments",
    status_code=201,
    response_model=PaymentOut,
    responses={202: {"model": PaymentOut, "description": "requires_action"}, **_POST_ERRORS},
    dependencies=_IDEMPOTENT,
    summary="Create a payment with a token or full card data (S2S), or a saved card; with none, an intent",
)
@hot(_create_payment_hot)
async def create_payment(body: PaymentCreate, request: Request, ctx: SecretCtx, svc: ServicesDep) -> Response:
    return await _create_payment(body, request, ctx, svc)


@router.post(
    "/payments/{payment_id}/confirm",
    response_model=PaymentOut,
    responses={202: {"model": PaymentOut, "description": "requires_action"}, **_POST_ERRORS},
    dependencies=_IDEMPOTENT,
    summary="Confirm an intent with its card: a token, full card data or a saved card",
)
async def confirm_payment(
    payment_id: str, body: PaymentConfirm, request: Request, ctx: SecretCtx, svc: ServicesDep
) -> Response:
    async def run() -> Response:
        payment = await svc.payments.confirm(translate.confirm_command(payment_id, body, ctx))
        return _payment(payment, svc, translate.CONFIRMED_HTTP.get(payment.status, 200))

    return await idempotent(request, ctx, svc, run)


@router.get("/payments", response_model=PaymentList, responses=_GET_ERRORS, summary="List payments, newest first")
async def get_payments(
    ctx: SecretCtx,
    svc: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    starting_after: Annotated[
        str | None, Query(max_length=64, pattern="^pay_[0-9a-hjkmnp-tv-z]{26}$", description="cursor: the last id seen")
    ] = None,
    status: Annotated[
        str | None,
        Query(description="Only payments in this status", json_schema_extra={"enum": list(translate.STATUS_FROM_WIRE)}),
    ] = None,
    reference: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    wanted = None
    if status is not None:
        if status not in translate.STATUS_FROM_WIRE:
            raise ValidationError(f"status must be one of {', '.join(translate.STATUS_FROM_WIRE)}", field="status")
        wanted = translate.STATUS_FROM_WIRE[status].value
    found, more = await svc.payments.list(
        ctx.merchant_id, ctx.mode, limit=limit, starting_after=starting_after, status=wanted, reference=reference
    )
    data = [translate.render_payment(p, svc.public_url) for p in found]
    return _json(
        {"object": "list", "data": data, "has_more": more, "next_cursor": data[-1]["id"] if more and data else None},
        200,
    )


@router.get("/payments/{payment_id}", response_model=PaymentOut, responses=_GET_ERRORS, summary="Fetch a payment")
async def get_payment(payment_id: str, ctx: SecretCtx, svc: ServicesDep) -> Response:
    payment = await svc.payments.get(ctx.merchant_id, ctx.mode, payment_id)
    return _payment(payment, svc, 200)


@router.post(
    "/payments/{payment_id}/capture",
    response_model=PaymentOut,
    responses=_POST_ERRORS,
    dependencies=_IDEMPOTENT,
    summary="Capture an authorised payment, whole or part, once",
)
async def capture_payment(
    payment_id: str, request: Request, ctx: SecretCtx, svc: ServicesDep, body: CaptureIn | None = None
) -> Response:
    async def run() -> Response:
        cmd = CapturePayment(ctx.merchant_id, ctx.mode, payment_id, body.amount if body else None)
        return _payment(await svc.payments.capture(cmd), svc, 200)

    return await idempotent(request, ctx, svc, run)


@router.post(
    "/payments/{payment_id}/void",
    response_model=PaymentOut,
    responses=_POST_ERRORS,
    dependencies=_IDEMPOTENT,
    summary="Release an authorisation before capture",
)
async def void_payment(payment_id: str, request: Request, ctx: SecretCtx, svc: ServicesDep) -> Response:
    async def run() -> Response:
        cmd = VoidPayment(ctx.merchant_id, ctx.mode, payment_id)
        return _payment(await svc.payments.void(cmd), svc, 200)

    return await idempotent(request, ctx, svc, run)


@router.post(
    "/payments/{payment_id}/refunds",
    status_code=201,
    response_model=PaymentOut,
    responses=_POST_ERRORS,
    dependencies=_IDEMPOTENT,
    summary="Refund a captured payment, whole or part; several refunds may follow",
)
async def refund_payment(
    payment_id: str, request: Request, ctx: SecretCtx, svc: ServicesDep, body: RefundIn | None = None
) -> Response:
    async def run() -> Response:
        cmd = RefundPayment(
            ctx.merchant_id, ctx.mode, payment_id, body.amount if body else None, body.reason if body else None
        )
        return _payment(await svc.payments.refund(cmd), svc, 201)

    return await idempotent(request, ctx, svc, run)


@router.post(
    "/cards",
    status_code=201,
    response_model=CardOut,
    responses=_POST_ERRORS,
    dependencies=_IDEMPOTENT,
    summary="Save a card in the vault for its owner (consent required)",
)
async def save_card(body: CardCreate, request: Request, ctx: SecretCtx, svc: ServicesDep) -> Response:
    async def run() -> Response:
        client_ip = request.client.host if request.client else None
        cmd = translate.save_command(body, ctx, client_ip)
        card = await svc.vault.save_card(cmd)
        return _json(translate.render_card(card), 201)

    return await idempotent(request, ctx, svc, run)


@router.get("/cards", response_model=CardList, responses=_GET_ERRORS, summary="List an owner's saved cards")
async def list_cards(
    ctx: SecretCtx, svc: ServicesDep, identifier: Annotated[str, Query(min_length=1, max_length=200)]
) -> Response:
    cards = await svc.vault.list_cards(ctx.merchant_id, ctx.mode, identifier)
    return _json({"object": "list", "data": [translate.render_card(card) for card in cards]}, 200)


@router.get("/cards/{card_token}", response_model=CardOut, responses=_GET_ERRORS, summary="Fetch a saved card")
async def get_card(card_token: str, ctx: SecretCtx, svc: ServicesDep) -> Response:
    card = await svc.vault.get_card(ctx.merchant_id, ctx.mode, card_token)
    return _json(translate.render_card(card), 200)


@router.delete("/cards/{card_token}", responses=_GET_ERRORS, summary="Delete a saved card; it can no longer pay")
async def delete_card(card_token: str, ctx: SecretCtx, svc: ServicesDep) -> Response:
    card = await svc.vault.delete_card(ctx.merchant_id, ctx.mode, card_token)
    return _json({"card_token": card.card_token, "object": "card", "deleted": True}, 200)


@router.post(
    "/payments/{payment_id}/rebill",
    status_code=201,
    response_model=PaymentOut,
    responses=_POST_ERRORS,
    dependencies=_IDEMPOTENT,
    summary="Charge the saved card of an earlier payment again (merchant-initiated, no CVV, no 3-D Secure)",
)
async def rebill_payment(
    payment_id: str, body: RebillIn, request: Request, ctx: SecretCtx, svc: ServicesDep
) -> Response:
    async def run() -> Response:
        cmd = RebillPayment(ctx.merchant_id, ctx.mode, payment_id, body.amount, body.reference)
        payment = await svc.payments.rebill(cmd)
        return _payment(payment, svc, translate.CREATED_HTTP.get(payment.status, 201))

    return await idempotent(request, ctx, svc, run)


async def _simulate_report(
    kind: ReportKind,
    payment_id: str,
    request: Request,
    ctx: MerchantContext,
    svc: Services,
    amount: int | None,
    reason_code: str | None = None,
) -> Response:
    """Test mode: act as the acquirer reporting `kind` on this payment."""
    if ctx.mode != "test":
        raise PermissionDeniedError("test helpers simulate the acquirer and work only with test keys")

    async def run() -> Response:
        payment = await svc.payments.simulate_report(ctx.merchant_id, ctx.mode, payment_id, kind, amount, reason_code)
        return _payment(payment, svc, 200)

    return await idempotent(request, ctx, svc, run)


@router.post(
    "/test_helpers/payments/{payment_id}/chargeback",
    response_model=PaymentOut,
    responses=_POST_ERRORS,
    dependencies=_IDEMPOTENT,
    summary="Test mode: simulate the acquirer reporting a chargeback",
)
async def simulate_chargeback(
    payment_id: str, request: Request, ctx: SecretCtx, svc: ServicesDep, body: ChargebackIn | None = None
) -> Response:
    amount, reason = (body.amount, body.reason_code) if body else (None, None)
    return await _simulate_report(ReportKind.CHARGEBACK, payment_id, request, ctx, svc, amount, reason)


@router.post(
    "/test_helpers/payments/{payment_id}/chargeback_reversal",
    response_model=PaymentOut,
    responses=_POST_ERRORS,
    dependencies=_IDEMPOTENT,
    summary="Test mode: simulate the acquirer reporting a chargeback reversal",
)
async def simulate_chargeback_reversal(
    payment_id: str, request: Request, ctx: SecretCtx, svc: ServicesDep, body: ReversalIn | None = None
) -> Response:
    amount = body.amount if body else None
    return await _simulate_report(ReportKind.CHARGEBACK_REVERSAL, payment_id, request, ctx, svc, amount)


@router.post(
    "/test_helpers/payments/{payment_id}/receipt",
    response_model=PaymentOut,
    responses=_POST_ERRORS,
    dependencies=_IDEMPOTENT,
    summary="Test mode: simulate the acquirer confirming an authorised payment's funds (RC)",
)
async def simulate_receipt(
    payment_id: str, request: Request, ctx: SecretCtx, svc: ServicesDep, body: CaptureIn | None = None
) -> Response:
    amount = body.amount if body else None
    return await _simulate_report(ReportKind.RECEIPT, payment_id, request, ctx, svc, amount)


@router.get("/events", responses=_GET_ERRORS, summary="Events in the order they happened (sequence numbers)")
async def get_events(
    ctx: SecretCtx,
    svc: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    after: Annotated[int, Query(ge=0, le=MAX_SEQUENCE, description="return events numbered after this sequence")] = 0,
    type: Annotated[list[KnownEventType] | None, Query(description="only these event types")] = None,  # noqa: A002
) -> Response:
    found, more = await svc.list_events(ctx.merchant_id, ctx.mode, limit=limit, after=after, types=type)
    data = [
        {
            **event,
            "object": "event",
            "created_at": iso_utc(event["created_at"]),
            "livemode": ctx.mode == "live",
        }
        for event in found
    ]
    return _json({"object": "list", "data": data, "has_more": more}, 200)


router.include_router(webhooks.router)
router.include_router(risk.router)
