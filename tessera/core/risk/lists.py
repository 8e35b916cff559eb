"""The blocklists as each process holds them: a merchant's match keys per mode, kept while the merchant's
list version is the one they were read at.

Almost every attempt matches no entry, and looking that up costs a transaction and a query on every
payment. The merchant's row, loaded with its API key on every request, carries its list's version (raised
in the transaction that adds or removes an entry, under the merchant's row lock), so a process that holds
the keys of that version answers "no match" from memory; a change anywhere, in any process, raises the
version, and the next attempt here reads the keys again. A match is still read from the database, for the
entry that decides. Lists longer than `MAX_CACHED_ENTRIES` are not held: they are looked up per attempt.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from tessera.core.ports import UnitOfWorkFactory

MAX_CACHED_ENTRIES = 100_000  # about 10 MB of keys: a longer list is looked up in the database per attempt
MAX_CACHED_LISTS = 1_024  # merchant and mode pairs, least recently used dropped first


class ListCache:
    def __init__(self, max_entries: int = MAX_CACHED_ENTRIES, max_lists: int = MAX_CACHED_LISTS) -> None:
        self._max_entries = max_entries
        self._max_lists = max_lists
        self._lists: OrderedDict[tuple[str, str], tuple[int, frozenset[str]]] = OrderedDict()

    def holds(self, entries: int) -> bool:
        """Whether a list of this many entries is held in memory (else looked up per attempt)."""
        return entries <= self._max_entries

    async def listed(
        self, merchant_id: str, mode: str, version: int, keys: Sequence[str], *, uow: UnitOfWorkFactory
    ) -> list[str]:
        """Those of `keys` on the merchant's list of `version`, read from the database if this process
        holds another version (or none)."""
        found = self._lists.get((merchant_id, mode))
        if found is None or found[0] != version:
            async with uow(read_only=True) as tx:
                held = frozenset(await tx.risk.entry_keys(merchant_id, mode))
            # Read after the version was: the keys are as new as it, or newer (never older).
            found = (version, held)
            self._lists[(merchant_id, mode)] = found
            while len(self._lists) > self._max_lists:
                self._lists.popitem(last=False)
        else:
            self._lists.move_to_end((merchant_id, mode))
        return [key for key in keys if key in found[1]]
