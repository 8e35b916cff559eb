"""EximPe's routes under /eximpe: seed 004's Save Card API and its token management; seed 000's
orders live in `orders` and are mounted here."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from tessera.core.errors import ValidationError, ValidationErrors
from tessera.dialects._common.deps import ServicesDep
from tessera.dialects.eximpe import orders, translate
from tessera.dialects.eximpe.deps import ExCtx, ok
from tessera.dialects.eximpe.schemas import ErrorOut, SaveCardIn, SaveCardOut

router = APIRouter(prefix="/eximpe/pg", tags=["eximpe"])

_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorOut} for code in (400, 401, 403, 404, 409, 500)}


@router.post(
    "/tokens/",
    response_model=SaveCardOut,
    responses=_ERRORS,
    summary="Save Card (seed 004)",
    openapi_extra=orders.json_body(SaveCardIn),
)
async def save_card(request: Request, ctx: ExCtx, svc: ServicesDep) -> Response:
    try:
        raw = await request.json()
    except ValueError:
        raise ValidationErrors([ValidationError("The request body is not valid JSON.", field=None)]) from None
    cmd = translate.save_command(raw, ctx, request.client.host if request.client else None)
    card = await svc.vault.save_card(cmd)
    return ok("Card details saved successfully", translate.render_saved(card))


@router.get("/tokens/", responses=_ERRORS, summary="List an identifier's saved cards")
async def list_cards(
    ctx: ExCtx,
    svc: ServicesDep,
    # Required, and not empty; the handler's own check answers an empty one in seed 004's words.
    identifier: Annotated[str, Query(max_length=200, json_schema_extra={"minLength": 1})],
) -> Response:
    if not identifier:
        raise ValidationErrors([ValidationError(translate.REQUIRED, field="identifier")])
    cards = await svc.vault.list_cards(ctx.merchant_id, ctx.mode, identifier)
    return ok("Saved cards fetched successfully", [translate.render_card(card) for card in cards])


@router.get("/tokens/{card_token}/", responses=_ERRORS, summary="Fetch a saved card")
async def get_card(card_token: str, ctx: ExCtx, svc: ServicesDep) -> Response:
    card = await svc.vault.get_card(ctx.merchant_id, ctx.mode, card_token)
    return ok("Saved card fetched successfully", translate.render_card(card))


@router.delete("/tokens/{card_token}/", responses=_ERRORS, summary="Delete a saved card")
async def delete_card(card_token: str, ctx: ExCtx, svc: ServicesDep) -> Response:
    card = await svc.vault.delete_card(ctx.merchant_id, ctx.mode, card_token)
    return ok("Card deleted successfully", {"card_token": card.card_token, "deleted": True})


router.include_router(orders.router)
