"""What a delivery sends: the native event body, or seed 000's callback body for a callback endpoint.

Both are built only from the event's data, which is card-free by construction (BIN and last 4 at most).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from tessera.core.clock import iso_utc
from tessera.core.errors import ErrorCode
from tessera.core.payments import events as ev
from tessera.core.payments.model import ERROR_MESSAGES

CALLBACK_VERSION = "1.0"

# Seed 000's callback event types, with the payment status and message each carries.
CALLBACK_EVENTS: dict[str, tuple[str, str, str]] = {
    ev.PAYMENT_COMPLETED: ("PAYMENT_SUCCESSFUL", "captured", "Payment successful"),
    ev.PAYMENT_AUTHORIZED: ("PAYMENT_AUTHORIZED", "authorized", "Payment authorized"),
    ev.PAYMENT_FAILED: ("PAYMENT_FAILED", "failed", "Payment failed"),
    ev.PAYMENT_EXPIRED: ("PAYMENT_FAILED", "failed", "Payment expired before it was completed"),
}


def event_body(
    event_id: str, event_type: str, sequence: int, mode: str, data: dict[str, Any], created_at: datetime
) -> bytes:
    """An endpoint's body, shaped as Standard Webhooks suggests: `type`, `timestamp`, `data`."""
    return orjson.dumps(
        {
            "id": event_id,
            "type": event_type,
            "timestamp": iso_utc(created_at),
            "sequence": sequence,
            "livemode": mode == "live",
            "data": data,
        }
    )


def callback_body(event_type: str, sequence: int, data: dict[str, Any], created_at: datetime) -> bytes:
    """Seed 000's server-to-server callback for a payment event."""
    callback_type, status, message = CALLBACK_EVENTS[event_type]
    error = data.get("error_code")
    if callback_type == "PAYMENT_FAILED" and error:
        try:
            message = ERROR_MESSAGES[ErrorCode(error)]
        except ValueError:
            pass
    order_id = str(data.get("payment_id") or "")
    operation = data.get("operation") or {}
    payment_id = str(operation.get("id") or order_id)
    return orjson.dumps(
        {
            "event_type": callback_type,
            "event_time": created_at.strftime("%Y-%m-%d %H:%M:%S"),
            "version": CALLBACK_VERSION,
            "sequence_number": str(sequence),
            "data": {
                "status": status,
                "message": message,
                "mop_type": data.get("mop_type") or "card",
                "order_id": order_id,
                "payment_id": payment_id,
                "bank_ref_num": data.get("retrieval_ref") or f"{order_id}-{payment_id}",
                "payment_completed_at": created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                **({"error_code": error} if error else {}),
            },
        }
    )
