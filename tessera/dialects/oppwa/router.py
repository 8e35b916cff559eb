"""OPPWA's routes under /oppwa/v1 (seed 003): initial payments (PA, DB), back-office operations (CP, RF,
RV, RB, CB, CR, RC), the throttled status call, the unthrottled report (`query`), and registrations.

Every call carries `Authorization: Bearer <secret key>` and the merchant's `entityId` (form body for a
POST, query string for GET and DELETE). An OPPWA id is the payment's (or operation's) own id in hex
(`ids`), so `/v1` and the dashboard see the same payment. Handlers parse, make one core call and
render; the rules are the core's, said in OPPWA's codes.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from tessera.core.clock import utcnow
from tessera.core.errors import ConflictError, NotFoundError, TesseraError
from tessera.core.merchants import MerchantContext
from tessera.core.payments.commands import CapturePayment, RebillPayment, RefundPayment, VoidPayment
from tessera.core.payments.model import Operation, OperationType, Payment
from tessera.core.ports import ReportKind
from tessera.core.services import Services
from tessera.core.vault.service import SaveCard
from tessera.dialects._common.deps import SecretCtx, ServicesDep
from tessera.dialects._common.hot_route import HotRoute, hot, secret_caller
from tessera.dialects.oppwa import backoffice, ids
from tessera.dialects.oppwa import codes as c
from tessera.dialects.oppwa import forms as f
from tessera.dialects.oppwa import render as r
from tessera.dialects.oppwa import requests as req
from tessera.dialects.oppwa.identity import KIND

router = APIRouter(prefix="/oppwa/v1", tags=["oppwa"], route_class=HotRoute)
STATUS_LIMIT = 2  # status calls per payment per minute (seed 003)
STATUS_WINDOW = 60
_RESULT = {"type": "object", "required": ["code", "description"], "properties": {"code": {"type": "string"}}}
_ANSWER: dict[str, Any] = {
    "type": "object",
    "required": ["result", "buildNumber", "timestamp", "ndc"],
    "properties": {"result": _RESULT, "id": {"type": "string"}},
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"content": {"application/json": {"schema": _ANSWER}}, "description": "result.code says why"}
    for code in (400, 401, 403, 404)
}
_OK: dict[int | str, dict[str, Any]] = {200: {"content": {"application/json": {"schema": _ANSWER}}}, **_ERRORS}
EntityQuery = Annotated[str, Query(alias="entityId", pattern=ids.ID_PATTERN, description="the merchant's entity_id")]
PaymentPath = Annotated[str, Path(alias="id", max_length=64, description="the payment's id (32 lowercase hex)")]


def _json(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)


async def _entity(svc: Services, ctx: MerchantContext, entity_id: str | None) -> str:
    """The merchant's entity for the key's mode; another entity is a credential that may not do this."""
    ours = (await svc.identities.get(ctx.merchant_id, ctx.mode, KIND)).public_id
    if entity_id is not None and entity_id != ours and ids.from_hex(entity_id) is not None:
        raise f.OppwaRefusal(c.AUTH_NO_RIGHTS, status=403)
    return ours


async def _form(request: Request, svc: Services, ctx: MerchantContext) -> tuple[dict[str, str], str]:
    form = f.parse(await request.body(), request.headers.get("content-type"))
    return form, await _entity(svc, ctx, form.get("entityId"))


async def _payment(svc: Services, ctx: MerchantContext, oppwa_id: str, *, missing: str = c.NOT_FOUND) -> Payment:
    payment_id = ids.from_hex(oppwa_id)
    if payment_id is None:
        raise f.OppwaRefusal(missing, status=404)
    try:
        return await svc.payments.get(ctx.merchant_id, ctx.mode, payment_id)
    except NotFoundError:
        raise f.OppwaRefusal(missing, status=404) from None


def _answer(payment: Payment, entity_id: str) -> JSONResponse:
    body = r.render_payment(payment, entity_id)
    return _json(body, r.http_status(body["result"]["code"]))


async def _transaction(svc: Services, ctx: MerchantContext, oppwa_id: str, entity_id: str) -> JSONResponse:
    """Any transaction by its id: an initial payment, or a back-office operation (a capture, a refund,
    ...), which OPPWA answers as a payment object of its own, with its `referencedId`."""
    try:
        return _answer(await _payment(svc, ctx, oppwa_id), entity_id)
    except f.OppwaRefusal:
        operation_id = ids.from_hex(oppwa_id, "op")
        if operation_id is None:
            raise
        try:
            payment, op = await svc.payments.get_operation(ctx.merchant_id, ctx.mode, operation_id)
        except NotFoundError:
            raise f.OppwaRefusal(c.NOT_FOUND, status=404) from None
    body = r.render_operation(payment, op, entity_id)
    return _json(body, r.http_status(body["result"]["code"]))


# ------------------------------------------------------------------------------------------ payments


async def _create_payment_hot(request: Request) -> Response | None:
    """`create_payment` without FastAPI's per-request work (`hot_route`), for a request with a bearer key;
    None for anything else, which FastAPI's handler then refuses with its exact error."""
    if (caller := await secret_caller(request)) is None:
        return None
    ctx, svc = caller
    return await _create_payment(request, ctx, svc)


@router.post(
    "/payments",
    responses=_OK,
    summary="An initial payment with card data: PA (pre-authorise) or DB (debit)",
    openapi_extra=f.form_body(req.PAYMENT_FIELDS, req.PAYMENT_REQUIRED),
)
@hot(_create_payment_hot)
async def create_payment(request: Request, ctx: SecretCtx, svc: ServicesDep) -> Response:
    return await _create_payment(request, ctx, svc)


async def _create_payment(request: Request, ctx: MerchantContext, svc: Services) -> Response:
    form, entity_id = await _form(request, svc, ctx)
    payment = await svc.payments.create(req.payment_command(form, ctx, entity_id, now=utcnow()))
    return _answer(payment, entity_id)


@router.post(
    "/payments/{id}",
    responses=_OK,
    summary="A back-office operation on a payment: CP, RF, RV, RB, CB, CR or RC",
    openapi_extra=f.form_body(req.BACK_OFFICE_FIELDS, req.BACK_OFFICE_REQUIRED),
)
async def back_office(payment_id: PaymentPath, request: Request, ctx: SecretCtx, svc: ServicesDep) -> Response:
    form, entity_id = await _form(request, svc, ctx)
    f.check(form, req.BACK_OFFICE_FIELDS, req.BACK_OFFICE_REQUIRED)
    payment = await _payment(svc, ctx, payment_id, missing=c.REF_UNKNOWN)
    op = req.back_office(form, payment.currency)
    refused = backoffice.refusal(op.payment_type, payment, op.amount)
    if refused is None and op.payment_type in ("CB", "CR", "RC") and ctx.mode != "test":
        # The bank reports these; a merchant simulates them on the test system only.
        refused = c.RECEIPT_INTERNAL if op.payment_type == "RC" else c.CHARGEBACK_INTERNAL
    if refused is not None:
        raise f.OppwaRefusal(refused, field="paymentType")
    try:
        done = await _run(svc, ctx, payment, op.payment_type, op.amount, form)
    except ConflictError as exc:
        raise f.OppwaRefusal(backoffice.RACED[op.payment_type], field="paymentType") from exc
    if isinstance(done, Payment):  # a rebill is a new payment
        return _answer(done, entity_id)
    body = r.render_operation(done[0], done[1], entity_id)
    return _json(body, r.http_status(body["result"]["code"]))


async def _run(
    svc: Services, ctx: MerchantContext, p: Payment, kind: str, amount: int | None, form: dict[str, str]
) -> Payment | tuple[Payment, Operation]:
    m, mode = ctx.merchant_id, ctx.mode
    before = {op.id for op in p.operations}
    if kind == "RB":
        assert amount is not None  # backoffice.refusal asks for one
        return await svc.payments.rebill(
            RebillPayment(m, mode, p.id, amount, form.get("merchantTransactionId"), channel=req.CHANNEL)
        )
    if kind == "CP":
        p = await svc.payments.capture(CapturePayment(m, mode, p.id, amount))
    elif kind == "RF":
        p = await svc.payments.refund(RefundPayment(m, mode, p.id, amount))
    elif kind == "RV":
        p = await svc.payments.void(VoidPayment(m, mode, p.id))
    else:
        p = await svc.payments.simulate_report(m, mode, p.id, ReportKind(kind), amount, None)
    new = [op for op in p.operations if op.id not in before and op.type is OperationType(kind)]
    return p, new[-1]


@router.get(
    "/payments/{id}",
    responses={**_OK, 429: {"content": {"application/json": {"schema": _ANSWER}}, "description": "throttled"}},
    summary="A payment's status (two calls a minute per payment; the query endpoint has no limit)",
)
async def payment_status(payment_id: PaymentPath, entity_id: EntityQuery, ctx: SecretCtx, svc: ServicesDep) -> Response:
    entity = await _entity(svc, ctx, entity_id)
    answer = await _transaction(svc, ctx, payment_id, entity)  # an unknown id counts against nothing
    if not await svc.risk.admit(f"oppwa:status:{payment_id}", limit=STATUS_LIMIT, window_seconds=STATUS_WINDOW):
        raise f.OppwaRefusal(c.THROTTLED, status=429)
    return answer


# ------------------------------------------------------------------------------------------ reports


@router.get("/query/{id}", responses=_OK, summary="The report of one payment (not throttled)")
async def query_one(payment_id: PaymentPath, entity_id: EntityQuery, ctx: SecretCtx, svc: ServicesDep) -> Response:
    entity = await _entity(svc, ctx, entity_id)
    return await _transaction(svc, ctx, payment_id, entity)


@router.get("/query", responses=_OK, summary="Every transaction carrying a merchantTransactionId (payments[])")
async def query_reference(
    entity_id: EntityQuery,
    ctx: SecretCtx,
    svc: ServicesDep,
    reference: Annotated[str, Query(alias="merchantTransactionId", min_length=1, max_length=255)],
) -> Response:
    entity = await _entity(svc, ctx, entity_id)
    found, _more = await svc.payments.list(ctx.merchant_id, ctx.mode, limit=100, reference=reference)
    payments = [t for p in reversed(found) for t in r.transactions(p, entity)]
    if not payments:
        raise f.OppwaRefusal(c.NOT_FOUND, status=404)
    return _json(r.envelope(c.QUERY_OK, entity, payments=payments))


# ------------------------------------------------------------------------------------------ registrations


@router.post(
    "/registrations",
    responses=_OK,
    summary="Store card data as a registration (a token for later payments)",
    openapi_extra=f.form_body(req.REGISTRATION_FIELDS, req.REGISTRATION_REQUIRED),
)
async def create_registration(request: Request, ctx: SecretCtx, svc: ServicesDep) -> Response:
    form, entity_id = await _form(request, svc, ctx)
    new = req.registration(form, now=utcnow())
    card = await svc.vault.save_card(
        SaveCard(ctx.merchant_id, ctx.mode, new.identifier, new.card, None, True, new.consent_ip, ctx.client_id)
    )
    body = {
        "id": ids.registration_id(card.card_token),
        "paymentBrand": form.get("paymentBrand") or req.BRANDS[card.brand],
        "card": {
            "bin": card.bin,
            "last4Digits": card.last4,
            "holder": card.holder_name,
            "expiryMonth": f"{card.exp_month:02d}",
            "expiryYear": f"{card.exp_year:04d}",
        },
    }
    return _json(r.envelope(c.success(ctx.mode), entity_id, **body))


async def _registration(svc: Services, ctx: MerchantContext, registration: str) -> tuple[str, str]:
    token = ids.card_token_of(registration)
    try:
        if token is None:
            raise NotFoundError("no such registration", field="id")
        card = await svc.vault.get_card(ctx.merchant_id, ctx.mode, token)
    except NotFoundError:
        raise f.OppwaRefusal(c.REGISTRATION_MISSING, status=404) from None
    if card.status.value != "active":
        raise f.OppwaRefusal(c.REGISTRATION_DELETED)
    return token, card.identifier


@router.post(
    "/registrations/{id}/payments",
    responses=_OK,
    summary="A payment with a registration (PA or DB)",
    openapi_extra=f.form_body(req.TOKEN_PAYMENT_FIELDS, req.TOKEN_PAYMENT_REQUIRED),
)
async def registration_payment(
    registration: Annotated[str, Path(alias="id", max_length=64)], request: Request, ctx: SecretCtx, svc: ServicesDep
) -> Response:
    form, entity_id = await _form(request, svc, ctx)
    f.check(form, req.TOKEN_PAYMENT_FIELDS, req.TOKEN_PAYMENT_REQUIRED)
    token, identifier = await _registration(svc, ctx, registration)
    payment = await svc.payments.create(req.token_payment_command(form, ctx, entity_id, token, identifier))
    return _answer(payment, entity_id)


@router.delete("/registrations/{id}", responses=_OK, summary="Delete (deregister) a registration")
async def delete_registration(
    registration: Annotated[str, Path(alias="id", max_length=64)],
    entity_id: EntityQuery,
    ctx: SecretCtx,
    svc: ServicesDep,
) -> Response:
    entity = await _entity(svc, ctx, entity_id)
    token, _owner = await _registration(svc, ctx, registration)
    await svc.vault.delete_card(ctx.merchant_id, ctx.mode, token)
    return _json(r.envelope(c.success(ctx.mode), entity, id=registration))


# ------------------------------------------------------------------------------------------ the shopper


def shopper_url(payment: Payment) -> str | None:
    return r.channel(payment).get("shopperResultUrl") or payment.return_url


def shopper_params(payment: Payment) -> dict[str, str]:
    """What the shopper's browser brings back to shopperResultUrl: `id` and `resourcePath` (the client
    prefixes its base URL, so `/oppwa` + resourcePath is the status call)."""
    oppwa_id = ids.to_hex(payment.id)
    found = {"id": oppwa_id, "resourcePath": f"/v1/payments/{oppwa_id}"}
    if not shopper_url(payment):  # the gateway's own status page shows it
        found["status"] = r.payment_code(payment)
    return found


__all__ = ["TesseraError", "router", "shopper_params", "shopper_url"]
