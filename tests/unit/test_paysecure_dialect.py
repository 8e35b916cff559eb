"""The Paysecure dialect's maps cover every core state and error code, purchase ids map to payment ids
and back, and its error bodies show no internals."""

from __future__ import annotations

import json

from tessera.core.errors import ErrorCode
from tessera.core.ids import looks_like_id, new_id
from tessera.core.payments.model import PaymentStatus
from tessera.dialects.paysecure import errors, messages
from tessera.dialects.paysecure.identity import BrandIdentity, sign, signed_string, verify
from tessera.dialects.paysecure.requests import new_purchase_id, payment_id_of, purchase_id_of


def test_every_error_code_and_payment_state_has_a_paysecure_word() -> None:
    assert set(messages.ERRORS) == set(ErrorCode)
    assert set(messages.STATUS) == set(PaymentStatus)
    assert {status for status, _code, _message in messages.ERRORS.values()} <= {400, 401, 404, 405, 415}


def test_the_risk_causes_say_seed_001s_words() -> None:
    assert messages.ERRORS[ErrorCode.CARD_BLOCKED][2] == "Card is Blocked"
    assert messages.ERRORS[ErrorCode.CUSTOMER_BLOCKED][2] == "Customer profile is Blocked"
    assert messages.ERRORS[ErrorCode.RISK_DECLINED][2] == "Customer/Card not allowed for transaction"
    assert messages.ERRORS[ErrorCode.IP_NOT_ALLOWED][:2] == (401, "IP_not_whitelisted")
    assert messages.ERRORS[ErrorCode.CHARGES_INCOMPLETE][2] == (
        "You charges setting is incomplete. Please Contact to administrator"
    )
    assert messages.ERRORS[ErrorCode.SHOPPER_IP_IS_CALLER][2] == "Client Ip could not be matched with Merchant Ip"


def test_a_purchase_id_is_24_hex_and_names_one_payment() -> None:
    purchase_id, payment_id = new_purchase_id()
    assert len(purchase_id) == 24 and int(purchase_id, 16) >= 0 and purchase_id == purchase_id.lower()
    assert looks_like_id(payment_id, "pay")
    assert payment_id_of(purchase_id) == payment_id and purchase_id_of(payment_id) == purchase_id
    other = new_id("pay")  # a payment of another dialect keeps its own id
    assert purchase_id_of(other) == other
    assert payment_id_of("ABC") is None and payment_id_of("0" * 23 + "g") is None


def test_an_internal_error_shows_no_internals() -> None:
    body = json.loads(bytes(errors.http_response(500, "ZeroDivisionError at line 3").body))
    assert body == {"message": "something went wrong", "code": "exception"}


def test_a_signature_verifies_only_for_what_was_signed() -> None:
    made = BrandIdentity().make()
    assert made.secret is not None and made.public_data is not None
    signature = sign(made.secret, signed_string("a" * 24, "PAID", made.public_id))
    assert verify(made.public_data, signed_string("a" * 24, "PAID", made.public_id), signature)
    assert not verify(made.public_data, signed_string("a" * 24, "ERROR", made.public_id), signature)


def test_an_intent_is_canceled_once_and_never_after_a_card() -> None:
    import pytest

    from tessera.core.clock import utcnow
    from tessera.core.errors import ConflictError
    from tessera.core.payments.events import PAYMENT_CANCELED
    from tessera.core.payments.model import CaptureMethod, Payment

    now = utcnow()
    intent = Payment.intent(
        now=now, merchant_id="mer_1", mode="test", amount=100, currency="EUR",
        capture_method=CaptureMethod.AUTOMATIC, processor="sandbox",
    )  # fmt: skip
    intent.cancel(now)
    assert intent.status is PaymentStatus.CANCELED and intent.events[-1].type == PAYMENT_CANCELED
    with pytest.raises(ConflictError):
        intent.cancel(now)
