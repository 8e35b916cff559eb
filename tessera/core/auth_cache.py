"""A per-process cache of successful API key look-ups: the key and its merchant, by the key's digest.

Authentication read a key and its merchant on every request; this keeps what a look-up found for at
most `ttl` seconds, so a key revoked or a merchant suspended or changed by another process (the CLI, the
dashboard, another worker) takes effect within `ttl`. Changes made through this process take effect at
once: the storage unit of work reports every committed write to a merchant or a key (`forget`). A key's
`revoked_at` is checked on every use, so a grace period that ends while the key is cached ends on time.
Only successes are kept (a failed look-up is never remembered), under the SHA-256 digest of the key,
never the key; the cache holds at most `max_entries`, the least recently used going first, so a flood
of keys cannot grow memory.

Each hit hands out a copy of the merchant (`Merchant` is a mutable dataclass; `Merchant.copy`): what
one request does to it cannot reach another, nor the cached one. Plain Python: no framework or database import.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from tessera.core.clock import utcnow

if TYPE_CHECKING:
    from tessera.core.merchants import ApiKey, Merchant

DEFAULT_MAX_ENTRIES = 4096


@dataclass(frozen=True, slots=True)
class _Entry:
    key: ApiKey
    merchant: Merchant
    expires: float  # on the monotonic clock


class AuthCache:
    """What `find_key` found for a digest, for at most `ttl` seconds; `ttl` 0 keeps nothing."""

    def __init__(
        self,
        ttl: float,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        monotonic: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        if ttl < 0 or max_entries < 1:
            raise ValueError("ttl must be at least 0 and max_entries at least 1")
        self.ttl = ttl
        self.max_entries = max_entries
        self._monotonic = monotonic
        self._now = now
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        # Raised by every `forget`: a look-up that began before a change must not store what it read.
        self._generation = 0

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    @property
    def generation(self) -> int:
        """Take it before reading the database, and give it back to `put`."""
        return self._generation

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, digest: str) -> tuple[ApiKey, Merchant] | None:
        """The key and a copy of its merchant, if cached, not expired and the key still in force."""
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if self._monotonic() >= entry.expires:
            del self._entries[digest]
            return None
        revoked_at = entry.key.revoked_at
        if revoked_at is not None and revoked_at <= self._now():
            del self._entries[digest]
            return None
        self._entries.move_to_end(digest)
        return entry.key, entry.merchant.copy()

    def put(self, digest: str, key: ApiKey, merchant: Merchant, *, generation: int) -> None:
        """Remember a successful look-up, unless something changed since it began (`generation`)."""
        if not self.enabled or generation != self._generation:
            return
        self._entries[digest] = _Entry(key, merchant.copy(), self._monotonic() + self.ttl)
        self._entries.move_to_end(digest)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget(self, *, merchant_ids: Iterable[str] = (), key_ids: Iterable[str] = ()) -> None:
        """Drop the entries of these merchants and keys (a change committed through this process)."""
        merchants, keys = set(merchant_ids), set(key_ids)
        self._generation += 1
        if not merchants and not keys:
            return
        stale = [d for d, e in self._entries.items() if e.merchant.id in merchants or e.key.id in keys]
        for digest in stale:
            del self._entries[digest]

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()
