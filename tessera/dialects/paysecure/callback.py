"""Paysecure's callbacks: a purchase's outcome POSTed to its `success_callback` (paid, held) or
`failure_callback` (failed, expired, a declined card), as `{"message": <purchase object>, "status":
"<status>"}`, signed with `paysecure-sign` (and `paysecure_sign`): Base64 of an RSA PKCS#1 v1.5 / SHA-256
signature over `purchaseId|STATUS|brandId` with the merchant's key for its mode (`identity`).

A channel format (`core.webhooks.formats.ChannelFormat`): delivered through the merchant's paysecure
channel endpoint, so every callback has the delivery log and the retries of any webhook (Paysecure
itself does not retry; a receiver that dedupes on `purchaseId` and status takes them as they come).
Built only from the event's card-free data: the card appears as BIN and last four.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson

from tessera.core.errors import ErrorCode
from tessera.core.payments import events as ev
from tessera.core.services import IdentityServices
from tessera.core.webhooks.formats import OutgoingEvent, RenderedWebhook
from tessera.dialects.paysecure import identity
from tessera.dialects.paysecure.messages import DECLINES
from tessera.dialects.paysecure.purchase import major
from tessera.dialects.paysecure.requests import CHANNEL, purchase_id_of

FORMAT = "paysecure"
# Each event, the purchase status it reports and the purchase's URL it goes to.
EVENTS: dict[str, tuple[str, str]] = {
    ev.PAYMENT_COMPLETED: ("PAID", "success_callback"),
    ev.PAYMENT_AUTHORIZED: ("HOLD", "success_callback"),
    ev.PAYMENT_FAILED: ("ERROR", "failure_callback"),
    ev.PAYMENT_ATTEMPT_FAILED: ("ERROR", "failure_callback"),
    ev.PAYMENT_EXPIRED: ("EXPIRED", "failure_callback"),
}


def _target(event_type: str, data: Mapping[str, Any]) -> str | None:
    if event_type not in EVENTS or data.get("channel") != CHANNEL:
        return None
    url = (data.get("channel_data") or {}).get(EVENTS[event_type][1])
    return str(url) if url else None


def purchase(event: OutgoingEvent, status: str) -> dict[str, Any]:
    """The purchase object as the event knows it (the fields a receiver reconciles on)."""
    data = event.data
    extra = data.get("channel_data") or {}
    currency = str(data.get("currency") or "")
    card = data.get("card") or {}
    code = data.get("error_code")
    message, error_code = ("", "NA")
    if status in ("ERROR", "EXPIRED"):
        message, error_code = (
            DECLINES.get(ErrorCode(code), ("Transaction failed", str(code)))
            if code
            else (
                "Transaction expired",
                "expired",
            )
        )
    elif status in ("PAID", "HOLD"):
        message = "Transaction succeeded-APPROVED"
    return {
        "purchaseId": purchase_id_of(str(data.get("payment_id") or event.payment_id or "")),
        "type": "purchase",
        "status": status,
        "brand_id": extra.get("brand_id"),
        "merchantRef": extra.get("merchantRef") or purchase_id_of(str(data.get("payment_id") or "")),
        "client": extra.get("client") or {},
        "purchase": {
            "currency": currency,
            "products": [
                {"name": p["name"], "price": major(int(p["price"]), currency), "quantity": p.get("quantity", "1")}
                for p in extra.get("products") or []
            ],
            "total": major(int(data.get("amount") or 0), currency),
        },
        "transaction_data": {
            "payment_method": str(card.get("brand", "")).upper() or None,
            "flow": "payform",
            "extra": {"masked_pan": f"{card['bin']}******{card['last4']}"} if card else {},
        },
        "amountUnit": "MAJOR",
        "errorMsg": message,
        "errorCode": error_code,
        "is_test": event.mode == "test",
        "skip_capture": status == "HOLD",
        "success_callback": extra.get("success_callback"),
        "failure_callback": extra.get("failure_callback"),
        "updated_on": int(event.created_at.timestamp()),
    }


class PaysecureCallbackFormat:
    name = FORMAT

    def __init__(self) -> None:
        self._identities: IdentityServices | None = None

    def bind_identities(self, identities: IdentityServices) -> None:
        self._identities = identities

    def accepts(self, event_type: str) -> bool:
        return event_type in EVENTS

    def accepts_event(self, event_type: str, data: Mapping[str, Any]) -> bool:
        return _target(event_type, data) is not None

    async def signing_secrets(self, event: OutgoingEvent) -> Sequence[str]:
        assert self._identities is not None, "bootstrap binds the identities"
        found = await self._identities.get(event.merchant_id, event.mode, identity.KIND, with_secret=True)
        assert found.secret is not None
        return [found.secret.decode()]

    def render(self, event: OutgoingEvent, *, secrets: Sequence[str], attempted_at: datetime) -> RenderedWebhook:
        status = EVENTS[event.type][0]
        message = purchase(event, status)
        body = orjson.dumps({"message": message, "status": status.lower()})
        signed = identity.signed_string(message["purchaseId"], status, str(message["brand_id"]))
        signature = identity.sign(secrets[0].encode(), signed)
        headers = {
            "content-type": "application/json",
            "paysecure-sign": signature,
            "paysecure_sign": signature,
            "webhook-id": event.id,  # the same on every retry: a receiver may dedupe on it
        }
        return RenderedWebhook(body, headers, url=_target(event.type, event.data))
