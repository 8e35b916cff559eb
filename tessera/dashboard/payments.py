"""Payments: the filtered list, a payment's page, and its actions (capture, void, refund).

Every action goes through the services facade's payment commands, as the API's do, behind a
confirmation page whose form carries a one-time key: the key is an idempotency key, so a form submitted
twice moves money once. Viewers are refused by the server, whatever the page shows them.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from tessera.core.clock import utcnow
from tessera.core.dashboard.model import PaymentFilter, Permission
from tessera.core.errors import TesseraError, ValidationError
from tessera.core.idempotency import StoredResponse, running_under
from tessera.core.ids import looks_like_id
from tessera.core.money import to_major_string, to_minor
from tessera.core.payments.commands import CapturePayment, RefundPayment, VoidPayment
from tessera.core.payments.model import Payment, PaymentStatus
from tessera.dashboard.web import Ctx, HtmlRoute, check_csrf, field, new_form_key, page, redirect, signed_in

router = APIRouter(prefix="/dashboard", include_in_schema=False, route_class=HtmlRoute)
Signed = Annotated[Ctx, Depends(signed_in)]
PAGE_SIZE = 25
CHANNELS = ("native", "eximpe", "paysecure", "oppwa")


def _whole(value: str, name: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or len(value) > 12:
        raise ValidationError(f"{name} must be a whole number of minor units", field=name)
    return int(value)


def _day(value: str, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise ValidationError(f"{name} must be a date (YYYY-MM-DD)", field=name) from None


def _filters(request: Request) -> tuple[PaymentFilter, dict[str, str]]:
    q = {k: request.query_params.get(k, "").strip()[:200] for k in _FILTER_FIELDS}
    if q["status"] and q["status"] not in {s.value for s in PaymentStatus}:
        raise ValidationError("status is not a payment status", field="status")
    if q["last4"] and not (len(q["last4"]) == 4 and q["last4"].isdigit()):
        raise ValidationError("card last 4 must be four digits", field="last4")
    if q["dialect"] and q["dialect"] not in CHANNELS:
        raise ValidationError("dialect is not one Tessera speaks", field="dialect")
    to = _day(q["to"], "to")
    return (
        PaymentFilter(
            status=q["status"] or None,
            reference=q["reference"] or None,
            last4=q["last4"] or None,
            channel=q["dialect"] or None,
            email=q["email"] or None,
            amount_min=_whole(q["amount_min"], "amount_min"),
            amount_max=_whole(q["amount_max"], "amount_max"),
            created_from=_day(q["from"], "from"),
            created_to=to + timedelta(days=1) if to else None,
        ),
        q,
    )


_FILTER_FIELDS = ("status", "from", "to", "amount_min", "amount_max", "reference", "last4", "dialect", "email")


@router.get("/payments")
async def payment_list(ctx: Signed) -> Response:
    search = ctx.request.query_params.get("q", "").strip()[:200]
    if looks_like_id(search, "pay"):  # a payment's id goes to its page (404 when not this merchant's)
        return redirect(f"/payments/{search}")
    filters, shown = _filters(ctx.request)
    if search:  # anything else is a reference
        filters = replace(filters, reference=search)
    before = ctx.request.query_params.get("before") or None
    payments, more = await ctx.dashboard.list_payments(
        ctx.merchant_id, ctx.mode, filters, limit=PAGE_SIZE, before=before
    )
    following = ({k: v for k, v in shown.items() if v} | {"before": payments[-1].id}) if more and payments else None
    return page(
        ctx,
        "payments.html",
        payments=payments,
        filters=shown,
        search=search,
        statuses=[s.value for s in PaymentStatus],
        channels=CHANNELS,
        next_page=following,
        first_page=before is not None,
    )


@router.get("/payments/{payment_id}")
async def payment_page(ctx: Signed, payment_id: str) -> Response:
    payment = await ctx.services.payments.get(ctx.merchant_id, ctx.mode, payment_id)
    events = await ctx.dashboard.payment_events(ctx.merchant_id, ctx.mode, payment.id)
    deliveries = await ctx.dashboard.payment_deliveries(ctx.merchant_id, ctx.mode, payment.id)
    return page(ctx, "payment.html", p=payment, events=events, deliveries=deliveries, actions=_actions(payment))


def _capturable(p: Payment) -> int:
    return p.amount_authorized - p.amount_captured if p.status is PaymentStatus.AUTHORIZED else 0


def _refundable(p: Payment) -> int:
    refundable = {PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED}
    return p.amount_captured - p.amount_refunded - p.amount_charged_back if p.status in refundable else 0


def _actions(p: Payment) -> list[str]:
    found = []
    if _capturable(p) > 0:
        found += ["capture", "void"]
    if _refundable(p) > 0:
        found.append("refund")
    return found


_VERBS = {"capture": "Capture", "void": "Void", "refund": "Refund"}


@router.get("/payments/{payment_id}/{action}")
async def confirm_action(ctx: Signed, payment_id: str, action: str) -> Response:
    if action not in _VERBS:
        raise ValidationError("no such action", field="action")
    ctx.require(Permission.MOVE_MONEY)
    payment = await ctx.services.payments.get(ctx.merchant_id, ctx.mode, payment_id)
    most = _capturable(payment) if action == "capture" else _refundable(payment) if action == "refund" else 0
    return page(
        ctx,
        "confirm.html",
        p=payment,
        action=action,
        verb=_VERBS[action],
        most=to_major_string(most, payment.currency) if most else "",
        form_key=new_form_key(),
    )


@router.post("/payments/{payment_id}/{action}")
async def do_action(ctx: Signed, payment_id: str, action: str) -> Response:
    if action not in _VERBS:
        raise ValidationError("no such action", field="action")
    ctx.require(Permission.MOVE_MONEY)
    form = await check_csrf(ctx)
    payment = await ctx.services.payments.get(ctx.merchant_id, ctx.mode, payment_id)
    raw = field(form, "amount")
    amount = to_minor(raw, payment.currency, field="amount") if raw and action != "void" else None
    key = field(form, "form_key")
    if not 8 <= len(key) <= 64:
        raise ValidationError("the confirmation form is incomplete; open it again", field="form_key")
    m, mode, pid = ctx.merchant_id, ctx.mode, payment.id
    commands: dict[str, Callable[[], Awaitable[Payment]]] = {
        "capture": lambda: ctx.services.payments.capture(CapturePayment(m, mode, pid, amount)),
        "void": lambda: ctx.services.payments.void(VoidPayment(m, mode, pid)),
        "refund": lambda: ctx.services.payments.refund(RefundPayment(m, mode, pid, amount)),
    }
    detail = {"currency": payment.currency, "amount": amount if amount is not None else "whole"}
    try:
        status, replayed = await _once(ctx, key, f"{action} {pid} {amount}", commands[action])
    except TesseraError as exc:
        await ctx.audit(f"payment.{action}", pid, **detail, outcome=f"refused: {exc.code.value}")
        raise
    if not replayed:
        await ctx.audit(f"payment.{action}", pid, **detail, outcome=status)
    notice = f"{_VERBS[action]} {'was already done' if replayed else 'done'}: the payment is now {status}."
    return redirect(f"/payments/{pid}", notice=notice)


async def _once(ctx: Ctx, form_key: str, what: str, run: Callable[[], Awaitable[Payment]]) -> tuple[str, bool]:
    """Run the command once per form key (the API's idempotency keys, under a `dashboard:` name); a repeat
    answers the first outcome. Returns the payment's status and whether this was a repeat."""
    keys = ctx.services.idempotency
    fingerprint = ctx.services.fingerprint(f"dashboard {what}".encode())
    claim = await keys.begin(ctx.merchant_id, ctx.mode, f"dashboard:{form_key}", fingerprint, utcnow())
    if isinstance(claim, StoredResponse):
        return str(json.loads(claim.body)["status"]), True
    with running_under(claim):
        try:
            payment = await run()
        except Exception:
            await keys.abandon(claim, utcnow())
            raise
    await keys.finish(claim, StoredResponse(200, json.dumps({"status": payment.status.value}).encode()), utcnow())
    return payment.status.value, False
