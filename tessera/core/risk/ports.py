"""The risk controls' storage port: blocklist entries, velocity rules and their counters.

`storage.risk` implements it on SQL; `tests.fakes` in memory. Counting is the one write that must be
right under concurrency: `count` adds to a window's counter and admits the attempt in one atomic step,
so two processes can never both take the last unit of a limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from tessera.core.risk.model import BlockEntry, Count, VelocityRule


class RiskRepository(Protocol):
    async def add_entry(self, entry: BlockEntry) -> bool:
        """Insert; False (nothing written) when the merchant and mode already list its match key."""
        ...

    async def entry_by_key(self, merchant_id: str, mode: str, match_key: str) -> BlockEntry | None: ...
    async def matching_entries(self, merchant_id: str, mode: str, match_keys: Sequence[str]) -> list[BlockEntry]:
        """The entries whose match key is one of `match_keys`: one indexed look-up."""
        ...

    async def entry_keys(self, merchant_id: str, mode: str) -> list[str]:
        """The match key of every entry of the merchant's list in this mode."""
        ...

    async def screen(
        self, merchant_id: str, mode: str, match_keys: Sequence[str], counters: Sequence[tuple[str, str, int]]
    ) -> tuple[list[BlockEntry], dict[tuple[str, str, int], int]]:
        """`matching_entries` and `totals` at once (one statement where the store can)."""
        ...

    async def list_entries(
        self, merchant_id: str, mode: str, *, limit: int, starting_after: str | None
    ) -> tuple[list[BlockEntry], bool]:
        """Newest first (by id), and whether more follow."""
        ...

    async def delete_entry(self, merchant_id: str, mode: str, entry_id: str) -> BlockEntry | None: ...

    async def add_rule(self, rule: VelocityRule) -> None: ...
    async def rules(self, merchant_id: str, mode: str) -> list[VelocityRule]:
        """Every rule of the merchant and mode, oldest first."""
        ...

    async def delete_rule(self, merchant_id: str, mode: str, rule_id: str) -> VelocityRule | None:
        """Delete the rule and its counters."""
        ...

    async def count(self, counts: Sequence[Count]) -> dict[str, int]:
        """Add each increment to its (rule, key, window) counter where the total stays within its limit,
        all in one atomic statement (at most one count per rule); the new total of each counter added to,
        by rule id (nothing was added to the others). Counters of ended windows are left to
        `purge_counters`."""
        ...

    async def totals(self, counters: Sequence[tuple[str, str, int]]) -> dict[tuple[str, str, int], int]:
        """The current totals of these (rule, key, window start) counters (those that exist)."""
        ...

    async def uncount(self, rule_id: str, key: str, window_start: int, increment: int) -> None:
        """Take back an increment of this transaction (another rule refused the attempt)."""
        ...

    async def purge_counters(self, now_epoch: int) -> int:
        """Delete the counters whose window has ended by `now_epoch` (a rule's go with it), rate counters
        included; how many."""
        ...

    async def admit(self, key: str, window_start: int, ends_at: int, limit: int) -> bool:
        """Count one request against the rate counter of (key, window) if the total stays within `limit`, in
        one atomic statement; False (nothing added) when it would not."""
        ...
