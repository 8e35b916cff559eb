"""The faults the acquirer host simulator injects, set by command-line flags or its control endpoint.

Rate faults act on each financial request (not on 0800 network management) with a probability: `drop`
(apply it, never answer), `delay` (answer after `delay_seconds`), `close` (apply it, then close the
connection without answering), `garble` (answer with bytes that are no ISO 8583 message), `duplicate`
(answer twice). Event faults happen when asked: `refuse` (close every connection and refuse new ones for
N seconds) and `restart` (close everything, drop all in-memory state, reopen the ledger from disk, and
listen again after N seconds).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

RATE_FAULTS = ("drop", "delay", "close", "garble", "duplicate")
EVENT_FAULTS = ("refuse", "restart")


@dataclass(slots=True)
class Faults:
    rates: dict[str, float] = field(default_factory=dict)
    delay_seconds: float = 3.0
    _random: random.Random = field(default_factory=random.Random)

    def set(self, name: str, value: float) -> None:
        if name == "delay_seconds":
            self.delay_seconds = value
            return
        if name not in RATE_FAULTS:
            raise ValueError(f"unknown fault {name!r}; rate faults: {RATE_FAULTS}, events: {EVENT_FAULTS}")
        if not 0 <= value <= 1:
            raise ValueError(f"fault {name}: a rate between 0 and 1")
        if value:
            self.rates[name] = value
        else:
            self.rates.pop(name, None)

    def clear(self) -> None:
        self.rates.clear()

    def pick(self) -> str | None:
        """The fault to apply to this request, if any (at most one)."""
        for name, rate in self.rates.items():
            if self._random.random() < rate:
                return name
        return None

    def as_dict(self) -> dict[str, float]:
        return dict(self.rates) | {"delay_seconds": self.delay_seconds}


def parse_flag(text: str) -> tuple[str, float]:
    """`drop=0.1`, `garble` (rate 1), `refuse=2` (seconds), `delay_seconds=5`."""
    name, _, value = text.partition("=")
    name = name.strip()
    if name not in RATE_FAULTS + EVENT_FAULTS + ("delay_seconds",):
        raise ValueError(f"unknown fault {name!r}; rate faults: {RATE_FAULTS}, events: {EVENT_FAULTS}")
    return name, float(value) if value else 1.0
