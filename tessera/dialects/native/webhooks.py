"""The native API's webhook endpoints and their delivery log, under /v1/webhook_endpoints."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from tessera.core.clock import iso_utc
from tessera.core.webhooks.deliveries import Delivery
from tessera.core.webhooks.endpoints import EVENT_TYPES, EndpointChanges, WebhookEndpoint
from tessera.dialects._common.deps import SecretCtx, ServicesDep, idempotency_key_header
from tessera.dialects._common.idempotency import idempotent
from tessera.dialects.native.schemas import WEBHOOK_URL_PATTERN, ErrorBody

router = APIRouter(tags=["webhooks"])
_POST_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 422)}
_GET_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorBody} for code in (400, 401, 403, 404)}
_IDEMPOTENT = [Depends(idempotency_key_header)]
_EVENTS_HELP = 'event types to send, or ["*"] for all: ' + ", ".join(sorted(EVENT_TYPES))
# An absolute http(s) URL with a host (`endpoints.check_url`); whether that host resolves, and to what
# kind of network, is checked when it is given and is beyond any schema.
URL_SCHEMA: dict[str, Any] = {
    "pattern": WEBHOOK_URL_PATTERN,
    "description": "An absolute http or https URL, at most 2048 characters, without credentials. Live mode: HTTPS "
    "and public addresses only; test mode also allows plain HTTP and loopback. Its host must resolve.",
}
EventType = Annotated[str, Field(max_length=60, json_schema_extra={"enum": ["*", *sorted(EVENT_TYPES)]})]


class EndpointCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "url": "https://example.com/webhooks",
                "enabled_events": ["payment.completed", "refund.succeeded"],
            }
        },
    )

    url: Annotated[str, Field(min_length=1, max_length=2048, json_schema_extra=URL_SCHEMA)]
    enabled_events: Annotated[list[EventType], Field(min_length=1, max_length=64, description=_EVENTS_HELP)]
    description: Annotated[str | None, Field(max_length=500)] = None
    format: Annotated[
        str,
        Field(
            min_length=1,
            max_length=40,
            pattern=r"^[a-z][a-z0-9_]*$",
            description="the wire format deliveries are sent in: `native` (Standard Webhooks, signed with a "
            "`whsec_` secret), or another format a dialect of this build provides for endpoints (`oppwa`: "
            "OPPWA's AES-256-GCM encrypted notification, keyed by a 64-hex-character secret); a name this "
            "build does not provide is refused",
        ),
    ] = "native"


class EndpointUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str | None, Field(min_length=1, max_length=2048, json_schema_extra=URL_SCHEMA)] = None
    enabled_events: Annotated[list[EventType] | None, Field(min_length=1, max_length=64)] = None
    description: Annotated[str | None, Field(max_length=500)] = None
    disabled: StrictBool | None = None


class RotateSecret(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grace_period_seconds: Annotated[
        int, Field(ge=0, le=7 * 24 * 3600, description="how long the old secret keeps signing too")
    ] = 24 * 3600


def _iso(moment: datetime | None) -> str | None:
    return iso_utc(moment) if moment else None


def render_endpoint(endpoint: WebhookEndpoint, *, with_secret: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": endpoint.id,
        "object": "webhook_endpoint",
        "kind": endpoint.kind.value,
        "url": endpoint.url,
        "enabled_events": endpoint.enabled_events,
        "description": endpoint.description,
        "status": endpoint.status.value,
        "disabled_reason": endpoint.disabled_reason,
        "livemode": endpoint.mode == "live",
        "format": endpoint.format,
        "previous_secret_expires_at": _iso(endpoint.previous_secret_expires_at),
        "created_at": _iso(endpoint.created_at),
    }
    if with_secret:
        body["secret"] = endpoint.secret
    return body


def render_delivery(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "object": "webhook_delivery",
        "endpoint_id": d.endpoint_id,
        "event_id": d.event_id,
        "event_type": d.event_type,
        "payment_id": d.payment_id,
        "sequence": d.sequence,
        "status": d.status.value,
        "attempt_count": d.attempts,
        "next_attempt_at": _iso(d.next_attempt_at),
        "last_attempt_at": _iso(d.last_attempt_at),
        "last_status_code": d.last_status_code,
        "created_at": _iso(d.created_at),
        "completed_at": _iso(d.completed_at),
        "attempts": [
            {
                "id": a.id,
                "attempted_at": _iso(a.attempted_at),
                "status_code": a.status_code,
                "latency_ms": a.latency_ms,
                "error": a.error,
                "response_excerpt": a.excerpt,
            }
            for a in d.attempt_log
        ],
    }


@router.post(
    "/webhook_endpoints",
    status_code=201,
    responses=_POST_ERRORS,
    dependencies=_IDEMPOTENT,
    summary="Add a webhook endpoint; the answer holds its signing secret (whsec_...)",
)
async def create_endpoint(body: EndpointCreate, request: Request, ctx: SecretCtx, svc: ServicesDep) -> Response:
    async def run() -> Response:
        endpoint = await svc.webhooks.create_endpoint(
            ctx.merchant_id, ctx.mode, body.url, body.enabled_events, body.description, body.format
        )
        return JSONResponse(render_endpoint(endpoint, with_secret=True), status_code=201)

    return await idempotent(request, ctx, svc, run)


@router.get("/webhook_endpoints", responses=_GET_ERRORS, summary="List webhook endpoints, oldest first")
async def list_endpoints(ctx: SecretCtx, svc: ServicesDep) -> Response:
    found = await svc.webhooks.list_endpoints(ctx.merchant_id, ctx.mode)
    return JSONResponse({"object": "list", "data": [render_endpoint(e) for e in found], "has_more": False})


@router.get(
    "/webhook_endpoints/{endpoint_id}",
    responses=_GET_ERRORS,
    summary="Fetch a webhook endpoint (`callback` names the merchant's seed 000 callback)",
)
async def get_endpoint(endpoint_id: str, ctx: SecretCtx, svc: ServicesDep) -> Response:
    endpoint = await svc.webhooks.get_endpoint(ctx.merchant_id, ctx.mode, endpoint_id)
    return JSONResponse(render_endpoint(endpoint))


@router.post(
    "/webhook_endpoints/{endpoint_id}",
    responses=_POST_ERRORS,
    dependencies=_IDEMPOTENT,
    summary="Change an endpoint's URL, event types or description, or disable and enable it",
)
async def update_endpoint(
    endpoint_id: str, body: EndpointUpdate, request: Request, ctx: SecretCtx, svc: ServicesDep
) -> Response:
    async def run() -> Response:
        changes = EndpointChanges(body.url, body.enabled_events, body.description, body.disabled)
        endpoint = await svc.webhooks.update_endpoint(ctx.merchant_id, ctx.mode, endpoint_id, changes)
        return JSONResponse(render_endpoint(endpoint))

    return await idempotent(request, ctx, svc, run)


@router.delete(
    "/webhook_endpoints/{endpoint_id}",
    responses=_GET_ERRORS,
    summary="Delete a webhook endpoint; its pending deliveries are canceled",
)
async def delete_endpoint(endpoint_id: str, ctx: SecretCtx, svc: ServicesDep) -> Response:
    endpoint = await svc.webhooks.delete_endpoint(ctx.merchant_id, ctx.mode, endpoint_id)
    return JSONResponse({"id": endpoint.id, "object": "webhook_endpoint", "deleted": True})


@router.post(
    "/webhook_endpoints/{endpoint_id}/rotate_secret",
    responses=_POST_ERRORS,
    dependencies=_IDEMPOTENT,
    summary="Give the endpoint a new secret; the old one keeps signing during the grace period",
)
async def rotate_secret(
    endpoint_id: str, request: Request, ctx: SecretCtx, svc: ServicesDep, body: RotateSecret | None = None
) -> Response:
    grace = timedelta(seconds=(body or RotateSecret()).grace_period_seconds)

    async def run() -> Response:
        endpoint = await svc.webhooks.rotate_secret(ctx.merchant_id, ctx.mode, endpoint_id, grace)
        return JSONResponse(render_endpoint(endpoint, with_secret=True))

    return await idempotent(request, ctx, svc, run)


@router.get(
    "/webhook_endpoints/{endpoint_id}/deliveries",
    responses=_GET_ERRORS,
    summary="The endpoint's deliveries, newest first, each with its attempts",
)
async def list_deliveries(
    endpoint_id: str,
    ctx: SecretCtx,
    svc: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    starting_after: Annotated[
        str | None,
        Query(max_length=40, pattern="^whd_[0-9a-hjkmnp-tv-z]{26}$", description="a delivery id from the last page"),
    ] = None,
) -> Response:
    found, more = await svc.webhooks.list_deliveries(
        ctx.merchant_id, ctx.mode, endpoint_id, limit=limit, before=starting_after
    )
    return JSONResponse({"object": "list", "data": [render_delivery(d) for d in found], "has_more": more})


@router.post(
    "/webhook_endpoints/{endpoint_id}/deliveries/{delivery_id}/retry",
    status_code=202,
    responses=_POST_ERRORS,
    dependencies=_IDEMPOTENT,
    summary="Send a delivery again now (a failed one gets one more attempt)",
)
async def retry_delivery(
    endpoint_id: str, delivery_id: str, request: Request, ctx: SecretCtx, svc: ServicesDep
) -> Response:
    async def run() -> Response:
        delivery = await svc.webhooks.retry_delivery(ctx.merchant_id, ctx.mode, endpoint_id, delivery_id)
        return JSONResponse(render_delivery(delivery), status_code=202)

    return await idempotent(request, ctx, svc, run)
