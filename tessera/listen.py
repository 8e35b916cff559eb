"""`tessera listen`: follow a merchant's events as they happen and forward each, signed, to a local URL.

For developing an integration on a laptop, as `stripe listen --forward-to` is: no endpoint to set up,
nothing retried, one line printed per event. Each event is rendered by the webhook format it is given
(the native one, from the composition root) and signed with the merchant's webhook secret, exactly as
the delivery worker renders and signs it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime

from tessera.core.clock import utcnow
from tessera.core.webhooks.formats import OutgoingEvent, WebhookFormat
from tessera.delivery.sender import Sender
from tessera.storage.engine import Database
from tessera.storage.queries import last_event_sequence, list_events

POLL_SECONDS = 0.25


def describe(event: dict[str, object], status: int | None, error: str | None, latency_ms: int) -> str:
    moment = event["created_at"]
    when = moment.strftime("%H:%M:%S") if isinstance(moment, datetime) else ""
    answer = f"[{status}]" if status is not None else f"[failed: {error}]"
    payment = event.get("payment_id") or ""
    return f"{when}  --> {event['type']:<24} {event['id']}  {payment}  <-- {answer} {latency_ms} ms"


async def listen(
    db: Database,
    *,
    merchant_id: str,
    mode: str,
    secret: str,
    forward_to: str,
    webhook_format: WebhookFormat,
    types: Sequence[str] | None,
    stop: asyncio.Event,
    echo: Callable[[str], None],
    timeout: float = 10.0,
) -> int:
    """Forward events newer than the start until `stop` is set; returns how many were forwarded."""
    after = await last_event_sequence(db, merchant_id, mode)
    sender = Sender(timeout=timeout, connections=4)
    forwarded = 0
    try:
        while not stop.is_set():
            found, more = await list_events(db, merchant_id, mode, limit=100, after=after, types=list(types or []))
            for event in found:
                after = int(str(event["sequence"]))
                outgoing = OutgoingEvent(
                    id=str(event["id"]),
                    type=str(event["type"]),
                    sequence=after,
                    merchant_id=merchant_id,
                    mode=mode,
                    payment_id=event.get("payment_id"),
                    data=dict(event["data"]),
                    created_at=event["created_at"],
                )
                rendered = webhook_format.render(outgoing, secrets=[secret], attempted_at=utcnow())
                result = await sender.send(forward_to, rendered.body, rendered.headers, live=False)
                echo(describe(event, result.status_code, result.error, result.latency_ms))
                forwarded += 1
            if not more:
                try:
                    await asyncio.wait_for(stop.wait(), POLL_SECONDS)
                except TimeoutError:
                    pass
    finally:
        await sender.close()
    return forwarded
