"""Seed 000's S2S card payments under /eximpe/pg/orders/: create an order, read its status, read it.

An order is a Tessera payment: its `order_id` is the payment's id, so the native API and the dashboard
see, capture, refund and charge back the same payment.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from tessera.core.clock import utcnow
from tessera.core.errors import NotFoundError, ValidationError, ValidationErrors
from tessera.core.merchants import MerchantContext
from tessera.core.services import Services
from tessera.dialects._common.deps import ServicesDep, get_services, idempotency_key_header
from tessera.dialects._common.hot_route import HotRoute, hot, idempotency_key_ok
from tessera.dialects._common.idempotency import idempotent
from tessera.dialects.eximpe import order_translate as translate
from tessera.dialects.eximpe.deps import ExCtx, authenticate, ok
from tessera.dialects.eximpe.order_schemas import OrderCreatedOut, OrderIn, OrderOut, OrderStatusOut
from tessera.dialects.eximpe.schemas import ErrorOut

router = APIRouter(prefix="/orders", tags=["eximpe"], route_class=HotRoute)

_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorOut} for code in (400, 401, 403, 404, 409, 500)}


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` documenting a required JSON body of `model`, for a route that validates the body
    itself (field by field, every fault at once): its nested models point among the document's
    components, where the app's OpenAPI hook moves them."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


async def _create_order_hot(request: Request) -> Response | None:
    """`create_order` without FastAPI's per-request work (`hot_route`), for a request with all three
    credential headers, a well-formed or absent Idempotency-Key, and a body orjson parses; None for
    anything else, which FastAPI's handler then answers with its exact error."""
    headers = request.headers
    client_id, secret = headers.get("x-client-id"), headers.get("x-client-secret")
    merchant_id = headers.get("x-merchant-id")
    if not (client_id and secret and merchant_id) or not idempotency_key_ok(request):
        return None
    try:
        # orjson refuses what the standard library's parser may take (NaN, integers beyond 64 bits):
        # those go to FastAPI's handler, which parses them as before.
        raw = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return None
    svc = await get_services(request)
    return await _create_order(request, raw, await authenticate(request, svc, client_id, secret, merchant_id), svc)


@router.post(
    "/",
    response_model=OrderCreatedOut,
    responses=_ERRORS,
    dependencies=[Depends(idempotency_key_header)],
    summary="Create an S2S card payment order (seed 000): a new card or a saved card token",
    openapi_extra=json_body(OrderIn),
)
@hot(_create_order_hot)
async def create_order(request: Request, ctx: ExCtx, svc: ServicesDep) -> Response:
    try:
        raw = await request.json()
    except ValueError:
        raise ValidationErrors([ValidationError("The request body is not valid JSON.", field=None)]) from None
    return await _create_order(request, raw, ctx, svc)


async def _create_order(request: Request, raw: Any, ctx: MerchantContext, svc: Services) -> Response:
    async def run() -> Response:
        cmd = translate.order_command(raw, ctx, now=utcnow())
        try:
            payment = await svc.payments.create(cmd)
        except NotFoundError as exc:
            if exc.field != "saved_card":
                raise
            raise ValidationErrors(
                [ValidationError("No saved card with this token for this identifier.", field="card_details.token")]
            ) from None
        status, body = translate.created(payment)
        return JSONResponse(body, status_code=status)

    return await idempotent(request, ctx, svc, run)


@router.get(
    "/{order_id}/status/",
    response_model=OrderStatusOut,
    responses=_ERRORS,
    summary="Order status: payment_pending, payment_successful or failed (seed 000)",
)
async def order_status(order_id: str, ctx: ExCtx, svc: ServicesDep) -> Response:
    payment = await svc.payments.get(ctx.merchant_id, ctx.mode, order_id)
    return ok("Order status fetched successfully", translate.order_status(payment))


@router.get("/{order_id}/", response_model=OrderOut, responses=_ERRORS, summary="Get an order (seed 000)")
async def get_order(order_id: str, ctx: ExCtx, svc: ServicesDep) -> Response:
    payment = await svc.payments.get(ctx.merchant_id, ctx.mode, order_id)
    return ok("Order fetched successfully", translate.order(payment))
