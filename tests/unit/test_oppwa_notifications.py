"""OPPWA's encrypted notifications: the published test vectors (oppwa.md 6.2), the round trip, and the
format as the delivery worker uses it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from cryptography.exceptions import InvalidTag

from tessera.core.payments import events as ev
from tessera.core.vault.service import CARD_SAVED
from tessera.core.webhooks.deliveries import ClaimedDelivery
from tessera.core.webhooks.formats import EndpointFormat, OutgoingEvent
from tessera.delivery.worker import render
from tessera.dialects.oppwa import crypto
from tessera.dialects.oppwa.notifications import OppwaNotificationFormat, minimal_payload

KEY = "000102030405060708090A0B0C0D0E0F000102030405060708090A0B0C0D0E0F"
NOW = datetime(2026, 11, 28, 9, 5, 7, tzinfo=UTC)


# ------------------------------------------------------------------------------------ the vectors


def test_the_first_published_vector_decrypts_to_its_plaintext() -> None:
    plain = crypto.decrypt(
        KEY, "F8E2F759E528CB69375E51DB2AF9B53734E393", "3D575574536D450F71AC76D8", "19FDD068C6F383C173D3A906F7BD1D83"
    )
    assert plain == b'{"type": "PAYMENT"}'


def test_the_second_published_vector_decrypts_to_its_plaintext() -> None:
    plain = crypto.decrypt(KEY, "0A3471C72D9BE49A8520F79C66BBD9A12FF9", "0" * 24, "CE573FB7A41AB78E743180DC83FF09BD")
    assert plain == b'{"type":"PAYMENT"}'


def test_encrypting_the_published_plaintext_with_its_iv_gives_the_published_body_and_tag() -> None:
    sealed = crypto.encrypt(KEY, b'{"type": "PAYMENT"}', iv=bytes.fromhex("3D575574536D450F71AC76D8"))
    assert sealed == crypto.Sealed(
        "F8E2F759E528CB69375E51DB2AF9B53734E393", "3D575574536D450F71AC76D8", "19FDD068C6F383C173D3A906F7BD1D83"
    )
    assert crypto.encrypt(KEY, b'{"type":"PAYMENT"}', iv=bytes(12)).body == "0A3471C72D9BE49A8520F79C66BBD9A12FF9"


def test_a_changed_body_tag_or_key_is_refused() -> None:
    body, iv, tag = (
        "F8E2F759E528CB69375E51DB2AF9B53734E393",
        "3D575574536D450F71AC76D8",
        "19FDD068C6F383C173D3A906F7BD1D83",
    )
    with pytest.raises(InvalidTag):
        crypto.decrypt(KEY, "F9" + body[2:], iv, tag)
    with pytest.raises(InvalidTag):
        crypto.decrypt(KEY, body, iv, "00" + tag[2:])
    with pytest.raises(InvalidTag):
        crypto.decrypt("1" + KEY[1:], body, iv, tag)


def test_round_trip_with_a_new_key_and_a_fresh_iv_each_time() -> None:
    key = crypto.new_key()
    assert re.fullmatch(r"[0-9A-F]{64}", key)
    first, second = crypto.encrypt(key, b"hello"), crypto.encrypt(key, b"hello")
    assert first.iv != second.iv and first.body != second.body
    assert crypto.decrypt(key, first.body, first.iv, first.tag) == b"hello"
    assert crypto.decrypt(key.lower(), second.body.lower(), second.iv, second.tag) == b"hello"  # hex either case


@pytest.mark.parametrize("key", ["", "00" * 31, "00" * 33, "zz" * 32, "whsec_" + "0" * 58])
def test_a_key_that_is_not_64_hex_characters_is_refused(key: str) -> None:
    with pytest.raises(ValueError, match="64 hexadecimal"):
        crypto.encrypt(key, b"{}")


# ------------------------------------------------------------------------------------ the format


def _event(kind: str = ev.PAYMENT_COMPLETED, mode: str = "test", **data: Any) -> OutgoingEvent:
    facts: dict[str, Any] = {
        "payment_id": "pay_1",
        "status": "captured",
        "amount": 9200,
        "currency": "EUR",
        "reference": "order-1001",
        "card": {"bin": "420000", "last4": "0000", "brand": "visa"},
        "error_code": None,
        "operation": {"id": "op_1", "type": "DB", "amount": 9200, "status": "succeeded"},
    }
    facts.update(data)
    return OutgoingEvent("evt_1", kind, 7, "mer_1", mode, "pay_1", facts, NOW)


def _open(key: str, rendered_body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    plain = crypto.decrypt(
        key, rendered_body.decode(), headers["X-Initialization-Vector"], headers["X-Authentication-Tag"]
    )
    opened: dict[str, Any] = orjson.loads(plain)
    return opened


def test_the_format_is_an_endpoint_format_whose_secrets_are_64_hex_keys() -> None:
    fmt = OppwaNotificationFormat()
    assert isinstance(fmt, EndpointFormat) and fmt.name == "oppwa"
    assert re.fullmatch(r"[0-9A-F]{64}", fmt.new_secret())


def test_a_completed_debit_is_sent_encrypted_as_a_payment_notification() -> None:
    key = crypto.new_key()
    rendered = OppwaNotificationFormat().render(_event(), secrets=[key, "previous"], attempted_at=NOW)
    assert rendered.headers["Content-Type"] == "text/plain"
    assert re.fullmatch(rb"[0-9A-F]+", rendered.body)
    assert re.fullmatch(r"[0-9A-F]{24}", rendered.headers["X-Initialization-Vector"])
    assert re.fullmatch(r"[0-9A-F]{32}", rendered.headers["X-Authentication-Tag"])
    # The plaintext's own bytes are not in the ciphertext. Checked on the decoded bytes: a 4-digit text such as
    # "9200" turns up in random hex now and then (1 in 65,536 per window), and did in a CI run.
    sealed = bytes.fromhex(rendered.body.decode())
    assert b'"92.00"' not in sealed and b'"PAYMENT"' not in sealed and b"PAYMENT" not in rendered.body
    assert _open(key, rendered.body, rendered.headers) == {
        "type": "PAYMENT",
        "payload": {
            "id": "op_1",
            "paymentType": "DB",
            "amount": "92.00",
            "currency": "EUR",
            "result": {
                "code": "000.100.110",
                "description": "Request successfully processed in 'Merchant in Integrator Test Mode'",
            },
            "card": {"bin": "420000", "last4Digits": "0000"},
            "merchantTransactionId": "order-1001",
            "timestamp": "2026-11-28 09:05:07+0000",
        },
    }


@pytest.mark.parametrize(
    ("kind", "mode", "data", "code"),
    [
        (ev.PAYMENT_COMPLETED, "live", {}, "000.000.000"),
        (
            ev.PAYMENT_FAILED,
            "test",
            {
                "status": "failed",
                "error_code": "INSUFFICIENT_FUNDS",
                "operation": {"id": "op_1", "type": "DB", "amount": 9200, "status": "failed"},
            },
            "800.100.155",
        ),
        (
            ev.PAYMENT_FAILED,
            "test",
            {"status": "failed", "error_code": "CARD_DECLINED", "operation": None},
            "800.100.152",
        ),
        (ev.PAYMENT_REQUIRES_ACTION, "test", {"status": "requires_action", "operation": None}, "000.200.000"),
        (ev.PAYMENT_EXPIRED, "test", {"status": "expired", "operation": None}, "100.396.103"),
    ],
)
def test_the_default_payload_has_the_code_of_the_outcome(kind: str, mode: str, data: dict[str, Any], code: str) -> None:
    assert minimal_payload(_event(kind, mode, **data))["result"]["code"] == code


def test_a_refund_is_its_own_payment_naming_the_original() -> None:
    payload = minimal_payload(
        _event(ev.REFUND_SUCCEEDED, operation={"id": "op_rf", "type": "RF", "amount": 1500, "status": "succeeded"})
    )
    assert (payload["id"], payload["paymentType"], payload["referencedId"], payload["amount"]) == (
        "op_rf",
        "RF",
        "pay_1",
        "15.00",
    )


def test_the_payload_renderer_is_a_hook_the_dialect_fills() -> None:
    key = crypto.new_key()
    fmt = OppwaNotificationFormat(lambda event: {"id": "8ac7a4a1" + "0" * 24, "seen": event.id})
    rendered = fmt.render(_event(), secrets=[key], attempted_at=NOW)
    assert _open(key, rendered.body, rendered.headers)["payload"] == {"id": "8ac7a4a1" + "0" * 24, "seen": "evt_1"}


def test_only_payment_events_are_notifications() -> None:
    fmt = OppwaNotificationFormat()
    assert fmt.accepts(ev.PAYMENT_COMPLETED) and fmt.accepts(ev.REFUND_SUCCEEDED) and fmt.accepts(ev.CHARGEBACK_CREATED)
    assert not fmt.accepts(CARD_SAVED)


def test_the_delivery_worker_renders_an_oppwa_endpoints_delivery_with_its_key() -> None:
    key = crypto.new_key()
    event = _event()
    claimed = ClaimedDelivery(
        id="whd_1",
        merchant_id="mer_1",
        claim_token="c",
        attempts=0,
        endpoint_id="we_1",
        format="oppwa",
        url="http://127.0.0.1:9/hook",
        mode="test",
        secrets=(key,),
        event_id=event.id,
        event_type=event.type,
        payment_id=event.payment_id,
        sequence=event.sequence,
        data=dict(event.data),
        event_created_at=event.created_at,
    )
    rendered = render(claimed, {"oppwa": OppwaNotificationFormat()}, NOW)
    assert _open(key, rendered.body, rendered.headers)["payload"]["id"] == "op_1"
