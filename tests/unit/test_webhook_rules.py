"""The webhook rules that need no I/O: addresses, event types, the retry schedule, the bodies, signing."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from standardwebhooks.webhooks import Webhook

from tessera.core.errors import ValidationError
from tessera.core.ids import webhook_secret
from tessera.core.webhooks.deliveries import (
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    AttemptResult,
    DeliveryStatus,
    next_step,
    parse_retry_delays,
    retry_delay,
)
from tessera.core.webhooks.endpoints import check_event_types, is_public_address, signing_secrets
from tessera.core.webhooks.formats import OutgoingEvent
from tessera.core.webhooks.signing import sign
from tessera.delivery.sender import excerpt
from tessera.dialects.eximpe.callback import EximpeCallbackFormat, callback_body
from tessera.settings import Settings

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700::1111", True),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("::1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("::ffff:10.0.0.1", False),
        ("2002:0a00:0001::", False),  # 6to4 wrapping 10.0.0.1
        ("not an address", False),
    ],
)
def test_only_public_addresses_count_as_public(address: str, public: bool) -> None:
    assert is_public_address(address) is public


def test_event_types_must_be_known_and_star_means_all() -> None:
    assert check_event_types(["payment.completed", "payment.completed"]) == ["payment.completed"]
    assert check_event_types(["payment.failed", "*"]) == ["*"]
    with pytest.raises(ValidationError) as bad:
        check_event_types(["payment.nope"])
    assert bad.value.field == "enabled_events"


def test_the_retry_schedule_is_the_documented_one_with_ten_percent_jitter() -> None:
    hours = [d.total_seconds() / 3600 for d in RETRY_DELAYS]
    assert hours == [5 / 3600, 5 / 60, 0.5, 2, 5, 10, 14, 20, 24] and MAX_ATTEMPTS == 10
    rng = random.Random(7)
    for attempt, base in enumerate(RETRY_DELAYS, start=1):
        waits = {retry_delay(attempt, rng) for _ in range(50)}
        assert all(base * 0.9 <= w <= base * 1.1 for w in waits) and len(waits) > 1


def test_a_2xx_succeeds_a_410_fails_at_once_and_anything_else_retries_until_the_last_attempt() -> None:
    ok, gone, error = AttemptResult(204, 3), AttemptResult(410, 3), AttemptResult(None, 10_000, "timed out")
    assert next_step(ok, 1, NOW).status is DeliveryStatus.SUCCEEDED
    assert next_step(gone, 1, NOW).status is DeliveryStatus.FAILED
    assert next_step(AttemptResult(301, 1), 1, NOW).status is DeliveryStatus.PENDING  # redirects are not followed
    step = next_step(error, 3, NOW)
    assert step.status is DeliveryStatus.PENDING and step.next_attempt_at is not None
    assert timedelta(minutes=27) <= step.next_attempt_at - NOW <= timedelta(minutes=33)
    assert next_step(error, MAX_ATTEMPTS, NOW).status is DeliveryStatus.FAILED


def test_a_retry_schedule_is_read_from_durations_with_units_or_bare_seconds() -> None:
    assert parse_retry_delays("1s, 2 ,500ms,1.5m,2h") == (
        timedelta(seconds=1),
        timedelta(seconds=2),
        timedelta(milliseconds=500),
        timedelta(seconds=90),
        timedelta(hours=2),
    )
    assert parse_retry_delays("5s,5m,30m,2h,5h,10h,14h,20h,24h") == RETRY_DELAYS


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("", "not a duration"),
        ("1s,,2s", "not a duration"),
        ("5x", "not a duration"),
        ("-1s", "not a duration"),
        ("0s", "above zero"),
        ("8d", "not a duration"),
        ("169h", "at most 7 days"),
        (",".join(["1s"] * 51), "1 to 50 waits"),
    ],
)
def test_a_retry_schedule_that_is_empty_zero_too_long_or_unreadable_is_refused(text: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        parse_retry_delays(text)


def test_the_retry_schedule_setting_defaults_to_the_documented_one_and_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().webhook_retry_delays == RETRY_DELAYS
    monkeypatch.setenv("TESSERA_WEBHOOK_RETRY_DELAYS", "1s,2s,5s")
    assert Settings().webhook_retry_delays == (timedelta(seconds=1), timedelta(seconds=2), timedelta(seconds=5))
    monkeypatch.setenv("TESSERA_WEBHOOK_RETRY_DELAYS", "1s,0s")
    with pytest.raises(ValueError, match="above zero"):
        Settings()


def test_a_custom_schedule_sets_each_wait_and_fails_the_delivery_after_its_last_retry() -> None:
    delays = (timedelta(seconds=1), timedelta(seconds=2), timedelta(seconds=5))
    error, rng = AttemptResult(503, 4), random.Random(3)
    for attempt, base in enumerate(delays, start=1):
        step = next_step(error, attempt, NOW, rng, delays=delays)
        assert step.status is DeliveryStatus.PENDING and step.next_attempt_at is not None
        assert base * 0.9 <= step.next_attempt_at - NOW <= base * 1.1
    assert next_step(error, len(delays) + 1, NOW, delays=delays).status is DeliveryStatus.FAILED
    assert next_step(AttemptResult(200, 4), len(delays), NOW, delays=delays).status is DeliveryStatus.SUCCEEDED
    # A longer schedule than the default keeps retrying past the default's last attempt.
    longer = (timedelta(seconds=1),) * (MAX_ATTEMPTS + 5)
    assert next_step(error, MAX_ATTEMPTS, NOW, delays=longer).status is DeliveryStatus.PENDING


def test_the_previous_secret_signs_only_until_its_grace_period_ends() -> None:
    assert signing_secrets("new", "old", NOW + timedelta(seconds=1), NOW) == ["new", "old"]
    assert signing_secrets("new", "old", NOW, NOW) == ["new"]
    assert signing_secrets("new", None, None, NOW) == ["new"]


def test_headers_carry_one_v1_signature_per_secret_and_each_verifies() -> None:
    first, second = webhook_secret(), webhook_secret()
    body = b'{"type":"payment.completed"}'
    now = datetime.now(UTC)
    headers = sign("evt_1", now, body, [first, second])
    assert headers["webhook-id"] == "evt_1" and headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert [s[:3] for s in headers["webhook-signature"].split(" ")] == ["v1,", "v1,"]
    for secret in (first, second):
        assert Webhook(secret).verify(body, headers) == {"type": "payment.completed"}


def test_seed_000_callback_body_has_the_seeds_fields() -> None:
    data = {
        "payment_id": "pay_1",
        "status": "captured",
        "retrieval_ref": "633012345678",
        "mop_type": "debit_card",
        "operation": {"id": "op_1", "type": "DB"},
        "card": {"bin": "489538", "last4": "0003"},
    }
    body = orjson.loads(callback_body(_event("payment.completed", data, sequence=42)))
    assert body == {
        "event_type": "PAYMENT_SUCCESSFUL",
        "event_time": "2026-11-21 12:00:00",
        "version": "1.0",
        "sequence_number": "42",
        "data": {
            "status": "captured",
            "message": "Payment successful",
            "mop_type": "debit_card",
            "order_id": "pay_1",
            "payment_id": "op_1",
            "bank_ref_num": "633012345678",
            "payment_completed_at": "2026-11-21T12:00:00.000000Z",
        },
    }


def _event(kind: str, data: dict[str, object], *, sequence: int = 1) -> OutgoingEvent:
    return OutgoingEvent("evt_1", kind, sequence, "mer_1", "test", "pay_1", data, NOW)


def test_a_callback_after_a_failed_3ds_has_no_payment_id_and_no_bank_ref_num() -> None:
    # No authorisation was attempted: the status API says null for both, so must the callback.
    data = {"payment_id": "pay_1", "status": "failed", "retrieval_ref": None, "error_code": "3DS_FAILED"}
    body = orjson.loads(callback_body(_event("payment.failed", data)))["data"]
    assert body["payment_id"] is None and body["bank_ref_num"] is None and body["error_code"] == "3DS_FAILED"


def test_a_declined_callback_names_the_authorisation_and_makes_up_no_bank_ref_num() -> None:
    data = {
        "payment_id": "pay_1",
        "status": "failed",
        "error_code": "CARD_DECLINED",
        "operation": {"id": "op_9", "type": "DB"},
    }
    body = orjson.loads(callback_body(_event("payment.failed", data)))["data"]
    assert body["payment_id"] == "op_9" and body["bank_ref_num"] is None


def test_an_expiry_callback_carries_the_status_apis_error_code() -> None:
    body = orjson.loads(callback_body(_event("payment.expired", {"payment_id": "pay_1", "status": "expired"})))
    assert body["event_type"] == "PAYMENT_FAILED" and body["data"]["error_code"] == "3DS_FAILED"


def test_a_capture_callback_never_names_the_capture_as_the_payment() -> None:
    data = {"payment_id": "pay_1", "status": "captured", "operation": {"id": "op_cp", "type": "CP"}}
    assert orjson.loads(callback_body(_event("payment.completed", data)))["data"]["payment_id"] != "op_cp"


def test_the_callback_reads_mop_type_from_the_channel_data_first() -> None:
    data = {"payment_id": "pay_1", "channel_data": {"mop_type": "credit_card"}, "mop_type": "debit_card"}
    assert orjson.loads(callback_body(_event("payment.completed", data)))["data"]["mop_type"] == "credit_card"
    assert orjson.loads(callback_body(_event("payment.completed", {"mop_type": "debit_card"})))["data"]["mop_type"] == (
        "debit_card"
    )


def test_the_eximpe_format_renders_only_payment_outcomes_and_signs_them() -> None:
    fmt, secret = EximpeCallbackFormat(), webhook_secret()
    assert fmt.accepts("payment.completed") and not fmt.accepts("refund.succeeded")
    now = datetime.now(UTC)
    rendered = fmt.render(_event("payment.completed", {"payment_id": "pay_1"}), secrets=[secret], attempted_at=now)
    assert rendered.headers["webhook-id"] == "evt_1"
    assert Webhook(secret).verify(rendered.body, rendered.headers)["event_type"] == "PAYMENT_SUCCESSFUL"


def test_a_reply_excerpt_is_short_and_masks_card_numbers() -> None:
    text = excerpt(b"rejected 4111111111111111 " + b"x" * 5000)
    assert text is not None and len(text) <= 200 and "4111111111111111" not in text and "411111" in text
    assert excerpt(b"") is None


async def test_a_test_mode_delivery_never_reaches_a_link_local_address() -> None:
    from tessera.delivery.sender import Sender

    sender = Sender(timeout=1)
    try:
        result = await sender.send("http://169.254.169.254/latest", b"{}", {}, live=False)
        live = await sender.send("https://10.0.0.1/hooks", b"{}", {}, live=True)
    finally:
        await sender.close()
    assert result.status_code is None and "not allowed" in str(result.error)
    assert live.status_code is None and "not allowed" in str(live.error)


@pytest.mark.parametrize(
    ("address", "private_networks", "allowed"),
    [
        ("127.0.0.1", False, True),
        ("127.9.9.9", False, True),
        ("::1", False, True),
        ("::ffff:127.0.0.1", False, True),
        ("93.184.215.14", False, True),
        ("10.0.0.1", False, False),
        ("192.168.1.1", False, False),
        ("fd00::1", False, False),
        ("10.0.0.1", True, True),
        ("169.254.169.254", True, False),
        ("fe80::1", True, False),
    ],
)
def test_test_mode_allows_loopback_and_public_addresses_and_private_ones_only_on_request(
    address: str, private_networks: bool, allowed: bool
) -> None:
    from tessera.core.webhooks.endpoints import allowed_in_test_mode

    assert allowed_in_test_mode(address, private_networks=private_networks) is allowed


@pytest.mark.parametrize(
    ("host", "odd"),
    [
        ("2130706433", True),
        ("0x7f000001", True),
        ("0177.0.0.1", True),
        ("127.1", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("example.com", False),
        ("1e100.net", False),
    ],
)
def test_ip_addresses_written_in_odd_forms_are_recognised(host: str, odd: bool) -> None:
    from tessera.core.webhooks.endpoints import is_obfuscated_ip

    assert is_obfuscated_ip(host) is odd


async def test_a_test_mode_delivery_never_reaches_a_private_network_unless_allowed() -> None:
    """Refused before any connection is made; nothing here ever sends to a private address."""
    from tessera.delivery.sender import Sender

    closed, open_ = Sender(timeout=1), Sender(timeout=1, private_networks=True)
    try:
        refused = await closed.send("http://10.0.0.1/hooks", b"{}", {}, live=False)
        hidden = await closed.send("http://2130706433/hooks", b"{}", {}, live=False)
    finally:
        await closed.close()
    assert refused.status_code is None and "not allowed" in str(refused.error)
    assert hidden.status_code is None and "not allowed" in str(hidden.error)
    # With the operator's consent the same address passes the check (no request is sent here).
    assert open_._literal_host_allowed("http://10.0.0.1/hooks", live=False) is True
    assert open_._literal_host_allowed("http://169.254.169.254/", live=False) is False
    assert open_._literal_host_allowed("http://10.0.0.1/hooks", live=True) is False
