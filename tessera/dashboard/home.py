"""The home page (charts and the latest payments) and the audit log's page."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from tessera.core.clock import utcnow
from tessera.core.dashboard.model import PaymentFilter
from tessera.core.errors import NotFoundError, ValidationError
from tessera.core.ids import looks_like_id
from tessera.dashboard import charts
from tessera.dashboard.web import Ctx, HtmlRoute, error_page, page, signed_in

router = APIRouter(prefix="/dashboard", include_in_schema=False, route_class=HtmlRoute)
Signed = Annotated[Ctx, Depends(signed_in)]


@router.get("/")
async def home(ctx: Signed) -> Response:
    recent, _ = await ctx.dashboard.list_payments(ctx.merchant_id, ctx.mode, PaymentFilter(), limit=10, before=None)
    today = utcnow().date()
    since = datetime.combine(today - timedelta(days=13), time.min, tzinfo=UTC)
    rows = await ctx.dashboard.summary(ctx.merchant_id, ctx.mode, since)
    return page(ctx, "home.html", recent=recent, summary=charts.build(rows, today))


@router.get("/audit")
async def audit_log(ctx: Signed) -> Response:
    before = ctx.request.query_params.get("before") or None
    if before is not None and not looks_like_id(before, "aud"):
        raise ValidationError("before must be an audit entry id from the previous page", field="before")
    entries, more = await ctx.dashboard.audit_log(ctx.merchant_id, limit=50, before=before)
    return page(ctx, "audit.html", entries=entries, next_before=entries[-1].id if more and entries else None)


not_found = APIRouter(include_in_schema=False)


@not_found.api_route("/dashboard/{path:path}", methods=["GET", "POST"])
async def no_such_page(request: Request, path: str) -> Response:
    return error_page(request, NotFoundError("there is no such dashboard page"))
