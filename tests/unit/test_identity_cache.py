"""A dialect's per-merchant identity (core.identities) is read from the store once per process: identities
are only ever added, and vendors' clients send theirs with every call."""

from __future__ import annotations

from datetime import UTC, datetime

from tessera.core.identities import IdentityCache, MadeIdentity, StoredIdentity, identity
from tests.unit.test_payment_service import MERCHANT, World, _keyring
from tests.unit.test_risk_list_cache import CountingUow

NOW = datetime(2026, 11, 28, tzinfo=UTC)


class Kind:
    name = "entity_id"

    def __init__(self) -> None:
        self.made = 0

    def make(self) -> MadeIdentity:
        self.made += 1
        return MadeIdentity(public_id=f"ent{self.made}", secret=b"s3cret")


async def test_an_identity_is_made_once_read_once_and_then_answered_from_memory() -> None:
    uow, kind, cache, cipher = CountingUow(), Kind(), IdentityCache(), _keyring()
    world = World()
    world.uow = uow
    await world.add_merchant(MERCHANT)
    first = await identity("mer_1", "test", kind, uow=uow, cipher=cipher, now=NOW, cache=cache)
    opened = uow.opened
    again = await identity("mer_1", "test", kind, uow=uow, cipher=cipher, now=NOW, cache=cache, with_secret=True)
    assert uow.opened == opened and kind.made == 1
    assert again.public_id == first.public_id == "ent1" and again.secret == b"s3cret"  # unsealed on demand
    # Another process (its own memory) reads the same identity from the store, and makes no other.
    other = await identity("mer_1", "test", kind, uow=uow, cipher=cipher, now=NOW, cache=IdentityCache())
    assert other.public_id == "ent1" and uow.opened == opened + 1 and kind.made == 1


def test_the_least_recently_used_identity_is_forgotten_first() -> None:
    cache = IdentityCache(max_identities=2)
    for merchant in ("mer_1", "mer_2"):
        cache.keep(StoredIdentity(merchant, "test", "entity_id", merchant, None, None, NOW))
    assert cache.get("mer_1", "test", "entity_id") is not None  # mer_2 is now the least recently used
    cache.keep(StoredIdentity("mer_3", "test", "entity_id", "mer_3", None, None, NOW))
    assert cache.get("mer_2", "test", "entity_id") is None and cache.get("mer_1", "test", "entity_id") is not None
