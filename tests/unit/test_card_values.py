"""PAN, CVV and Expiry: validation, brands, and masking everywhere a value could be shown."""

from __future__ import annotations

import logging
import pickle
from datetime import UTC, datetime

import pytest

from tessera.core.errors import ErrorCode, PaymentError, ValidationError
from tessera.core.vault.brands import Brand, detect
from tessera.core.vault.pan import CVV, PAN, Expiry, luhn_valid

NOW = datetime(2026, 11, 21, tzinfo=UTC)


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4242424242424242", Brand.VISA),
        ("4222222222222", Brand.VISA),
        ("5555555555554444", Brand.MASTERCARD),
        ("2223003122003222", Brand.MASTERCARD),
        ("5506900480000008", Brand.MASTERCARD),
        ("378282246310005", Brand.AMEX),
        ("6011111111111117", Brand.DISCOVER),
        ("3530111333300000", Brand.JCB),
        ("36227206271667", Brand.DINERS),
        ("6521123456789012", Brand.RUPAY),
        ("6200000000000005", Brand.UNIONPAY),
        ("6759649826438453", Brand.MAESTRO),
    ],
)
def test_brand_is_detected_from_the_bin(number: str, brand: Brand) -> None:
    assert PAN.parse(number).brand is brand


def test_rupay_6521_and_6522_win_over_discovers_65() -> None:
    assert detect("6521000000000000") is Brand.RUPAY
    assert detect("6522990000000000") is Brand.RUPAY
    assert detect("6500000000000000") is Brand.DISCOVER


def test_luhn() -> None:
    assert luhn_valid("4242424242424242")
    assert not luhn_valid("4242424242424241")


@pytest.mark.parametrize("raw", ["4242424242424241", "42424242", "abcd424242424242", "", "4" * 20])
def test_invalid_numbers_are_validation_errors_naming_the_field(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PAN.parse(raw, field="card.number")
    assert caught.value.field == "card.number"
    assert raw not in caught.value.message or raw == ""


def _with_check_digit(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


def test_a_length_the_brand_does_not_allow_is_refused() -> None:
    sixteen_digit_amex = _with_check_digit("378282246310005")
    with pytest.raises(ValidationError, match="wrong length for a amex card"):
        PAN.parse(sixteen_digit_amex)


def test_spaces_and_dashes_are_ignored() -> None:
    assert PAN.parse("4242 4242-4242 4242").reveal() == "4242424242424242"


def test_pan_masks_itself_in_repr_str_format_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    pan = PAN.parse("4242424242424242")
    assert repr(pan) == "PAN('424242******4242')"
    assert str(pan) == f"{pan}" == "424242******4242"
    assert "%s" % pan == "424242******4242"  # noqa: UP031 - %-formatting is what logging does
    with caplog.at_level(logging.INFO):
        logging.getLogger("t").info("card %s %r", pan, pan)
    assert "4242424242424242" not in caplog.text
    assert (pan.bin, pan.last4) == ("424242", "4242")


def test_pan_and_cvv_refuse_pickling() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(PAN.parse("4242424242424242"))
    with pytest.raises(TypeError):
        pickle.dumps(CVV("123"))


def test_cvv_masks_itself_and_checks_the_brands_length() -> None:
    cvv = CVV.parse("123", Brand.VISA)
    assert repr(cvv) == "CVV('***')" and str(cvv) == "***" and f"{cvv}" == "***"
    assert CVV.parse("1234", Brand.AMEX).reveal() == "1234"
    with pytest.raises(ValidationError):
        CVV.parse("1234", Brand.VISA)
    with pytest.raises(ValidationError):
        CVV.parse("123", Brand.AMEX)
    with pytest.raises(ValidationError):
        CVV.parse("12a", Brand.VISA)


def test_expiry_in_the_current_month_is_still_good() -> None:
    assert Expiry.parse(11, 2026, now=NOW) == Expiry(11, 2026)
    assert Expiry.parse("05", "30", now=NOW) == Expiry(5, 2030)


def test_past_expiry_is_a_payment_error_expired_card() -> None:
    with pytest.raises(PaymentError) as caught:
        Expiry.parse(10, 2026, now=NOW)
    assert caught.value.code is ErrorCode.EXPIRED_CARD


@pytest.mark.parametrize(
    ("month", "year", "field"),
    [
        (0, 2030, "exp_month"),
        (13, 2030, "exp_month"),
        ("x", 2030, "exp_month"),
        (1, 2090, "exp_year"),
        (True, 2030, "exp_month"),
    ],
)
def test_implausible_expiry_is_a_validation_error(month: object, year: object, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Expiry.parse(month, year, now=NOW)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_a_card_label_is_the_nickname_or_the_brand_and_last_four() -> None:
    from tessera.core.vault.cards import card_label

    assert card_label(Brand.RUPAY, "9012", "  Rupay Debit ") == "Rupay Debit"
    assert card_label(Brand.AMEX, "0005", None) == "American Express •••• 0005"
