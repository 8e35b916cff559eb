"""Standard Webhooks signing (https://www.standardwebhooks.com): the `webhook-id`, `webhook-timestamp`
and `webhook-signature` headers over a body. Pure: formats call it when they render."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache

from standardwebhooks.webhooks import Webhook


@lru_cache(maxsize=1024)
def _signer(secret: str) -> Webhook:
    return Webhook(secret)


def sign(msg_id: str, timestamp: datetime, body: bytes, secrets: Sequence[str]) -> dict[str, str]:
    """The three Standard Webhooks headers; during a rotation, one `v1,` signature per secret."""
    text = body.decode()
    signatures = " ".join(_signer(s).sign(msg_id, timestamp, text) for s in secrets)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signatures,
    }
