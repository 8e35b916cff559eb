"""Merchants, their settings and credentials, and proving who a request comes from.

A merchant's callback URL is kept in one place only: its callback webhook endpoint, one per mode it has
keys for. `update_merchant` sets, changes or removes it (enabling or disabling that endpoint), so the
URL a merchant is told it has and the URL its callbacks go to cannot disagree.

Secret and publishable keys carry 256 bits of randomness and are stored only as SHA-256 hashes: a
key's entropy makes a plain hash safe, and lets a request be matched by an indexed look-up. The
stored hash is then compared again in constant time.

A leaked key is killed by `revoke_key` (it stops authenticating at once in this process: look-ups skip
revoked keys and the commit clears the process's `AuthCache`; in other processes within that cache's
ttl, `TESSERA_AUTH_CACHE_SECONDS`),
and `roll_key` replaces a mode's secret key in one transaction: a new one, under the same client id so
that seed 000's headers keep theirs, and the old one revoked.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from tessera.core.auth_cache import AuthCache
from tessera.core.clock import utcnow
from tessera.core.errors import (
    AuthenticationError,
    ConflictError,
    ErrorCode,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from tessera.core.ids import new_id, random_token, webhook_secret
from tessera.core.ports import UnitOfWork, UnitOfWorkFactory
from tessera.core.risk.caller import parse_networks
from tessera.core.risk.model import Charge, RiskSummary, check_charge
from tessera.core.threeds.service import Policy as ThreeDSPolicy
from tessera.core.webhooks.endpoints import CALLBACK_FORMAT, EndpointKind, EndpointStatus
from tessera.core.webhooks.service import callback_endpoint

MODES = ("test", "live")


class MerchantStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class KeyKind(StrEnum):
    SECRET = "secret"
    PUBLISHABLE = "publishable"


@dataclass(slots=True)
class Merchant:
    id: str
    name: str
    status: MerchantStatus
    created_at: datetime
    allowed_domains: list[str] = field(default_factory=list)
    webhook_secret: str | None = None
    threeds_policy: str = "auto"
    attempt_budget: int = 3  # how many cards an intent may try before it fails
    # The API IP allowlist, by mode: CIDRs a secret key of that mode may be used from (none: anywhere).
    allowed_ips: dict[str, list[str]] = field(default_factory=dict)
    # The merchant's fees (core.risk): a live payment needs one for its card brand and currency.
    charges: list[Charge] = field(default_factory=list)
    # By mode: how many blocklist entries and velocity rules it has (core.risk), kept with them.
    risk: dict[str, RiskSummary] = field(default_factory=dict)

    def copy(self) -> Merchant:
        """A copy sharing nothing a change could reach: its lists and dicts are copied, and their items are
        frozen (Charge) or copied (RiskSummary); its other fields are immutable values. The auth cache
        (core.auth_cache) gives each request one; a deep copy costs about ten times as much."""
        return replace(
            self,
            allowed_domains=list(self.allowed_domains),
            allowed_ips={mode: list(networks) for mode, networks in self.allowed_ips.items()},
            charges=list(self.charges),
            risk={mode: summary.copy() for mode, summary in self.risk.items()},
        )

    def summary(self, mode: str) -> RiskSummary:
        return self.risk.setdefault(mode, RiskSummary())

    def allows_return_url_host(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    merchant_id: str
    mode: str
    kind: KeyKind
    client_id: str
    key_hash: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None  # set in advance when rolled with a grace period
    # A publishable key whole: it is public by design (it goes into the shopper's browser), so the
    # dashboard's API Access shows it. Never set for a secret key.
    public_value: str | None = field(default=None, repr=False)

    def describe(self) -> dict[str, str]:
        """What may be shown of a key after it was made: never more than its prefix."""
        return {"key_id": self.id, "prefix": self.prefix, "kind": self.kind.value, "mode": self.mode}


@dataclass(frozen=True, slots=True)
class Credentials:
    """Plain-text credentials, shown once when made and never stored."""

    merchant_id: str
    mode: str
    client_id: str
    secret_key: str
    publishable_key: str
    webhook_secret: str

    def as_dict(self) -> dict[str, str]:
        return {
            "merchant_id": self.merchant_id,
            "mode": self.mode,
            "client_id": self.client_id,
            "secret_key": self.secret_key,
            "publishable_key": self.publishable_key,
            "webhook_secret": self.webhook_secret,
        }


@dataclass(frozen=True, slots=True)
class MerchantContext:
    """Who is calling: the merchant, the mode of the key, and what kind of key it was."""

    merchant: Merchant
    mode: str
    kind: KeyKind
    client_id: str

    @property
    def merchant_id(self) -> str:
        return self.merchant.id


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_keys(merchant_id: str, mode: str, now: datetime) -> tuple[list[ApiKey], str, str, str]:
    client_id = f"cl_{mode}_{random_token(12)}"
    secret = f"sk_{mode}_{random_token(32)}"
    publishable = f"pk_{mode}_{random_token(32)}"
    keys = [
        ApiKey(new_id("key"), merchant_id, mode, KeyKind.SECRET, client_id, hash_key(secret), secret[:12], now),
        ApiKey(
            new_id("key"),
            merchant_id,
            mode,
            KeyKind.PUBLISHABLE,
            client_id,
            hash_key(publishable),
            publishable[:12],
            now,
            public_value=publishable,
        ),
    ]
    return keys, client_id, secret, publishable


async def create_merchant(
    name: str,
    *,
    uow: UnitOfWorkFactory,
    allowed_domains: list[str] | None = None,
    callback_url: str | None = None,
    modes: tuple[str, ...] = ("test",),
    callback_format: str = CALLBACK_FORMAT,
) -> tuple[Merchant, list[Credentials]]:
    if not name.strip():
        raise ValidationError("merchant name must not be empty", field="name")
    if callback_url is not None:
        callback_url = _check_callback_url(callback_url, live="live" in modes)
    now = utcnow()
    merchant = Merchant(
        id=new_id("mer"),
        name=name.strip(),
        status=MerchantStatus.ACTIVE,
        created_at=now,
        allowed_domains=_domains(allowed_domains or []),
        webhook_secret=(signing_secret := webhook_secret()),
    )
    keys: list[ApiKey] = []
    credentials: list[Credentials] = []
    for mode in modes:
        if mode not in MODES:
            raise ValidationError("mode must be test or live", field="mode")
        made, client_id, secret, publishable = _new_keys(merchant.id, mode, now)
        keys.extend(made)
        assert merchant.webhook_secret is not None
        credentials.append(Credentials(merchant.id, mode, client_id, secret, publishable, merchant.webhook_secret))
    async with uow() as tx:
        await tx.merchants.add(merchant, keys)
        if callback_url is not None:
            for mode in modes:
                await tx.webhooks.add_endpoint(
                    callback_endpoint(merchant.id, mode, callback_url, signing_secret, now, format_name=callback_format)
                )
        await tx.commit()
    return merchant, credentials


def _domains(domains: Iterable[str]) -> list[str]:
    return sorted({d.strip().lower() for d in domains if d.strip()})


@dataclass(frozen=True, slots=True)
class UpdateMerchant:
    """Change a merchant's settings; what is left as None stays as it is.

    `callback_url` sets or changes the callback URL of every mode the merchant has keys for;
    `remove_callback_url` stops callbacks (pending ones are canceled); `allowed_domains` replaces the
    list of return-URL domains; `attempt_budget` is how many cards an intent may try (1 to 10);
    `threeds_policy` is `auto` (authenticate enrolled cards) or `required` (only Y or A pass);
    `allowed_ips` replaces the API IP allowlist of `allowed_ips_modes` (every mode when None; an empty
    list removes it); `charges` replaces the merchant's fees."""

    merchant_id: str
    callback_url: str | None = None
    remove_callback_url: bool = False
    allowed_domains: Sequence[str] | None = None
    attempt_budget: int | None = None
    callback_format: str = CALLBACK_FORMAT
    allowed_ips: Sequence[str] | None = None
    allowed_ips_modes: Sequence[str] | None = None
    threeds_policy: str | None = None  # "auto" or "required" (core.threeds.service.Policy)
    charges: Sequence[Charge] | None = None


@dataclass(frozen=True, slots=True)
class MerchantSettings:
    """What a merchant has set. `callback_urls` has one entry per mode it has keys for: the URL its
    callbacks go to, or None when it has none (never set, removed, or disabled by a 410 answer)."""

    merchant_id: str
    name: str
    allowed_domains: list[str]
    callback_urls: dict[str, str | None]
    attempt_budget: int = 3
    allowed_ips: dict[str, list[str]] = field(default_factory=dict)
    charges: list[Charge] = field(default_factory=list)
    threeds_policy: str = "auto"

    def as_dict(self) -> dict[str, object]:
        return {
            "merchant_id": self.merchant_id,
            "name": self.name,
            "allowed_domains": self.allowed_domains,
            "callback_urls": self.callback_urls,
            "attempt_budget": self.attempt_budget,
            "allowed_ips": self.allowed_ips,
            "charges": [c.as_dict() for c in self.charges],
            "threeds_policy": self.threeds_policy,
        }


_CALLBACK_REMOVED = "the merchant removed its callback URL"


async def update_merchant(cmd: UpdateMerchant, *, uow: UnitOfWorkFactory) -> MerchantSettings:
    """Apply `cmd` in one transaction, and return the merchant's settings as they now are."""
    if cmd.callback_url is not None and cmd.remove_callback_url:
        raise ValidationError("set a callback URL or remove it, not both", field="callback_url")
    budget = cmd.attempt_budget
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int) or not 1 <= budget <= 10):
        raise ValidationError("attempt_budget must be a whole number from 1 to 10", field="attempt_budget")
    ips = [n.with_prefixlen for n in parse_networks(cmd.allowed_ips, field="allowed_ips")] if cmd.allowed_ips else []
    ip_modes = list(cmd.allowed_ips_modes or MODES)
    if any(m not in MODES for m in ip_modes):
        raise ValidationError("mode must be test or live", field="mode")
    if cmd.threeds_policy is not None and cmd.threeds_policy not in {p.value for p in ThreeDSPolicy}:
        raise ValidationError("threeds_policy must be auto or required", field="threeds_policy")
    charges = [check_charge(c) for c in cmd.charges] if cmd.charges is not None else None
    if charges is not None and len({(c.brand, c.currency) for c in charges}) != len(charges):
        raise ValidationError("each card brand and currency may have one charge only", field="charge")
    now = utcnow()
    async with uow() as tx:
        merchant = await tx.merchants.get(cmd.merchant_id, for_update=True)
        if merchant is None:
            raise NotFoundError(f"no merchant {cmd.merchant_id!r}", field="merchant_id")
        modes = await tx.merchants.key_modes(merchant.id)
        url = _check_callback_url(cmd.callback_url, live="live" in modes) if cmd.callback_url is not None else None
        changed = (cmd.allowed_domains, budget, cmd.allowed_ips, charges, cmd.threeds_policy)
        if any(value is not None for value in changed):
            if cmd.allowed_domains is not None:
                merchant.allowed_domains = _domains(cmd.allowed_domains)
            if budget is not None:
                merchant.attempt_budget = budget
            if cmd.allowed_ips is not None:
                allowed = dict(merchant.allowed_ips)
                for mode in ip_modes:
                    allowed[mode] = sorted(set(ips))
                merchant.allowed_ips = {m: v for m, v in allowed.items() if v}
            if charges is not None:
                merchant.charges = charges
            if cmd.threeds_policy is not None:
                merchant.threeds_policy = cmd.threeds_policy
            await tx.merchants.save_settings(merchant)
        for mode in modes:
            if url is not None:
                await _set_callback(tx, merchant, mode, url, cmd.callback_format, now)
            elif cmd.remove_callback_url:
                await _remove_callback(tx, merchant.id, mode, now)
        settings = await _settings(tx, merchant, modes)
        await tx.commit()
    return settings


async def merchant_settings(merchant_id: str, *, uow: UnitOfWorkFactory) -> MerchantSettings:
    async with uow(read_only=True) as tx:
        merchant = await tx.merchants.get(merchant_id)
        if merchant is None:
            raise NotFoundError(f"no merchant {merchant_id!r}", field="merchant_id")
        return await _settings(tx, merchant, await tx.merchants.key_modes(merchant.id))


async def _set_callback(
    tx: UnitOfWork, merchant: Merchant, mode: str, url: str, format_name: str, now: datetime
) -> None:
    endpoint = await tx.webhooks.get_endpoint(merchant.id, mode, EndpointKind.CALLBACK.value, for_update=True)
    if endpoint is None:
        secret = merchant.webhook_secret
        assert secret is not None, "every merchant is made with a webhook secret"
        await tx.webhooks.add_endpoint(callback_endpoint(merchant.id, mode, url, secret, now, format_name=format_name))
        return
    endpoint.url = url
    if endpoint.status is EndpointStatus.DISABLED:
        endpoint.status, endpoint.disabled_reason = EndpointStatus.ENABLED, None
        await tx.webhooks.resume_deliveries(endpoint.id, now)
    endpoint.updated_at = now
    await tx.webhooks.save_endpoint(endpoint)


async def _remove_callback(tx: UnitOfWork, merchant_id: str, mode: str, now: datetime) -> None:
    endpoint = await tx.webhooks.get_endpoint(merchant_id, mode, EndpointKind.CALLBACK.value, for_update=True)
    if endpoint is None:
        return
    # Callbacks waiting for the old URL are canceled, not parked: setting a URL later must not flood it
    # with outcomes from the time there was none.
    await tx.webhooks.cancel_deliveries(endpoint.id, now)
    if endpoint.status is EndpointStatus.ENABLED:
        endpoint.status, endpoint.disabled_reason = EndpointStatus.DISABLED, _CALLBACK_REMOVED
        endpoint.updated_at = now
        await tx.webhooks.save_endpoint(endpoint)


async def _settings(tx: UnitOfWork, merchant: Merchant, modes: Sequence[str]) -> MerchantSettings:
    urls: dict[str, str | None] = {}
    for mode in modes:
        endpoint = await tx.webhooks.get_endpoint(merchant.id, mode, EndpointKind.CALLBACK.value)
        enabled = endpoint is not None and endpoint.status is EndpointStatus.ENABLED
        urls[mode] = endpoint.url if endpoint is not None and enabled else None
    return MerchantSettings(
        merchant.id,
        merchant.name,
        list(merchant.allowed_domains),
        urls,
        merchant.attempt_budget,
        dict(merchant.allowed_ips),
        list(merchant.charges),
        merchant.threeds_policy,
    )


def _check_callback_url(url: str, *, live: bool) -> str:
    """Seed 000's callback URL: absolute http(s), HTTPS when the merchant can take live payments.
    Whether a live URL's host is public is checked on every delivery, when it is resolved."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise ValidationError("the callback URL must be an absolute http or https URL", field="callback_url")
    if live and parts.scheme != "https":
        raise ValidationError("a live merchant's callback URL must use HTTPS", field="callback_url")
    return url.strip()


async def authenticate_key(raw: str, *, uow: UnitOfWorkFactory, cache: AuthCache | None = None) -> MerchantContext:
    """Resolve a secret or publishable key to its merchant; errors never say which part was wrong."""
    if not raw.startswith(("sk_test_", "sk_live_", "pk_test_", "pk_live_")):
        raise AuthenticationError("the API key is not valid", code=ErrorCode.INVALID_API_KEY)
    digest = hash_key(raw)
    found = await _find_key(digest, uow=uow, cache=cache)
    if found is None or not hmac.compare_digest(found[0].key_hash, digest):
        raise AuthenticationError("the API key is not valid", code=ErrorCode.INVALID_API_KEY)
    key, merchant = found
    return _context(key, merchant)


async def authenticate_client(
    client_id: str | None,
    secret: str | None,
    merchant_id: str | None,
    *,
    uow: UnitOfWorkFactory,
    cache: AuthCache | None = None,
) -> MerchantContext:
    """Seed 000/004's three headers: the client id and merchant id must both belong to the secret."""
    if not client_id or not secret or not merchant_id:
        raise AuthenticationError("Missing credentials", code=ErrorCode.AUTHENTICATION_REQUIRED)
    digest = hash_key(secret)
    found = None
    if secret.startswith(("sk_test_", "sk_live_", "pk_test_", "pk_live_")):
        found = await _find_key(digest, uow=uow, cache=cache)
    valid = (
        found is not None
        and hmac.compare_digest(found[0].key_hash, digest)
        and hmac.compare_digest(found[0].client_id.encode(), client_id.encode())
        and hmac.compare_digest(found[1].id.encode(), merchant_id.encode())
    )
    if not valid or found is None:
        raise AuthenticationError("Invalid credentials", code=ErrorCode.INVALID_API_KEY)
    return _context(*found)


async def _find_key(digest: str, *, uow: UnitOfWorkFactory, cache: AuthCache | None) -> tuple[ApiKey, Merchant] | None:
    """The key in force with this digest and its merchant: from `cache` when it has them (for at most its
    ttl; see core.auth_cache), else read, and a key found is remembered there. A key not found is not."""
    if cache is None or not cache.enabled:
        async with uow(read_only=True) as tx:
            return await tx.merchants.find_key(digest)
    found = cache.get(digest)
    if found is not None:
        return found
    generation = cache.generation
    async with uow(read_only=True) as tx:
        found = await tx.merchants.find_key(digest)
    if found is not None:
        cache.put(digest, *found, generation=generation)
    return found


# The merchant this request authenticated as, loaded with its key: services that need the merchant's
# settings take it from here instead of reading the same row again. A context variable lives as long
# as the request's task, so nothing outlives the request or crosses into another.
_AUTHENTICATED: ContextVar[Merchant | None] = ContextVar("tessera_authenticated_merchant", default=None)


def authenticated_merchant(merchant_id: str) -> Merchant | None:
    """The merchant loaded by this request's authentication, if it is `merchant_id`."""
    merchant = _AUTHENTICATED.get()
    return merchant if merchant is not None and merchant.id == merchant_id else None


def _context(key: ApiKey, merchant: Merchant) -> MerchantContext:
    if merchant.status is not MerchantStatus.ACTIVE:
        raise PermissionDeniedError(
            f"the merchant account is {merchant.status.value}", code=ErrorCode.MERCHANT_INACTIVE
        )
    _AUTHENTICATED.set(merchant)
    return MerchantContext(merchant=merchant, mode=key.mode, kind=key.kind, client_id=key.client_id)


def require_secret(ctx: MerchantContext) -> MerchantContext:
    if ctx.kind is not KeyKind.SECRET:
        raise PermissionDeniedError("a publishable key can only create tokens; use the secret key")
    return ctx


def _named(keys: Sequence[ApiKey], name: str) -> ApiKey:
    """The key `name` designates: its id (key_...), the key itself, or its prefix as shown (12 characters)."""
    name = name.strip()
    digest = hash_key(name)
    found = [k for k in keys if k.id == name or hmac.compare_digest(k.key_hash, digest)]
    if not found and len(name) == len(keys[0].prefix if keys else ""):
        found = [k for k in keys if k.prefix == name]
    if not found:
        raise NotFoundError("the merchant has no unrevoked key with this id or prefix", field="key")
    if len(found) > 1:
        raise ValidationError("more than one key has this prefix: name the key by its id", field="key")
    return found[0]


async def revoke_key(merchant_id: str, key: str, *, uow: UnitOfWorkFactory) -> ApiKey:
    """Revoke one of the merchant's keys, named by its id, its prefix or the key itself; it stops
    authenticating with the transaction's commit. Returns the key that was revoked."""
    async with uow() as tx:
        if await tx.merchants.get(merchant_id, for_update=True) is None:
            raise NotFoundError(f"no merchant {merchant_id!r}", field="merchant_id")
        chosen = _named(await tx.merchants.active_keys(merchant_id), key)
        if not await tx.merchants.revoke_key(chosen.id, utcnow()):
            raise ConflictError("the key was revoked at the same time by another request")
        await tx.commit()
    return chosen


@dataclass(frozen=True, slots=True)
class RolledKey:
    """A new secret key (its plain text, shown once) and the secret keys of its mode it replaced, which
    work until `old_keys_end_at` (now, unless rolled with a grace period)."""

    key: ApiKey
    secret_key: str
    revoked: list[ApiKey]
    old_keys_end_at: datetime | None = None


MAX_KEY_GRACE = timedelta(days=7)


async def roll_key(
    merchant_id: str, mode: str, *, uow: UnitOfWorkFactory, grace: timedelta = timedelta(0)
) -> RolledKey:
    """Issue a new secret key for `mode` under the mode's client id and revoke its old secret keys, in
    one transaction: there is never a moment with neither. With a `grace` period (at most 7 days) the old
    keys keep working until it has passed, so a merchant's servers can move to the new one; without,
    never a moment after with both."""
    if mode not in MODES:
        raise ValidationError("mode must be test or live", field="mode")
    if not timedelta(0) <= grace <= MAX_KEY_GRACE:
        raise ValidationError("the grace period must be from 0 to 7 days", field="grace")
    now = utcnow()
    async with uow() as tx:
        # The merchant's row lock serialises two rolls of the same merchant on PostgreSQL.
        if await tx.merchants.get(merchant_id, for_update=True) is None:
            raise NotFoundError(f"no merchant {merchant_id!r}", field="merchant_id")
        of_mode = [k for k in await tx.merchants.active_keys(merchant_id) if k.mode == mode]
        if not of_mode:
            raise NotFoundError(f"the merchant has no {mode} keys to roll", field="mode")
        old = [k for k in of_mode if k.kind is KeyKind.SECRET]
        secret = f"sk_{mode}_{random_token(32)}"
        client_id = of_mode[-1].client_id  # every key of a mode is made under one client id
        new = ApiKey(new_id("key"), merchant_id, mode, KeyKind.SECRET, client_id, hash_key(secret), secret[:12], now)
        await tx.merchants.add_keys([new])
        for key in old:
            await tx.merchants.revoke_key(key.id, now + grace)
        await tx.commit()
    return RolledKey(new, secret, old, now + grace)
