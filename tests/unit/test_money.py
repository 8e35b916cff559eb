"""Currencies and amounts in minor units."""

from __future__ import annotations

import pytest

from tessera.core.errors import ValidationError
from tessera.core.money import MAX_AMOUNT, check_amount, exponent, normalise_currency, to_major_string, to_minor


def test_exponents_come_from_iso_4217() -> None:
    assert (exponent("INR"), exponent("JPY"), exponent("KWD"), exponent("EUR")) == (2, 0, 3, 2)


@pytest.mark.parametrize("code", ["ZZZ", "XAU", "inr1", "EU", ""])
def test_unknown_or_non_card_currencies_are_refused(code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        exponent(code)
    assert caught.value.field == "currency"


def test_currency_is_normalised_to_upper_case() -> None:
    assert normalise_currency(" inr ") == "INR"


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("1000.00", "INR", 100000),
        ("1000", "INR", 100000),
        ("0.5", "EUR", 50),
        ("1500", "JPY", 1500),
        ("1.234", "KWD", 1234),
    ],
)
def test_decimal_strings_become_minor_units(text: str, currency: str, minor: int) -> None:
    assert to_minor(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency"),
    [
        ("10.001", "INR"),
        ("1.5", "JPY"),
        ("abc", "INR"),
        ("1e3", "INR"),
        ("NaN", "INR"),
        ("-1.00", "INR"),
        ("0.00", "INR"),
    ],
)
def test_bad_decimal_strings_are_refused(text: str, currency: str) -> None:
    with pytest.raises(ValidationError):
        to_minor(text, currency)


def test_minor_units_render_with_the_currencys_decimals() -> None:
    assert to_major_string(100000, "INR") == "1000.00"
    assert to_major_string(5, "KWD") == "0.005"
    assert to_major_string(1500, "JPY") == "1500"


def test_amounts_are_positive_bounded_integers() -> None:
    assert check_amount(1) == 1
    assert check_amount(MAX_AMOUNT) == MAX_AMOUNT
    for bad in (0, -1, MAX_AMOUNT + 1, True, 1.0):
        with pytest.raises(ValidationError):
            check_amount(bad)  # type: ignore[arg-type]
