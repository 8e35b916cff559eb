"""Currencies (ISO 4217) and amounts in minor units.

Inside the core an amount is an `int` count of the currency's minor unit; dialects that speak decimal
strings convert with `to_minor` / `to_major_string` at their edge. Floats never carry money.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import lru_cache

from iso4217 import Currency as _Iso4217

from tessera.core.errors import ValidationError

# Ten digits of minor units: 99,999,999.99 in a two-decimal currency. Large enough for any card
# payment, small enough that no sum of amounts on one payment overflows a 64-bit column.
MAX_AMOUNT = 9_999_999_999


@lru_cache(maxsize=512)
def exponent(currency: str) -> int:
    """The number of decimals of an active ISO 4217 currency; ValidationError for anything else."""
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise ValidationError("currency must be an ISO 4217 code such as INR", field="currency")
    try:
        found = _Iso4217(currency)
    except ValueError as exc:
        raise ValidationError("currency is not an ISO 4217 currency code", field="currency") from exc
    digits = found.exponent
    if digits is None:  # funds, precious metals, testing codes: not card currencies
        raise ValidationError("currency cannot be used for card payments", field="currency")
    return int(digits)


@lru_cache(maxsize=1)
def card_currencies() -> tuple[str, ...]:
    """Every code `exponent` accepts (active ISO 4217 currencies with a minor unit), sorted: what the
    dialects document as the currencies a payment may be in."""
    found = []
    for currency in _Iso4217:
        try:
            exponent(currency.code)
        except ValidationError:
            continue
        found.append(currency.code)
    return tuple(sorted(found))


def numeric_code(currency: str) -> str:
    """The ISO 4217 three-digit number (`"356"` for INR), as 3-D Secure messages carry currencies."""
    exponent(currency)
    return f"{int(_Iso4217(currency).number):03d}"


def normalise_currency(value: str) -> str:
    code = value.strip().upper()
    exponent(code)
    return code


def check_amount(amount: int, *, field: str = "amount") -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValidationError("amount must be an integer number of minor units", field=field)
    if amount <= 0:
        raise ValidationError("amount must be greater than zero", field=field)
    if amount > MAX_AMOUNT:
        raise ValidationError(f"amount must be at most {MAX_AMOUNT} minor units", field=field)
    return amount


def to_minor(value: str, currency: str, *, field: str = "amount") -> int:
    """Turn a decimal string such as "1000.00" into minor units, refusing excess decimals."""
    digits = exponent(currency)
    text = value.strip()
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise ValidationError("amount must be a decimal number such as 1000.00", field=field) from exc
    if not number.is_finite() or "e" in text.lower():
        raise ValidationError("amount must be a decimal number such as 1000.00", field=field)
    exp = number.as_tuple().exponent
    if isinstance(exp, int) and -exp > digits:
        raise ValidationError(f"amount has more than {digits} decimals for {currency}", field=field)
    return check_amount(int(number.scaleb(digits)), field=field)


def to_major_string(amount: int, currency: str) -> str:
    digits = exponent(currency)
    if digits == 0:
        return str(amount)
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 10**digits)
    return f"{sign}{whole}.{frac:0{digits}d}"
