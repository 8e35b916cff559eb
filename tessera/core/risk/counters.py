"""The velocity counters as this process last committed them, for the check made before 3-D Secure.

The limit itself is kept by the store: the attempt is counted in the transaction that records it, by one
atomic statement that refuses to pass any limit, whatever the number of processes. The check before
3-D Secure only spares a shopper already over a limit an authentication (which costs the merchant a
directory-server fee, and a shopper a challenge) that the count would refuse anyway. Reading the
counters for it cost a transaction and a query on every screened payment, so it reads this memory
instead: the totals the count statement returned in this process's committed transactions.

Within a window a counter only grows once committed (a refused attempt takes back only what its own
transaction added), so a remembered total is a lower bound of the stored one: the check may let
through an attempt that the count then refuses (another process counted meanwhile), but never refuses
one the store would let through. With one process, it decides as the store's totals would.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

MAX_COUNTERS = 50_000  # about 10 MB; the least recently counted are forgotten first

CounterId = tuple[str, str, int]  # rule id, counter key, window start


class CounterCache:
    def __init__(self, max_counters: int = MAX_COUNTERS) -> None:
        self._max = max_counters
        self._totals: OrderedDict[CounterId, int] = OrderedDict()

    def total(self, counter: CounterId) -> int | None:
        """The counter's total as last committed here (a lower bound of the stored one), if remembered."""
        return self._totals.get(counter)

    def learn(self, committed: Iterable[tuple[CounterId, int]]) -> None:
        """Totals from a transaction that has committed. Transactions commit in any order, and a counter
        never shrinks: the larger total is kept."""
        for counter, total in committed:
            known = self._totals.get(counter)
            if known is None or total > known:
                self._totals[counter] = total
            self._totals.move_to_end(counter)
        while len(self._totals) > self._max:
            self._totals.popitem(last=False)

    def __len__(self) -> int:
        return len(self._totals)
