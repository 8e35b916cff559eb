"""The services facade: the one object dialects, the dashboard and the CLI call.

A handler gives it one command (or a merchant, mode and id for a read) and gets one result back. It
binds every core service to its dependencies, so no caller assembles a unit of work, a cipher or a
processor registry, and none reaches storage: `bootstrap` builds it (cosmicpython's `bootstrap.py`),
and the dialects know only this class, the core's commands and its values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tessera.core import browser_origins, identities, merchants
from tessera.core.auth_cache import AuthCache
from tessera.core.clock import utcnow
from tessera.core.dashboard.service import DashboardServices
from tessera.core.errors import ValidationError
from tessera.core.idempotency import IdempotencyKeys, current_claim
from tessera.core.identities import Identity, IdentityKind
from tessera.core.ids import looks_like_id, webhook_secret
from tessera.core.merchants import MerchantContext
from tessera.core.payments import service as payments
from tessera.core.payments.acquirer import report_for_payment
from tessera.core.payments.commands import (
    CancelPayment,
    CapturePayment,
    ConfirmPayment,
    CreatePayment,
    RebillPayment,
    RefundPayment,
    VoidPayment,
)
from tessera.core.payments.model import Operation, Payment
from tessera.core.payments.settle import PaymentDeps, resolve_operation
from tessera.core.ports import ReadModel, ReportKind
from tessera.core.risk import service as risk
from tessera.core.risk.caller import Network
from tessera.core.risk.model import BlockEntry, VelocityRule
from tessera.core.vault import service as vault
from tessera.core.vault.cards import SavedCard
from tessera.core.vault.pan import CardData
from tessera.core.vault.service import SaveCard
from tessera.core.vault.tokens import CardToken, create_token
from tessera.core.webhooks import service as webhooks
from tessera.core.webhooks.deliveries import Delivery
from tessera.core.webhooks.endpoints import EVENT_TYPES, EndpointChanges, Resolver, WebhookEndpoint, check_url
from tessera.core.webhooks.formats import DEFAULT_FORMAT

# The largest sequence number a database column holds (a signed 64-bit integer).
MAX_SEQUENCE = 2**63 - 1


def _check_cursor(cursor: str | None, prefix: str, field: str = "starting_after") -> None:
    if cursor is not None and not looks_like_id(cursor, prefix):
        raise ValidationError(f"{field} must be an id from the previous page ({prefix}_...)", field=field)


class PaymentServices:
    """Each call that moves money first asks whether it is the retry of a keyed request that crashed
    after making its payment (`core.idempotency`): then it answers that payment's outcome, settling an
    operation left open if the acquirer can say, and never charges again."""

    def __init__(self, deps: PaymentDeps, queries: ReadModel) -> None:
        self._deps = deps
        self._queries = queries

    async def create(self, cmd: CreatePayment) -> Payment:
        return await self._resumed() or await payments.create_payment(cmd, deps=self._deps)

    async def confirm(self, cmd: ConfirmPayment) -> Payment:
        return await self._resumed() or await payments.confirm_payment(cmd, deps=self._deps)

    async def capture(self, cmd: CapturePayment) -> Payment:
        return await self._resumed() or await payments.capture(cmd, deps=self._deps)

    async def cancel(self, cmd: CancelPayment) -> Payment:
        return await self._resumed() or await payments.cancel(cmd, deps=self._deps)

    async def void(self, cmd: VoidPayment) -> Payment:
        return await self._resumed() or await payments.void(cmd, deps=self._deps)

    async def refund(self, cmd: RefundPayment) -> Payment:
        return await self._resumed() or await payments.refund(cmd, deps=self._deps)

    async def rebill(self, cmd: RebillPayment) -> Payment:
        return await self._resumed() or await payments.rebill(cmd, deps=self._deps)

    async def _resumed(self) -> Payment | None:
        claim = current_claim()
        if claim is None or not claim.resumed or claim.resource_id is None:
            return None
        payment = await payments.get_payment(claim.merchant_id, claim.mode, claim.resource_id, deps=self._deps)
        for op in [op for op in payment.operations if op.is_open]:
            payment = await resolve_operation(payment.id, op.id, deps=self._deps)
        claim.settled = not any(op.is_open for op in payment.operations)
        return payment

    async def get(self, merchant_id: str, mode: str, payment_id: str) -> Payment:
        return await payments.get_payment(merchant_id, mode, payment_id, deps=self._deps)

    async def get_operation(self, merchant_id: str, mode: str, operation_id: str) -> tuple[Payment, Operation]:
        return await payments.get_operation(merchant_id, mode, operation_id, deps=self._deps)

    async def find(self, payment_id: str) -> Payment | None:
        """A payment by its id alone, for the shopper's browser pages (reached by ids no one guesses)."""
        async with self._deps.uow(read_only=True) as tx:
            return await tx.payments.get_by_id(payment_id)

    async def list(
        self,
        merchant_id: str,
        mode: str,
        *,
        limit: int,
        starting_after: str | None = None,
        status: str | None = None,
        reference: str | None = None,
    ) -> tuple[list[Payment], bool]:
        """Newest first; `starting_after` is the last payment id of the previous page."""
        _check_cursor(starting_after, "pay")
        return await self._queries.list_payments(
            merchant_id, mode, limit=limit, starting_after=starting_after, status=status, reference=reference
        )

    async def simulate_report(
        self, merchant_id: str, mode: str, payment_id: str, kind: ReportKind, amount: int | None, reason: str | None
    ) -> Payment:
        """Test mode: as if the acquirer reported `kind` (a chargeback, its reversal, a receipt)."""
        return await self._resumed() or await report_for_payment(
            merchant_id, mode, payment_id, kind, amount, reason, deps=self._deps
        )


class VaultServices:
    def __init__(self, deps: PaymentDeps, token_ttl: timedelta) -> None:
        self._deps = deps
        self._ttl = token_ttl

    async def create_token(self, merchant_id: str, mode: str, card: CardData) -> CardToken:
        deps = self._deps
        return await create_token(
            merchant_id, mode, card, uow=deps.uow, cipher=deps.cipher, ttl=self._ttl, now=utcnow()
        )

    async def save_card(self, cmd: SaveCard) -> SavedCard:
        return await vault.save_card(cmd, uow=self._deps.uow, cipher=self._deps.cipher, now=utcnow())

    async def list_cards(self, merchant_id: str, mode: str, identifier: str) -> Sequence[SavedCard]:
        return await vault.list_cards(merchant_id, mode, identifier, uow=self._deps.uow)

    async def get_card(self, merchant_id: str, mode: str, card_token: str) -> SavedCard:
        return await vault.get_card(merchant_id, mode, card_token, uow=self._deps.uow)

    async def delete_card(self, merchant_id: str, mode: str, card_token: str) -> SavedCard:
        return await vault.delete_card(merchant_id, mode, card_token, uow=self._deps.uow, now=utcnow())


class WebhookServices:
    def __init__(
        self,
        deps: PaymentDeps,
        resolve: Resolver,
        *,
        private_networks: bool = False,
        endpoint_formats: Mapping[str, Callable[[], str]] | None = None,
    ) -> None:
        self._uow = deps.uow
        self._resolve = resolve
        self._private = private_networks  # the operator lets test-mode endpoints aim at private networks
        # The formats a merchant may choose for an endpoint, each with how its secrets are made.
        self._formats: dict[str, Callable[[], str]] = {DEFAULT_FORMAT: webhook_secret, **(endpoint_formats or {})}

    @property
    def endpoint_formats(self) -> list[str]:
        return sorted(self._formats)

    async def create_endpoint(
        self,
        merchant_id: str,
        mode: str,
        url: str,
        enabled_events: list[str],
        description: str | None,
        format_name: str = DEFAULT_FORMAT,
    ) -> WebhookEndpoint:
        new_secret = self._formats.get(format_name)
        if new_secret is None:
            raise ValidationError(
                f"no webhook format {format_name!r} in this build; known: {', '.join(self.endpoint_formats)}",
                field="format",
            )
        return await webhooks.create_endpoint(
            merchant_id,
            mode,
            url,
            enabled_events,
            description=description,
            uow=self._uow,
            resolve=self._resolve,
            now=utcnow(),
            private_networks=self._private,
            format_name=format_name,
            new_secret=new_secret,
        )

    async def list_endpoints(self, merchant_id: str, mode: str) -> list[WebhookEndpoint]:
        return await webhooks.list_endpoints(merchant_id, mode, uow=self._uow)

    async def get_endpoint(self, merchant_id: str, mode: str, endpoint_id: str) -> WebhookEndpoint:
        return await webhooks.get_endpoint(merchant_id, mode, endpoint_id, uow=self._uow)

    async def update_endpoint(
        self, merchant_id: str, mode: str, endpoint_id: str, changes: EndpointChanges
    ) -> WebhookEndpoint:
        return await webhooks.update_endpoint(
            merchant_id,
            mode,
            endpoint_id,
            changes,
            uow=self._uow,
            resolve=self._resolve,
            now=utcnow(),
            private_networks=self._private,
        )

    async def channel_endpoint(self, merchant_id: str, mode: str, format_name: str, url: str) -> WebhookEndpoint:
        """The merchant's channel endpoint for `format_name` (made now if it has none): what carries a
        dialect's per-payment callbacks through the delivery log, retries and all."""
        return await webhooks.channel_endpoint(merchant_id, mode, format_name, url, uow=self._uow, now=utcnow())

    async def check_url(self, mode: str, url: str, field: str) -> str:
        """A URL events may be sent to in `mode` (a dialect's per-payment callback URL), as endpoints are checked."""
        return await check_url(url, mode=mode, resolve=self._resolve, field_name=field, private_networks=self._private)

    async def delete_endpoint(self, merchant_id: str, mode: str, endpoint_id: str) -> WebhookEndpoint:
        return await webhooks.delete_endpoint(merchant_id, mode, endpoint_id, uow=self._uow, now=utcnow())

    async def rotate_secret(self, merchant_id: str, mode: str, endpoint_id: str, grace: timedelta) -> WebhookEndpoint:
        return await webhooks.rotate_secret(
            merchant_id, mode, endpoint_id, grace=grace, uow=self._uow, now=utcnow(), secret_for=self._new_secret
        )

    def _new_secret(self, format_name: str) -> str:
        return self._formats.get(format_name, webhook_secret)()

    async def list_deliveries(
        self, merchant_id: str, mode: str, endpoint_id: str, *, limit: int, before: str | None
    ) -> tuple[list[Delivery], bool]:
        _check_cursor(before, "whd")
        return await webhooks.list_deliveries(merchant_id, mode, endpoint_id, limit=limit, before=before, uow=self._uow)

    async def retry_delivery(self, merchant_id: str, mode: str, endpoint_id: str, delivery_id: str) -> Delivery:
        return await webhooks.retry_delivery(merchant_id, mode, endpoint_id, delivery_id, uow=self._uow, now=utcnow())


class IdentityServices:
    """The identities dialects registered (`core.identities`), per merchant and mode."""

    def __init__(self, deps: PaymentDeps, kinds: Sequence[IdentityKind]) -> None:
        self._uow = deps.uow
        self._cipher = deps.cipher
        self._kinds = {kind.name: kind for kind in kinds}
        self._cache = identities.IdentityCache()

    @property
    def kinds(self) -> list[str]:
        return list(self._kinds)

    async def get(self, merchant_id: str, mode: str, kind: str, *, with_secret: bool = False) -> Identity:
        return await identities.identity(
            merchant_id,
            mode,
            self._kinds[kind],
            uow=self._uow,
            cipher=self._cipher,
            now=utcnow(),
            with_secret=with_secret,
            cache=self._cache,
        )

    async def find(self, kind: str, public_id: str) -> Identity | None:
        return await identities.find_identity(kind, public_id, uow=self._uow)

    async def all_of(self, merchant_id: str, mode: str) -> dict[str, str]:
        """Every registered kind's identifier for the merchant in `mode` (made now where missing)."""
        return {name: (await self.get(merchant_id, mode, name)).public_id for name in self._kinds}


class RiskServices:
    """Blocklists and velocity rules of a merchant and mode (`core.risk`)."""

    def __init__(self, deps: PaymentDeps) -> None:
        self._uow = deps.uow
        self._cipher = deps.cipher

    async def add_block(self, merchant_id: str, mode: str, kind: str, value: str) -> tuple[BlockEntry, bool]:
        """The entry, and whether it is new (a value already listed is returned as it was)."""
        return await risk.add_entry(merchant_id, mode, kind, value, uow=self._uow, cipher=self._cipher, now=utcnow())

    async def list_blocks(
        self, merchant_id: str, mode: str, *, limit: int, starting_after: str | None
    ) -> tuple[list[BlockEntry], bool]:
        _check_cursor(starting_after, "blk")
        return await risk.list_entries(merchant_id, mode, limit=limit, starting_after=starting_after, uow=self._uow)

    async def delete_block(self, merchant_id: str, mode: str, entry_id: str) -> BlockEntry:
        return await risk.delete_entry(merchant_id, mode, entry_id, uow=self._uow)

    async def add_rule(self, cmd: risk.NewRule) -> VelocityRule:
        return await risk.add_rule(cmd, uow=self._uow, now=utcnow())

    async def list_rules(self, merchant_id: str, mode: str) -> list[VelocityRule]:
        return await risk.list_rules(merchant_id, mode, uow=self._uow)

    async def delete_rule(self, merchant_id: str, mode: str, rule_id: str) -> VelocityRule:
        return await risk.delete_rule(merchant_id, mode, rule_id, uow=self._uow)

    async def admit(self, key: str, *, limit: int, window_seconds: int) -> bool:
        """A request under `key` within a rate limit of `limit` per fixed window (counted across processes)."""
        return await risk.admit(key, limit=limit, window_seconds=window_seconds, uow=self._uow, now=utcnow())


class MerchantServices:
    def __init__(self, deps: PaymentDeps, auth_cache: AuthCache | None = None) -> None:
        self._uow = deps.uow
        self._auth_cache = auth_cache  # successful key look-ups, for a few seconds (core.auth_cache)

    async def update(self, cmd: merchants.UpdateMerchant) -> merchants.MerchantSettings:
        """Change a merchant's settings (the CLI and the dashboard): callback URL, return-URL domains,
        attempt budget, API IP allowlist, charges."""
        return await merchants.update_merchant(cmd, uow=self._uow)

    async def settings(self, merchant_id: str) -> merchants.MerchantSettings:
        return await merchants.merchant_settings(merchant_id, uow=self._uow)

    async def active_keys(self, merchant_id: str) -> list[merchants.ApiKey]:
        """The merchant's keys in force (the dashboard's API Access shows a publishable key whole, a secret key by
        its prefix)."""
        async with self._uow(read_only=True) as tx:
            return list(await tx.merchants.active_keys(merchant_id))

    async def roll_key(self, merchant_id: str, mode: str, grace: timedelta = timedelta(0)) -> merchants.RolledKey:
        """A new secret key for `mode` (its plain text returned this once); the old ones stop working after
        `grace`."""
        return await merchants.roll_key(merchant_id, mode, uow=self._uow, grace=grace)

    async def authenticate_key(self, raw: str) -> MerchantContext:
        return await merchants.authenticate_key(raw, uow=self._uow, cache=self._auth_cache)

    async def authenticate_client(
        self, client_id: str | None, secret: str | None, merchant_id: str | None
    ) -> MerchantContext:
        return await merchants.authenticate_client(
            client_id, secret, merchant_id, uow=self._uow, cache=self._auth_cache
        )

    async def origin_allowed_by_any(self, origin: str) -> bool:
        """May some merchant's page at `origin` call the gateway from a browser (a CORS preflight)?"""
        return await browser_origins.origin_allowed_by_any(origin, uow=self._uow)


@dataclass(frozen=True)
class Services:
    """Everything a dialect may ask of the gateway."""

    payments: PaymentServices
    vault: VaultServices
    webhooks: WebhookServices
    merchants: MerchantServices
    identities: IdentityServices
    risk: RiskServices
    queries: ReadModel  # lists for APIs and the dashboard (read-only, no rules)
    idempotency: IdempotencyKeys
    fingerprint: Callable[[bytes], str]  # a keyed hash of request bodies (idempotency): they carry card data
    public_url: str  # where shoppers' browsers reach the gateway
    # The reverse proxies whose X-Forwarded-For is believed when working out a caller's address.
    trusted_proxies: tuple[Network, ...] = ()
    dashboard: DashboardServices | None = None  # users, sessions and the audit log (`tessera.dashboard`)

    async def list_events(
        self, merchant_id: str, mode: str, *, limit: int, after: int = 0, types: list[str] | None = None
    ) -> tuple[list[dict[str, Any]], bool]:
        """Events numbered after `after`, in sequence order."""
        if isinstance(after, bool) or not isinstance(after, int) or not 0 <= after <= MAX_SEQUENCE:
            raise ValidationError(f"after must be a whole number from 0 to {MAX_SEQUENCE}", field="after")
        unknown = [t for t in types or () if t not in EVENT_TYPES]
        if unknown:
            # A misspelt type would list nothing with a 200 and look like "no such events".
            raise ValidationError(
                f"unknown event type {unknown[0]!r}; known types: {', '.join(sorted(EVENT_TYPES))}", field="type"
            )
        return await self.queries.list_events(merchant_id, mode, limit=limit, after=after, types=types)


def build_services(
    deps: PaymentDeps,
    *,
    queries: ReadModel,
    idempotency: IdempotencyKeys,
    resolve: Resolver,
    token_ttl: timedelta,
    public_url: str,
    private_networks: bool = False,
    identity_kinds: Sequence[IdentityKind] = (),
    trusted_proxies: tuple[Network, ...] = (),
    endpoint_formats: Mapping[str, Callable[[], str]] | None = None,
    dashboard: DashboardServices | None = None,
    auth_cache: AuthCache | None = None,
) -> Services:
    return Services(
        payments=PaymentServices(deps, queries),
        vault=VaultServices(deps, token_ttl),
        webhooks=WebhookServices(deps, resolve, private_networks=private_networks, endpoint_formats=endpoint_formats),
        merchants=MerchantServices(deps, auth_cache),
        identities=IdentityServices(deps, identity_kinds),
        risk=RiskServices(deps),
        queries=queries,
        idempotency=idempotency,
        fingerprint=deps.cipher.keyed_hash,
        public_url=public_url,
        trusted_proxies=trusted_proxies,
        dashboard=dashboard,
    )
