"""The native webhook format: every event as a Standard Webhooks message (`type`, `timestamp`, `data`),
signed with the endpoint's secrets. What API-made endpoints and `tessera listen` send."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import orjson

from tessera.core.clock import iso_utc
from tessera.core.webhooks.formats import OutgoingEvent, RenderedWebhook
from tessera.core.webhooks.signing import sign


def event_body(event: OutgoingEvent) -> bytes:
    """An endpoint's body, shaped as Standard Webhooks suggests: `type`, `timestamp`, `data`."""
    return orjson.dumps(
        {
            "id": event.id,
            "type": event.type,
            "timestamp": iso_utc(event.created_at),
            "sequence": event.sequence,
            "livemode": event.mode == "live",
            "data": dict(event.data),
        }
    )


class NativeWebhookFormat:
    name = "native"

    def accepts(self, event_type: str) -> bool:
        return True

    def render(self, event: OutgoingEvent, *, secrets: Sequence[str], attempted_at: datetime) -> RenderedWebhook:
        body = event_body(event)
        return RenderedWebhook(body, sign(event.id, attempted_at, body, secrets))
