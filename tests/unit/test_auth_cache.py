"""The per-process cache of API key look-ups (core.auth_cache), on fake clocks: an entry lives at most its
ttl, a key's end (`revoked_at`) is honoured while it is cached, failures are never kept, the cache is
bounded, a change made through this process clears what it touched, and no request can change the
merchant another one gets."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tessera.core.auth_cache import AuthCache
from tessera.core.errors import AuthenticationError, PermissionDeniedError
from tessera.core.merchants import (
    ApiKey,
    KeyKind,
    Merchant,
    MerchantStatus,
    authenticate_client,
    authenticate_key,
    create_merchant,
    hash_key,
)
from tessera.core.risk.model import Charge, RiskSummary
from tests.fakes import InMemoryUnitOfWork, InMemoryUnitOfWorkFactory

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Clocks:
    """A monotonic clock and a wall clock that move together, by hand."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def monotonic(self) -> float:
        return self.seconds

    def now(self) -> datetime:
        return T0 + timedelta(seconds=self.seconds - 1000.0)

    def advance(self, seconds: float) -> None:
        self.seconds += seconds


class CountingUnitOfWork(InMemoryUnitOfWorkFactory):
    """Counts the units of work opened: each look-up that reached the store opened one."""

    opened = 0

    def __call__(self, *, read_only: bool = False) -> InMemoryUnitOfWork:
        self.opened += 1
        return super().__call__(read_only=read_only)


def _merchant(merchant_id: str = "mer_1") -> Merchant:
    return Merchant(merchant_id, "Shop", MerchantStatus.ACTIVE, T0, allowed_domains=["shop.test"])


def _key(key_id: str = "key_1", merchant_id: str = "mer_1", revoked_at: datetime | None = None) -> ApiKey:
    return ApiKey(key_id, merchant_id, "test", KeyKind.SECRET, "cl_1", "h", "sk_test_abcd", T0, revoked_at)


def _cache(clocks: Clocks, ttl: float = 2.0, **kw: Any) -> AuthCache:
    return AuthCache(ttl, monotonic=clocks.monotonic, now=clocks.now, **kw)


def test_an_entry_expires_after_its_ttl() -> None:
    clocks = Clocks()
    cache = _cache(clocks)
    cache.put("d", _key(), _merchant(), generation=cache.generation)
    clocks.advance(1.9)
    assert cache.get("d") is not None
    clocks.advance(0.1)
    assert cache.get("d") is None
    assert len(cache) == 0


def test_a_keys_end_is_honoured_while_it_is_cached() -> None:
    """A key rolled with a grace period stops when the period ends, even if it was cached just before."""
    clocks = Clocks()
    cache = _cache(clocks, ttl=60)
    cache.put("d", _key(revoked_at=clocks.now() + timedelta(seconds=1)), _merchant(), generation=cache.generation)
    assert cache.get("d") is not None
    clocks.advance(1)
    assert cache.get("d") is None


def test_a_ttl_of_zero_keeps_nothing() -> None:
    clocks = Clocks()
    cache = _cache(clocks, ttl=0)
    cache.put("d", _key(), _merchant(), generation=cache.generation)
    assert cache.get("d") is None and not cache.enabled


def test_the_cache_holds_at_most_max_entries_dropping_the_least_recently_used() -> None:
    clocks = Clocks()
    cache = _cache(clocks, max_entries=3)
    for n in range(3):
        cache.put(f"d{n}", _key(f"key_{n}"), _merchant(), generation=cache.generation)
    assert cache.get("d0") is not None  # now the most recently used
    for n in range(3, 1000):
        cache.put(f"d{n}", _key(f"key_{n}"), _merchant(), generation=cache.generation)
        assert len(cache) <= 3
    assert cache.get("d0") is None and cache.get("d999") is not None


def test_forgetting_a_merchant_or_a_key_clears_only_their_entries() -> None:
    clocks = Clocks()
    cache = _cache(clocks)
    cache.put("a", _key("key_a", "mer_1"), _merchant("mer_1"), generation=cache.generation)
    cache.put("b", _key("key_b", "mer_2"), _merchant("mer_2"), generation=cache.generation)
    cache.put("c", _key("key_c", "mer_3"), _merchant("mer_3"), generation=cache.generation)
    cache.forget(merchant_ids=["mer_1"], key_ids=["key_b"])
    assert cache.get("a") is None and cache.get("b") is None and cache.get("c") is not None


def test_a_look_up_that_began_before_a_change_is_not_stored() -> None:
    """A request that read the old row while another in this process committed a change must not cache it."""
    clocks = Clocks()
    cache = _cache(clocks)
    began = cache.generation
    cache.forget(merchant_ids=["mer_1"])  # a write committed meanwhile
    cache.put("d", _key(), _merchant(), generation=began)
    assert cache.get("d") is None


def test_a_request_cannot_change_the_merchant_another_request_gets() -> None:
    clocks = Clocks()
    cache = _cache(clocks)
    merchant = _merchant()
    cache.put("d", _key(), merchant, generation=cache.generation)
    merchant.allowed_domains.append("changed-by-the-loader.test")
    first = cache.get("d")
    assert first is not None
    first[1].allowed_domains.append("evil.test")
    first[1].summary("test").entries = 99
    first[1].attempt_budget = 10
    again = cache.get("d")
    assert again is not None
    assert again[1].allowed_domains == ["shop.test"] and again[1].risk == {} and again[1].attempt_budget == 3


# ------------------------------------------------------------------------------ through authenticate_key


async def _made(uow: InMemoryUnitOfWorkFactory) -> tuple[str, str, str]:
    merchant, creds = await create_merchant("Shop", uow=uow)
    return merchant.id, creds[0].secret_key, creds[0].client_id


async def test_a_successful_look_up_is_served_from_the_cache_until_its_ttl_ends() -> None:
    clocks = Clocks()
    cache, uow = _cache(clocks), CountingUnitOfWork()
    merchant_id, secret, _ = await _made(uow)
    uow.opened = 0
    for _ in range(5):
        assert (await authenticate_key(secret, uow=uow, cache=cache)).merchant_id == merchant_id
    assert uow.opened == 1
    clocks.advance(2)
    await authenticate_key(secret, uow=uow, cache=cache)
    assert uow.opened == 2
    assert hash_key(secret) in cache._entries and secret not in str(list(cache._entries))  # by digest only


async def test_a_failed_look_up_is_never_cached() -> None:
    clocks = Clocks()
    cache, uow = _cache(clocks), CountingUnitOfWork()
    merchant_id, secret, client_id = await _made(uow)
    uow.opened = 0
    for _ in range(3):
        with pytest.raises(AuthenticationError):
            await authenticate_key("sk_test_" + "x" * 43, uow=uow, cache=cache)
        with pytest.raises(AuthenticationError):
            await authenticate_client(client_id, "sk_test_" + "y" * 43, merchant_id, uow=uow, cache=cache)
    assert uow.opened == 6 and len(cache) == 0


async def test_the_three_headers_still_check_client_and_merchant_ids_on_a_cached_key() -> None:
    clocks = Clocks()
    cache, uow = _cache(clocks), CountingUnitOfWork()
    merchant_id, secret, client_id = await _made(uow)
    assert (await authenticate_client(client_id, secret, merchant_id, uow=uow, cache=cache)).client_id == client_id
    with pytest.raises(AuthenticationError):
        await authenticate_client("cl_test_other", secret, merchant_id, uow=uow, cache=cache)
    with pytest.raises(AuthenticationError):
        await authenticate_client(client_id, secret, "mer_other", uow=uow, cache=cache)


async def test_a_change_in_another_process_takes_effect_when_the_entry_expires() -> None:
    """The store changed behind this process's back (another process suspended the merchant)."""
    clocks = Clocks()
    cache, uow = _cache(clocks), CountingUnitOfWork()
    merchant_id, secret, _ = await _made(uow)
    await authenticate_key(secret, uow=uow, cache=cache)
    async with uow() as tx:
        await tx.merchants.set_status(merchant_id, MerchantStatus.SUSPENDED.value)
        await tx.commit()
    await authenticate_key(secret, uow=uow, cache=cache)  # still cached: within the ttl
    clocks.advance(2)
    with pytest.raises(PermissionDeniedError):
        await authenticate_key(secret, uow=uow, cache=cache)


async def test_without_a_cache_every_look_up_reads_the_store() -> None:
    uow = CountingUnitOfWork()
    _, secret, _ = await _made(uow)
    uow.opened = 0
    for _ in range(3):
        await authenticate_key(secret, uow=uow)
    assert uow.opened == 3


def test_a_merchants_copy_equals_it_and_shares_nothing_mutable() -> None:
    """Every field is set here, so a field added to Merchant must be added here (and, if mutable, copied in
    Merchant.copy)."""
    values: dict[str, Any] = {
        "id": "mer_1",
        "name": "Shop",
        "status": MerchantStatus.ACTIVE,
        "created_at": T0,
        "allowed_domains": ["shop.test"],
        "webhook_secret": "whsec_x",
        "threeds_policy": "required",
        "attempt_budget": 5,
        "allowed_ips": {"test": ["10.0.0.0/8"]},
        "charges": [Charge("*", "INR", 250, 0)],
        "risk": {"test": RiskSummary(2, [], {24: 1}, 7)},
    }
    assert set(values) == {f.name for f in fields(Merchant)}
    merchant = Merchant(**values)
    copied = merchant.copy()
    assert copied == merchant and copied is not merchant
    for f in fields(Merchant):
        value = getattr(merchant, f.name)
        if isinstance(value, list | dict):
            assert getattr(copied, f.name) is not value, f.name
    assert copied.allowed_ips["test"] is not merchant.allowed_ips["test"]
    assert copied.risk["test"] is not merchant.risk["test"]
    assert copied.risk["test"].ip_prefixes is not merchant.risk["test"].ip_prefixes
    assert copied.risk["test"].rules is not merchant.risk["test"].rules
    assert {f.name for f in fields(RiskSummary)} == {"entries", "rules", "ip_prefixes", "version"}
