"""Card brands: which BIN ranges belong to which network, their lengths and CVV lengths.

Ranges are compared on the first six digits; when several contain a BIN, the narrowest wins, which is
how RuPay's 6521-6522 beats Discover's 65 and a 2-series Mastercard never reads as something else.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Brand(StrEnum):
    VISA = "visa"
    MASTERCARD = "mastercard"
    AMEX = "amex"
    DISCOVER = "discover"
    JCB = "jcb"
    DINERS = "diners"
    RUPAY = "rupay"
    UNIONPAY = "unionpay"
    MAESTRO = "maestro"


@dataclass(frozen=True, slots=True)
class BrandRule:
    brand: Brand
    lengths: frozenset[int]
    cvv_lengths: frozenset[int]


RULES: dict[Brand, BrandRule] = {
    rule.brand: rule
    for rule in (
        BrandRule(Brand.VISA, frozenset({13, 16, 19}), frozenset({3})),
        BrandRule(Brand.MASTERCARD, frozenset({16}), frozenset({3})),
        BrandRule(Brand.AMEX, frozenset({15}), frozenset({4})),
        BrandRule(Brand.DISCOVER, frozenset({16, 17, 18, 19}), frozenset({3})),
        BrandRule(Brand.JCB, frozenset({16, 17, 18, 19}), frozenset({3})),
        BrandRule(Brand.DINERS, frozenset({14, 15, 16, 17, 18, 19}), frozenset({3})),
        BrandRule(Brand.RUPAY, frozenset({16}), frozenset({3})),
        BrandRule(Brand.UNIONPAY, frozenset({16, 17, 18, 19}), frozenset({3})),
        BrandRule(Brand.MAESTRO, frozenset(range(12, 20)), frozenset({3})),
    )
}

# (first prefix, last prefix, brand); prefixes of any length up to six digits.
_RANGES: tuple[tuple[str, str, Brand], ...] = (
    ("4", "4", Brand.VISA),
    ("51", "55", Brand.MASTERCARD),
    ("2221", "2720", Brand.MASTERCARD),
    ("34", "34", Brand.AMEX),
    ("37", "37", Brand.AMEX),
    ("6011", "6011", Brand.DISCOVER),
    ("644", "649", Brand.DISCOVER),
    ("65", "65", Brand.DISCOVER),
    ("3528", "3589", Brand.JCB),
    ("300", "305", Brand.DINERS),
    ("3095", "3095", Brand.DINERS),
    ("36", "36", Brand.DINERS),
    ("38", "39", Brand.DINERS),
    ("508500", "508999", Brand.RUPAY),
    ("606985", "607984", Brand.RUPAY),
    ("608001", "608500", Brand.RUPAY),
    ("6521", "6531", Brand.RUPAY),
    ("817200", "820199", Brand.RUPAY),
    ("62", "62", Brand.UNIONPAY),
    ("81", "81", Brand.UNIONPAY),
    ("5018", "5018", Brand.MAESTRO),
    ("5020", "5020", Brand.MAESTRO),
    ("5038", "5038", Brand.MAESTRO),
    ("5893", "5893", Brand.MAESTRO),
    ("56", "58", Brand.MAESTRO),
    ("6304", "6304", Brand.MAESTRO),
    ("6759", "6759", Brand.MAESTRO),
    ("6761", "6763", Brand.MAESTRO),
)


def _widen(first: str, last: str) -> tuple[int, int]:
    pad = 6 - len(first)
    return int(first) * 10**pad, (int(last) + 1) * 10**pad - 1


_BIN_RANGES: tuple[tuple[int, int, Brand], ...] = tuple(
    sorted(((*_widen(a, b), brand) for a, b, brand in _RANGES), key=lambda r: r[1] - r[0])
)


def detect(digits: str) -> Brand | None:
    """The brand whose narrowest BIN range holds this number's first six digits, or None."""
    if len(digits) < 6 or not (digits.isascii() and digits.isdigit()):
        return None
    bin6 = int(digits[:6])
    for low, high, brand in _BIN_RANGES:
        if low <= bin6 <= high:
            return brand
    return None
