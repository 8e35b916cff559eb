"""Developers: API Access (ids, keys, roll, the IP allowlist in force), Settings (return-URL domains,
callback URL, 3-D Secure policy, attempt budget, API IP allowlist), Webhooks (endpoints, their secret shown
once and rotated, the delivery log, redeliver), Risk (the blocklist and velocity rules) and Saved cards (by
owner, delete).

Viewers see these pages without secrets and cannot change anything; developers and admins can. A secret
is shown once, on the answer to the action that made it, and never written to the audit log.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from tessera.core.dashboard.model import Permission
from tessera.core.errors import ValidationError
from tessera.core.merchants import KeyKind, UpdateMerchant
from tessera.core.risk.model import Charge, VelocityKey, VelocityMetric
from tessera.core.risk.service import NewRule
from tessera.dashboard.web import Ctx, HtmlRoute, check_csrf, field, page, redirect, signed_in

router = APIRouter(prefix="/dashboard/developers", include_in_schema=False, route_class=HtmlRoute)
Signed = Annotated[Ctx, Depends(signed_in)]
BLOCK_TYPES = ("card", "email", "customer", "ip", "bin")
GRACE_HOURS = (0, 1, 24, 72)  # how long a rotated webhook secret's predecessor keeps signing


KEY_GRACE_HOURS = (0, 1, 24, 72)  # how long a rolled secret key's predecessor keeps working


async def _api_access(ctx: Ctx, new_secret: str | None = None) -> Response:
    keys = [k for k in await ctx.services.merchants.active_keys(ctx.merchant_id) if k.mode == ctx.mode]
    identities = await ctx.services.identities.all_of(ctx.merchant_id, ctx.mode) if keys else {}
    settings = await ctx.services.merchants.settings(ctx.merchant_id)
    return page(
        ctx,
        "api_access.html",
        keys=keys,
        client_id=keys[0].client_id if keys else None,
        publishable=next((k for k in reversed(keys) if k.kind is KeyKind.PUBLISHABLE), None),
        identities=identities,
        new_secret=new_secret,
        graces=KEY_GRACE_HOURS,
        allowed_ips=settings.allowed_ips.get(ctx.mode, []),
        section="api",
    )


@router.get("/api-access")
async def api_access(ctx: Signed) -> Response:
    return await _api_access(ctx)


@router.post("/api-access/roll")
async def roll_key(ctx: Signed) -> Response:
    ctx.require(Permission.MANAGE_DEVELOPERS)
    form = await check_csrf(ctx)
    hours = field(form, "grace_hours") or "0"
    if not hours.isdigit() or int(hours) not in KEY_GRACE_HOURS:
        raise ValidationError("choose one of the offered grace periods", field="grace_hours")
    rolled = await ctx.services.merchants.roll_key(ctx.merchant_id, ctx.mode, timedelta(hours=int(hours)))
    await ctx.audit(
        "api_key.roll", rolled.key.id, revoked=",".join(k.id for k in rolled.revoked), grace_hours=int(hours)
    )
    return await _api_access(ctx, new_secret=rolled.secret_key)


def _charge(line: str) -> Charge:
    """A charge from one line of the form: `brand currency basis-points fixed`, `*` for any brand or currency
    (the core checks the values)."""
    parts = line.split()
    if len(parts) != 4 or not parts[2].isdigit() or not parts[3].isdigit():
        raise ValidationError(
            "each charge line is: brand currency basis-points fixed-minor-units (for example: * INR 250 0)",
            field="charges",
        )
    return Charge(parts[0].lower(), parts[1].upper(), int(parts[2]), int(parts[3]))


@router.get("/settings")
async def settings_page(ctx: Signed) -> Response:
    found = await ctx.services.merchants.settings(ctx.merchant_id)
    return page(ctx, "settings.html", s=found, callback=found.callback_urls.get(ctx.mode), section="settings")


@router.post("/settings")
async def save_settings(ctx: Signed) -> Response:
    ctx.require(Permission.MANAGE_DEVELOPERS)
    form = await check_csrf(ctx)
    domains = [d.strip() for d in field(form, "allowed_domains").splitlines() if d.strip()]
    callback = field(form, "callback_url")
    budget = field(form, "attempt_budget")
    if not budget.isdigit():
        raise ValidationError("attempt budget must be a whole number from 1 to 10", field="attempt_budget")
    ips = [line.strip() for line in field(form, "allowed_ips").splitlines() if line.strip()]
    charges = [_charge(line) for line in field(form, "charges").splitlines() if line.strip()]
    before = await ctx.services.merchants.settings(ctx.merchant_id)
    cmd = UpdateMerchant(
        ctx.merchant_id,
        allowed_domains=domains,
        attempt_budget=int(budget),
        callback_url=callback or None,
        remove_callback_url=not callback and before.callback_urls.get(ctx.mode) is not None,
        threeds_policy=field(form, "threeds_policy"),
        allowed_ips=ips,
        allowed_ips_modes=[ctx.mode],
        charges=charges,
    )
    after = await ctx.services.merchants.update(cmd)
    await ctx.audit(
        "settings.update",
        ctx.merchant_id,
        allowed_domains=" ".join(after.allowed_domains),
        callback_url=after.callback_urls.get(ctx.mode) or "none",
        attempt_budget=after.attempt_budget,
        threeds_policy=after.threeds_policy,
        allowed_ips=" ".join(after.allowed_ips.get(ctx.mode, [])) or "any",
        charges="; ".join(f"{c.brand} {c.currency} {c.percent_bp}bp+{c.fixed}" for c in after.charges) or "none",
    )
    return redirect("/developers/settings", notice="Settings saved.")


@router.get("/webhooks")
async def webhooks(ctx: Signed) -> Response:
    endpoints = await ctx.services.webhooks.list_endpoints(ctx.merchant_id, ctx.mode)
    return page(ctx, "webhooks.html", endpoints=endpoints, new_secret=None, section="webhooks")


@router.post("/webhooks")
async def add_endpoint(ctx: Signed) -> Response:
    ctx.require(Permission.MANAGE_DEVELOPERS)
    form = await check_csrf(ctx)
    made = await ctx.services.webhooks.create_endpoint(
        ctx.merchant_id, ctx.mode, field(form, "url"), ["*"], field(form, "description") or None
    )
    await ctx.audit("webhook_endpoint.create", made.id, url=made.url)
    endpoints = await ctx.services.webhooks.list_endpoints(ctx.merchant_id, ctx.mode)
    return page(ctx, "webhooks.html", endpoints=endpoints, new_secret=(made.id, made.secret), section="webhooks")


async def _endpoint_page(ctx: Ctx, endpoint_id: str, new_secret: str | None = None) -> Response:
    endpoint = await ctx.services.webhooks.get_endpoint(ctx.merchant_id, ctx.mode, endpoint_id)
    before = ctx.request.query_params.get("before") or None
    deliveries, more = await ctx.services.webhooks.list_deliveries(
        ctx.merchant_id, ctx.mode, endpoint.id, limit=50, before=before
    )
    older = deliveries[-1].id if more and deliveries else None
    return page(
        ctx,
        "endpoint.html",
        e=endpoint,
        deliveries=deliveries,
        older=older,
        new_secret=new_secret,
        graces=GRACE_HOURS,
        section="webhooks",
    )


@router.get("/webhooks/{endpoint_id}")
async def endpoint_page(ctx: Signed, endpoint_id: str) -> Response:
    return await _endpoint_page(ctx, endpoint_id)


@router.post("/webhooks/{endpoint_id}/rotate")
async def rotate_secret(ctx: Signed, endpoint_id: str) -> Response:
    ctx.require(Permission.MANAGE_DEVELOPERS)
    form = await check_csrf(ctx)
    hours = field(form, "grace_hours")
    if not hours.isdigit() or int(hours) not in GRACE_HOURS:
        raise ValidationError("choose one of the offered grace periods", field="grace_hours")
    done = await ctx.services.webhooks.rotate_secret(
        ctx.merchant_id, ctx.mode, endpoint_id, timedelta(hours=int(hours))
    )
    await ctx.audit("webhook_endpoint.rotate_secret", done.id, grace_hours=int(hours))
    return await _endpoint_page(ctx, done.id, new_secret=done.secret)


@router.post("/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver")
async def redeliver(ctx: Signed, endpoint_id: str, delivery_id: str) -> Response:
    ctx.require(Permission.MANAGE_DEVELOPERS)
    await check_csrf(ctx)
    done = await ctx.services.webhooks.retry_delivery(ctx.merchant_id, ctx.mode, endpoint_id, delivery_id)
    await ctx.audit("webhook_delivery.redeliver", done.id, endpoint=endpoint_id, event=done.event_type)
    return redirect(f"/developers/webhooks/{endpoint_id}", notice="Delivery queued again.")


@router.get("/risk")
async def risk(ctx: Signed) -> Response:
    entries, _more = await ctx.services.risk.list_blocks(ctx.merchant_id, ctx.mode, limit=100, starting_after=None)
    rules = await ctx.services.risk.list_rules(ctx.merchant_id, ctx.mode)
    return page(
        ctx,
        "risk.html",
        entries=entries,
        rules=rules,
        types=BLOCK_TYPES,
        keys=[k.value for k in VelocityKey],
        metrics=[m.value for m in VelocityMetric],
        section="risk",
    )


@router.post("/risk/blocklist")
async def add_block(ctx: Signed) -> Response:
    ctx.require(Permission.MANAGE_DEVELOPERS)
    form = await check_csrf(ctx)
    entry, new = await ctx.services.risk.add_block(ctx.merchant_id, ctx.mode, field(form, "type"), field(form, "value"))
    await ctx.audit("blocklist.add", entry.id, type=entry.type.value, shown_as=entry.value)
    return redirect("/developers/risk", notice="Added to the blocklist." if new else "Already on the blocklist.")


@router.post("/risk/blocklist/{entry_id}/delete")
async def delete_block(ctx: Signed, entry_id: str) -> Response:
    ctx.require(Permission.MANAGE_DEVELOPERS)
    await check_csrf(ctx)
    entry = await ctx.services.risk.delete_block(ctx.merchant_id, ctx.mode, entry_id)
    await ctx.audit("blocklist.delete", entry.id, type=entry.type.value, shown_as=entry.value)
    return redirect("/developers/risk", notice="Removed from the blocklist.")


@router.get("/saved-cards")
async def saved_cards(ctx: Signed) -> Response:
    owner = ctx.request.query_params.get("identifier", "").strip()[:200]
    cards = await ctx.services.vault.list_cards(ctx.merchant_id, ctx.mode, owner) if owner else []
    return page(ctx, "saved_cards.html", owner=owner, cards=cards, section="cards")


@router.post("/saved-cards/{card_token}/delete")
async def delete_card(ctx: Signed, card_token: str) -> Response:
    ctx.require(Permission.MANAGE_DEVELOPERS)
    await check_csrf(ctx)
    card = await ctx.services.vault.delete_card(ctx.merchant_id, ctx.mode, card_token)
    await ctx.audit("saved_card.delete", card.card_token, owner=card.identifier, shown_as=f"{card.bin}…{card.last4}")
    return redirect("/developers/saved-cards", identifier=card.identifier, notice="Card deleted.")


def _number(value: str, name: str) -> int:
    if not value.isdigit() or len(value) > 15:
        raise ValidationError(f"{name} must be a whole number", field=name)
    return int(value)


@router.post("/risk/rules")
async def add_rule(ctx: Signed) -> Response:
    ctx.require(Permission.MANAGE_DEVELOPERS)
    form = await check_csrf(ctx)
    rule = await ctx.services.risk.add_rule(
        NewRule(
            ctx.merchant_id,
            ctx.mode,
            key=field(form, "key"),
            metric=field(form, "metric"),
            limit=_number(field(form, "limit"), "limit"),
            window_seconds=_number(field(form, "window_seconds"), "window_seconds"),
            currency=field(form, "currency").upper() or None,
        )
    )
    await ctx.audit(
        "risk_rule.add",
        rule.id,
        key=rule.key.value,
        metric=rule.metric.value,
        limit=rule.limit,
        window_seconds=rule.window_seconds,
    )
    return redirect("/developers/risk", notice="Velocity rule added.")


@router.post("/risk/rules/{rule_id}/delete")
async def delete_rule(ctx: Signed, rule_id: str) -> Response:
    ctx.require(Permission.MANAGE_DEVELOPERS)
    await check_csrf(ctx)
    rule = await ctx.services.risk.delete_rule(ctx.merchant_id, ctx.mode, rule_id)
    await ctx.audit("risk_rule.delete", rule.id, key=rule.key.value, metric=rule.metric.value)
    return redirect("/developers/risk", notice="Velocity rule removed.")
