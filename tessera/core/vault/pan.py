"""Card values that never show themselves: PAN, CVV and Expiry.

`PAN` and `CVV` print masked in repr, str, f-strings, logs and tracebacks; the digits come out only
through `.reveal()`, called where the card is encrypted or sent to an acquirer. They refuse pickling,
so no cache or queue can write them to disk by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

from tessera.core.errors import ErrorCode, PaymentError, ValidationError
from tessera.core.vault.brands import RULES, Brand, detect


def _ascii_digits(text: str) -> bool:
    """0-9 only: `str.isdigit` also accepts other scripts' digits, which no card network uses."""
    return text.isascii() and text.isdigit()


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def mask(digits: str) -> str:
    """BIN + last 4, the only way a card number is ever shown."""
    return f"{digits[:6]}{'*' * (len(digits) - 10)}{digits[-4:]}"


class PAN:
    """A validated primary account number with its brand."""

    __slots__ = ("_digits", "brand")

    def __init__(self, digits: str, brand: Brand) -> None:
        self._digits = digits
        self.brand = brand

    @classmethod
    def parse(cls, raw: str, *, field: str = "number") -> PAN:
        digits = raw.replace(" ", "").replace("-", "") if isinstance(raw, str) else ""
        if not _ascii_digits(digits) or not 12 <= len(digits) <= 19:
            raise ValidationError("card number must be 12 to 19 digits", field=field)
        if not luhn_valid(digits):
            raise ValidationError("card number is not valid (Luhn check failed)", field=field)
        brand = detect(digits)
        if brand is None:
            raise ValidationError("card number is not of a supported card brand", field=field)
        if len(digits) not in RULES[brand].lengths:
            raise ValidationError(f"card number has the wrong length for a {brand.value} card", field=field)
        return cls(digits, brand)

    def reveal(self) -> str:
        return self._digits

    @property
    def bin(self) -> str:
        return self._digits[:6]

    @property
    def last4(self) -> str:
        return self._digits[-4:]

    @property
    def masked(self) -> str:
        return mask(self._digits)

    def __repr__(self) -> str:
        return f"PAN({self.masked!r})"

    def __str__(self) -> str:
        return self.masked

    def __format__(self, spec: str) -> str:
        return format(self.masked, spec)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PAN) and other._digits == self._digits

    def __hash__(self) -> int:
        return hash((PAN, self._digits))

    def __reduce__(self) -> NoReturn:
        raise TypeError("a PAN cannot be pickled")


class CVV:
    """A card verification value; held only in memory, or encrypted inside a single-use token."""

    __slots__ = ("_digits",)

    def __init__(self, digits: str) -> None:
        self._digits = digits

    @classmethod
    def parse(cls, raw: str, brand: Brand, *, field: str = "cvc") -> CVV:
        digits = raw.strip() if isinstance(raw, str) else ""
        allowed = RULES[brand].cvv_lengths
        if not _ascii_digits(digits) or len(digits) not in allowed:
            wanted = " or ".join(str(n) for n in sorted(allowed))
            raise ValidationError(f"card security code must be {wanted} digits for this card", field=field)
        return cls(digits)

    def reveal(self) -> str:
        return self._digits

    def __repr__(self) -> str:
        return "CVV('***')"

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return format("***", spec)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CVV) and other._digits == self._digits

    def __hash__(self) -> int:
        return hash((CVV, self._digits))

    def __reduce__(self) -> NoReturn:
        raise TypeError("a CVV cannot be pickled")


@dataclass(frozen=True, slots=True)
class Expiry:
    month: int
    year: int

    @classmethod
    def parse(
        cls,
        month: int | str,
        year: int | str,
        *,
        month_field: str = "exp_month",
        year_field: str = "exp_year",
        now: datetime,
    ) -> Expiry:
        """A card's expiry; a card is good through the last day of its month. Past dates are
        PaymentError(EXPIRED_CARD): refused before any acquirer sees them."""
        m = _as_int(month, month_field)
        y = _as_int(year, year_field)
        if not 1 <= m <= 12:
            raise ValidationError("expiry month must be between 1 and 12", field=month_field)
        if 0 <= y < 100:
            y += 2000
        if not 2000 <= y <= now.year + 30:
            raise ValidationError("expiry year is not a plausible card expiry year", field=year_field)
        if (y, m) < (now.year, now.month):
            raise PaymentError("the card has expired", code=ErrorCode.EXPIRED_CARD, field=year_field)
        return cls(m, y)


def _as_int(value: int | str, field: str) -> int:
    if isinstance(value, bool):
        raise ValidationError("must be a whole number", field=field)
    if isinstance(value, int):
        return value
    text = value.strip() if isinstance(value, str) else ""
    if not _ascii_digits(text) or len(text) > 4:
        raise ValidationError("must be a whole number", field=field)
    return int(text)


@dataclass(frozen=True, slots=True)
class CardData:
    """A card as a shopper typed it: everything an authorisation needs."""

    pan: PAN
    expiry: Expiry
    cvv: CVV | None
    holder_name: str | None

    def __repr__(self) -> str:
        return f"CardData(pan={self.pan!r}, expiry={self.expiry!r}, cvv={'***' if self.cvv else None})"
