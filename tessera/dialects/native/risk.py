"""The native API's risk controls: the blocklist (/v1/blocklist) and velocity rules (/v1/risk_rules).

A duplicate blocklist entry is idempotent: adding a value already listed answers 200 with the entry
that lists it (201 when it is new), so a retried or repeated request never makes two entries.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt

from tessera.core.clock import iso_utc
from tessera.core.errors import ValidationError
from tessera.core.risk.model import MAX_WINDOW_SECONDS, BlockEntry, VelocityRule
from tessera.core.risk.service import NewRule
from tessera.dialects._common.deps import SecretCtx, ServicesDep, idempotency_key_header
from tessera.dialects._common.idempotency import idempotent
from tessera.dialects._common.patterns import py_ws
from tessera.dialects.native.schemas import ErrorBody

router = APIRouter(tags=["risk"])
_POST_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 422)}
_GET_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorBody} for code in (400, 401, 403, 404)}
_IDEMPOTENT = [Depends(idempotency_key_header)]

# What each type's value must look like, as the document says it and the server checks it. An address's
# exact syntax (and a card number's check digit) are then the core's to judge.
VALUE_PATTERNS: dict[str, tuple[str, int]] = {
    "card": ("^[0-9]{12,19}$", 19),
    "email": (py_ws(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"), 254),
    "customer": (py_ws(r"\S"), 200),
    "ip": ("^[0-9A-Fa-f:.]{2,45}(/[0-9]{1,3})?$", 49),
    "bin": ("^(?:[0-9]{6}|[0-9]{8})$", 8),
}
_COMPILED = {kind: re.compile(pattern) for kind, (pattern, _) in VALUE_PATTERNS.items()}
_VALUE_RULES: Any = [
    {
        "if": {"required": ["type"], "properties": {"type": {"const": kind}}},
        "then": {"properties": {"value": {"pattern": pattern, "maxLength": longest}}},
    }
    for kind, (pattern, longest) in VALUE_PATTERNS.items()
]


def _whole(value: Any) -> Any:
    # JSON Schema's "integer" admits 5.0: read as 5, as the document says; 5.5 and strings are refused.
    return int(value) if isinstance(value, float) and value.is_integer() else value


class BlockCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"allOf": _VALUE_RULES, "example": {"type": "email", "value": "fraud@example.com"}},
    )

    type: Literal["card", "email", "customer", "ip", "bin"] = Field(
        description="card: a full card number (only its keyed fingerprint is kept; shown as BIN + last 4); email: "
        "matched without case or white space; customer: the customer's id; ip: an IPv4 or IPv6 address or CIDR; "
        "bin: the first 6 or 8 digits of card numbers"
    )
    value: Annotated[str, Field(min_length=1, max_length=254)]


class BlockOut(BaseModel):
    id: str
    object: Literal["blocklist_entry"] = "blocklist_entry"
    type: str
    value: str = Field(description="as matched; a card as BIN + last 4 only")
    livemode: bool
    created_at: str


class BlockList(BaseModel):
    object: Literal["list"] = "list"
    data: list[BlockOut]
    has_more: bool
    next_cursor: str | None


class RuleCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "allOf": [
                {
                    # Without `metric` the rule counts attempts (the default): `required` keeps the `if` honest.
                    "if": {"required": ["metric"], "properties": {"metric": {"const": "amount"}}},
                    "then": {"required": ["currency"], "properties": {"currency": {"type": "string"}}},
                    "else": {"properties": {"currency": {"type": "null"}}},
                }
            ],
            "example": {"key": "card", "metric": "count", "limit": 3, "window_seconds": 3600},
        },
    )

    key: Literal["card", "email", "ip", "customer"] = Field(description="what attempts are counted per")
    metric: Literal["count", "amount"] = Field(
        "count", description="count: attempts; amount: the sum of their amounts in `currency` (minor units)"
    )
    limit: Annotated[
        StrictInt,
        Field(ge=1, le=10**15, description="the most attempts, or minor units, allowed"),
        BeforeValidator(_whole),
    ]
    window_seconds: Annotated[
        StrictInt, Field(ge=1, le=MAX_WINDOW_SECONDS, description="fixed windows this long"), BeforeValidator(_whole)
    ]
    currency: Annotated[str | None, Field(pattern="^[A-Za-z]{3}$", description="an amount rule's currency")] = None


class RuleOut(BaseModel):
    id: str
    object: Literal["risk_rule"] = "risk_rule"
    key: str
    metric: str
    limit: int
    window_seconds: int
    currency: str | None
    livemode: bool
    created_at: str


class RuleList(BaseModel):
    object: Literal["list"] = "list"
    data: list[RuleOut]
    has_more: bool


def _iso(moment: datetime) -> str:
    return iso_utc(moment)


def render_entry(entry: BlockEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "object": "blocklist_entry",
        "type": entry.type.value,
        "value": entry.value,
        "livemode": entry.mode == "live",
        "created_at": _iso(entry.created_at),
    }


def render_rule(rule: VelocityRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "object": "risk_rule",
        "key": rule.key.value,
        "metric": rule.metric.value,
        "limit": rule.limit,
        "window_seconds": rule.window_seconds,
        "currency": rule.currency,
        "livemode": rule.mode == "live",
        "created_at": _iso(rule.created_at),
    }


@router.post(
    "/blocklist",
    status_code=201,
    response_model=BlockOut,
    responses={200: {"model": BlockOut, "description": "the value was listed already: that entry"}, **_POST_ERRORS},
    dependencies=_IDEMPOTENT,
    summary="Block a card, e-mail, customer, IP address or range, or BIN for this mode",
)
async def create_block(body: BlockCreate, request: Request, ctx: SecretCtx, svc: ServicesDep) -> Response:
    pattern, longest = VALUE_PATTERNS[body.type]
    if len(body.value) > longest or not _COMPILED[body.type].search(body.value):
        raise ValidationError(f"value is not a valid {body.type} for the blocklist", field="value")

    async def run() -> Response:
        entry, created = await svc.risk.add_block(ctx.merchant_id, ctx.mode, body.type, body.value)
        return JSONResponse(render_entry(entry), status_code=201 if created else 200)

    return await idempotent(request, ctx, svc, run)


@router.get("/blocklist", response_model=BlockList, responses=_GET_ERRORS, summary="List the blocklist, newest first")
async def list_blocks(
    ctx: SecretCtx,
    svc: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    starting_after: Annotated[
        str | None, Query(max_length=64, pattern="^blk_[0-9a-hjkmnp-tv-z]{26}$", description="cursor: the last id seen")
    ] = None,
) -> Response:
    found, more = await svc.risk.list_blocks(ctx.merchant_id, ctx.mode, limit=limit, starting_after=starting_after)
    data = [render_entry(e) for e in found]
    cursor = data[-1]["id"] if more and data else None
    return JSONResponse({"object": "list", "data": data, "has_more": more, "next_cursor": cursor})


@router.delete(
    "/blocklist/{entry_id}", responses=_GET_ERRORS, summary="Remove a blocklist entry: it stops matching at once"
)
async def delete_block(entry_id: str, ctx: SecretCtx, svc: ServicesDep) -> Response:
    entry = await svc.risk.delete_block(ctx.merchant_id, ctx.mode, entry_id)
    return JSONResponse({"id": entry.id, "object": "blocklist_entry", "deleted": True})


@router.post(
    "/risk_rules",
    status_code=201,
    response_model=RuleOut,
    responses=_POST_ERRORS,
    dependencies=_IDEMPOTENT,
    summary="Add a velocity rule: at most N attempts, or an amount, per card, e-mail, IP or customer in a window",
)
async def create_rule(body: RuleCreate, request: Request, ctx: SecretCtx, svc: ServicesDep) -> Response:
    async def run() -> Response:
        cmd = NewRule(ctx.merchant_id, ctx.mode, body.key, body.metric, body.limit, body.window_seconds, body.currency)
        return JSONResponse(render_rule(await svc.risk.add_rule(cmd)), status_code=201)

    return await idempotent(request, ctx, svc, run)


@router.get("/risk_rules", response_model=RuleList, responses=_GET_ERRORS, summary="List velocity rules, oldest first")
async def list_rules(ctx: SecretCtx, svc: ServicesDep) -> Response:
    rules = await svc.risk.list_rules(ctx.merchant_id, ctx.mode)
    return JSONResponse({"object": "list", "data": [render_rule(r) for r in rules], "has_more": False})


@router.delete("/risk_rules/{rule_id}", responses=_GET_ERRORS, summary="Remove a velocity rule and its counters")
async def delete_rule(rule_id: str, ctx: SecretCtx, svc: ServicesDep) -> Response:
    rule = await svc.risk.delete_rule(ctx.merchant_id, ctx.mode, rule_id)
    return JSONResponse({"id": rule.id, "object": "risk_rule", "deleted": True})
