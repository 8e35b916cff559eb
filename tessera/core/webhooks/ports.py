"""The delivery worker's port to storage: the queue of deliveries it dispatches, claims and records.

Each call is one short transaction; nothing is held while a request is in flight.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from tessera.core.webhooks.deliveries import ClaimedDelivery, Recorded


class DeliveryQueue(Protocol):
    async def dispatch(self, now: datetime, limit: int) -> int:
        """Turn committed, undispatched events into deliveries for the endpoints that want them."""
        ...

    async def claim(self, now: datetime, lease: timedelta, limit: int) -> list[ClaimedDelivery]:
        """Due deliveries, leased past `now + lease` so no other worker takes them meanwhile."""
        ...

    async def record(self, recorded: Sequence[Recorded], now: datetime) -> None: ...

    async def purge(self, before: datetime, limit: int = 5000) -> int: ...

    async def pending_count(self) -> int: ...
