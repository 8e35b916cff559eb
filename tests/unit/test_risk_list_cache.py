"""A process's copy of the blocklists (core.risk.lists): read once per list version, dropped least recently
used first, and never held for a list too long to keep in memory."""

from __future__ import annotations

from datetime import UTC, datetime

from tessera.core.risk.lists import ListCache
from tessera.core.risk.model import BlockEntry, BlockType
from tests.fakes import InMemoryUnitOfWorkFactory

NOW = datetime(2026, 11, 28, tzinfo=UTC)


class CountingUow(InMemoryUnitOfWorkFactory):
    """The in-memory store, counting the transactions opened on it."""

    def __init__(self) -> None:
        super().__init__()
        self.opened = 0

    def __call__(self, *, read_only: bool = False):  # type: ignore[no-untyped-def]
        self.opened += 1
        return super().__call__(read_only=read_only)


async def _list(uow: CountingUow, merchant_id: str, key: str) -> None:
    async with uow() as tx:
        await tx.risk.add_entry(
            BlockEntry(f"blk_{merchant_id}_{key}", merchant_id, "test", BlockType.EMAIL, key, key, NOW)
        )
        await tx.commit()


async def test_a_list_is_read_once_per_version_and_again_when_the_version_moves() -> None:
    uow, cache = CountingUow(), ListCache()
    await _list(uow, "mer_1", "email:a@example.com")
    opened = uow.opened
    keys = ["email:a@example.com", "email:b@example.com"]
    assert await cache.listed("mer_1", "test", 1, keys, uow=uow) == ["email:a@example.com"]
    assert await cache.listed("mer_1", "test", 1, keys, uow=uow) == ["email:a@example.com"]
    assert uow.opened == opened + 1  # the second look-up read nothing
    await _list(uow, "mer_1", "email:b@example.com")
    opened = uow.opened
    assert await cache.listed("mer_1", "test", 1, keys, uow=uow) == ["email:a@example.com"]  # still version 1
    assert await cache.listed("mer_1", "test", 2, keys, uow=uow) == keys
    assert uow.opened == opened + 1


async def test_the_least_recently_used_list_is_dropped_first() -> None:
    uow, cache = CountingUow(), ListCache(max_lists=2)
    for merchant in ("mer_1", "mer_2", "mer_3"):
        await _list(uow, merchant, "email:a@example.com")
    for merchant in ("mer_1", "mer_2", "mer_1", "mer_3"):  # mer_3 drops mer_2, the least recently used
        await cache.listed(merchant, "test", 1, ["email:a@example.com"], uow=uow)
    opened = uow.opened
    await cache.listed("mer_1", "test", 1, ["email:a@example.com"], uow=uow)
    await cache.listed("mer_3", "test", 1, ["email:a@example.com"], uow=uow)
    assert uow.opened == opened
    await cache.listed("mer_2", "test", 1, ["email:a@example.com"], uow=uow)
    assert uow.opened == opened + 1


def test_a_list_longer_than_the_limit_is_not_held() -> None:
    cache = ListCache(max_entries=10)
    assert cache.holds(10) and not cache.holds(11)
