"""Seed 000's server-to-server callback: the payment outcomes in EximPe's words, signed per Standard
Webhooks with the merchant's webhook secret.

A callback says exactly what the Order Status API (`order_translate.order_status`) says about the same
payment: the same `payment_id` (the authorisation's operation, or null when none was attempted), the
same `bank_ref_num` (the acquirer's retrieval reference, or null), the same `error_code` (an expiry is
3DS_FAILED there) and a status that maps to the same word. A merchant reconciling on those fields must
never record a reference that does not exist. Built only from the event's card-free data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson

from tessera.core.errors import ErrorCode
from tessera.core.payments import events as ev
from tessera.core.payments.model import AUTHORISATIONS, ERROR_MESSAGES
from tessera.core.webhooks.formats import OutgoingEvent, RenderedWebhook
from tessera.core.webhooks.signing import sign

CALLBACK_VERSION = "1.0"

# Seed 000's callback event types, with the payment status and message each carries.
CALLBACK_EVENTS: dict[str, tuple[str, str, str]] = {
    ev.PAYMENT_COMPLETED: ("PAYMENT_SUCCESSFUL", "captured", "Payment successful"),
    ev.PAYMENT_AUTHORIZED: ("PAYMENT_AUTHORIZED", "authorized", "Payment authorized"),
    ev.PAYMENT_FAILED: ("PAYMENT_FAILED", "failed", "Payment failed"),
    ev.PAYMENT_EXPIRED: ("PAYMENT_FAILED", "failed", "Payment expired before it was completed"),
}
_AUTHORISATION_TYPES = frozenset(t.value for t in AUTHORISATIONS)


def _error_code(event_type: str, data: Mapping[str, Any]) -> str | None:
    # The status API reports any expired payment as a failed authentication.
    if event_type == ev.PAYMENT_EXPIRED:
        return ErrorCode.THREEDS_FAILED.value
    code = data.get("error_code")
    return str(code) if code else None


def _payment_ref(data: Mapping[str, Any]) -> str | None:
    """The authorisation that took (or tried to take) the money; null when none was attempted (a
    failed or abandoned 3-D Secure), as in the status API."""
    if data.get("authorization_id"):
        return str(data["authorization_id"])
    operation = data.get("operation") or {}
    if operation.get("id") and operation.get("type") in _AUTHORISATION_TYPES:
        return str(operation["id"])
    return None


def _mop_type(data: Mapping[str, Any]) -> str:
    return str((data.get("channel_data") or {}).get("mop_type") or data.get("mop_type") or "card")


def callback_body(event: OutgoingEvent) -> bytes:
    """Seed 000's server-to-server callback for a payment event."""
    data = event.data
    callback_type, status, message = CALLBACK_EVENTS[event.type]
    error = _error_code(event.type, data)
    if event.type == ev.PAYMENT_FAILED and error:
        try:
            message = ERROR_MESSAGES[ErrorCode(error)]
        except ValueError:
            pass
    moment = event.created_at
    return orjson.dumps(
        {
            "event_type": callback_type,
            "event_time": moment.strftime("%Y-%m-%d %H:%M:%S"),
            "version": CALLBACK_VERSION,
            "sequence_number": str(event.sequence),
            "data": {
                "status": status,
                "message": message,
                "mop_type": _mop_type(data),
                "order_id": str(data.get("payment_id") or event.payment_id or ""),
                "payment_id": _payment_ref(data),
                "bank_ref_num": data.get("retrieval_ref") or None,
                "payment_completed_at": moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                **({"error_code": error} if error else {}),
            },
        }
    )


class EximpeCallbackFormat:
    name = "eximpe"

    def accepts(self, event_type: str) -> bool:
        return event_type in CALLBACK_EVENTS

    def render(self, event: OutgoingEvent, *, secrets: Sequence[str], attempted_at: datetime) -> RenderedWebhook:
        body = callback_body(event)
        return RenderedWebhook(body, sign(event.id, attempted_at, body, secrets))
