"""OPPWA's notifications: each payment change sent as `{"type": "PAYMENT", "payload": <payment object>}`,
encrypted (`crypto.py`) under the listener's 64-hex-character key, as OPPWA's webhooks are.

A merchant registers a listener as a webhook endpoint of format `oppwa` (`POST /v1/webhook_endpoints`
with `"format": "oppwa"`); its `secret` is then the listener's key, 64 hex characters, which is what
`new_secret` makes (and makes again on a rotation: OPPWA has one key per listener, so a rotated endpoint
encrypts with its new key at once). Deliveries go through the delivery log like any webhook: retried
until a 2xx, in order per payment. The body is the uppercase hex ciphertext, `Content-Type: text/plain`,
with the `X-Initialization-Vector` and `X-Authentication-Tag` headers.

The payload is rendered by a `PayloadRenderer` over the event's card-free data. The default renders the
fields a receiver reconciles on from the core's payment facts; the dialect hands its own renderer (the
payment object its API answers) to `OppwaNotificationFormat` when it provides the format.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson

from tessera.core.money import to_major_string
from tessera.core.payments import events as ev
from tessera.core.vault.service import CARD_DELETED, CARD_SAVED
from tessera.core.webhooks.endpoints import EVENT_TYPES
from tessera.core.webhooks.formats import OutgoingEvent, RenderedWebhook
from tessera.dialects.oppwa import codes, crypto, ids, render

FORMAT = "oppwa"
# The events that change a payment: each is a PAYMENT notification. Card events (saved, deleted) are not.
PAYMENT_EVENTS = EVENT_TYPES - {CARD_SAVED, CARD_DELETED}

# Renders the OPPWA payment object an event is about, from its card-free data.
PayloadRenderer = Callable[[OutgoingEvent], dict[str, Any]]

_FOLLOW_UPS = frozenset({"CP", "RV", "RF", "CB", "CR", "RC"})


def _result(event: OutgoingEvent, operation: Mapping[str, Any] | None) -> str:
    """The result code of the payment object the event is about, as the API answers it (`codes`): an
    acquirer's own OPPWA code first (the sandbox's test convention), then the core's error."""
    status = str(event.data.get("status") or "")
    failed = (operation is not None and operation.get("status") == "failed") or status == "failed"
    if failed or event.type == ev.PAYMENT_ATTEMPT_FAILED:
        answered = str((operation or {}).get("response_code") or "")
        if codes.RESULT_CODE.match(answered):
            return answered
        known = {e.value: e for e in codes.ERRORS}.get(str(event.data.get("error_code") or ""))
        return codes.ERRORS[known][1] if known else "800.100.100"
    if event.type == ev.PAYMENT_EXPIRED:
        return codes.TIMED_OUT
    if operation is None or operation.get("status") != "succeeded":
        return codes.PENDING
    return codes.success(event.mode)


def minimal_payload(event: OutgoingEvent) -> dict[str, Any]:
    """The payment object from the core's facts alone: `id` and `paymentType` are the operation's (a
    back-office operation is its own payment in OPPWA, naming the original in `referencedId`)."""
    data = event.data
    operation: Mapping[str, Any] | None = data.get("operation")
    currency = str(data.get("currency") or "")
    payment_id = str(data.get("payment_id") or event.payment_id or "")
    amount = int(operation["amount"] if operation else data.get("amount") or 0)
    code = _result(event, operation)
    payload: dict[str, Any] = {"id": ids.to_hex(str(operation["id"]) if operation else payment_id)}
    if operation:
        payload["paymentType"] = str(operation["type"])
        if operation["type"] in _FOLLOW_UPS:
            payload["referencedId"] = ids.to_hex(payment_id)
    payload.update(amount=to_major_string(amount, currency), currency=currency)
    payload["result"] = {"code": code, "description": codes.describe(code)}
    card = data.get("card")
    if card:
        payload["card"] = {"bin": card.get("bin"), "last4Digits": card.get("last4")}
    if data.get("reference"):
        payload["merchantTransactionId"] = data["reference"]
    payload["timestamp"] = render.timestamp(event.created_at)
    return payload


class OppwaNotificationFormat:
    """The `oppwa` webhook format: an endpoint format (`core.webhooks.formats.EndpointFormat`)."""

    name = FORMAT

    def __init__(self, payload: PayloadRenderer = minimal_payload) -> None:
        self._payload = payload

    def accepts(self, event_type: str) -> bool:
        return event_type in PAYMENT_EVENTS

    def new_secret(self) -> str:
        return crypto.new_key()

    def envelope(self, event: OutgoingEvent) -> bytes:
        return orjson.dumps({"type": "PAYMENT", "payload": self._payload(event)})

    def render(self, event: OutgoingEvent, *, secrets: Sequence[str], attempted_at: datetime) -> RenderedWebhook:
        # One key per listener: the current one (a rotation's previous key has nothing to sign here).
        sealed = crypto.encrypt(secrets[0], self.envelope(event))
        headers = {
            "Content-Type": "text/plain",
            "X-Initialization-Vector": sealed.iv,
            "X-Authentication-Tag": sealed.tag,
        }
        return RenderedWebhook(sealed.body.encode(), headers)
