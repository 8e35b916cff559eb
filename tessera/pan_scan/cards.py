"""What the scanner counts as a card number: a 13-19 digit run that passes Luhn and starts inside a card
network's issuer range at a length that network issues.

The ranges are wider than the gateway's own brand table (`tessera.core.vault.brands`), as PCI DSS
discovery tools are: a scan should rather report a stray Maestro or UnionPay number than miss it.
"""

from __future__ import annotations

from tessera.core.vault.pan import luhn_valid, mask

__all__ = ["card_brand", "luhn_valid", "mask"]

_ANY = frozenset(range(13, 20))

# (first prefix, last prefix, brand, lengths); prefixes of any length up to six digits.
_RANGES: tuple[tuple[str, str, str, frozenset[int]], ...] = (
    ("4", "4", "visa", frozenset({13, 16, 19})),
    ("51", "55", "mastercard", frozenset({16})),
    ("2221", "2720", "mastercard", frozenset({16})),
    ("34", "34", "amex", frozenset({15})),
    ("37", "37", "amex", frozenset({15})),
    ("6011", "6011", "discover", frozenset({16, 17, 18, 19})),
    ("644", "649", "discover", frozenset({16, 17, 18, 19})),
    ("65", "65", "discover", frozenset({16, 17, 18, 19})),
    ("3528", "3589", "jcb", frozenset({16, 17, 18, 19})),
    ("300", "305", "diners", frozenset({14, 15, 16, 17, 18, 19})),
    ("3095", "3095", "diners", frozenset({14, 15, 16, 17, 18, 19})),
    ("36", "36", "diners", frozenset({14, 15, 16, 17, 18, 19})),
    ("38", "39", "diners", frozenset({14, 15, 16, 17, 18, 19})),
    ("62", "62", "unionpay", frozenset({16, 17, 18, 19})),
    ("81", "81", "unionpay", frozenset({16, 17, 18, 19})),
    ("817200", "820199", "rupay", frozenset({16})),
    ("508500", "508999", "rupay", frozenset({16})),
    ("606985", "608500", "rupay", frozenset({16})),
    ("6521", "6531", "rupay", frozenset({16})),
    # Maestro issues 12-19 digits across 50 and 56-69: the widest, noisiest range, kept because a
    # missed card costs more than a reviewed false hit.
    ("50", "50", "maestro", _ANY),
    ("56", "69", "maestro", _ANY),
)


def _widen(first: str, last: str) -> tuple[int, int]:
    pad = 6 - len(first)
    return int(first) * 10**pad, (int(last) + 1) * 10**pad - 1


# Narrowest first, so RuPay's 6521 wins over Discover's 65 and Discover's 6011 over Maestro's 56-69.
_BIN_RANGES = tuple(
    sorted(((*_widen(a, b), brand, lengths) for a, b, brand, lengths in _RANGES), key=lambda r: r[1] - r[0])
)


def card_brand(digits: str) -> str | None:
    """The brand of a plausible card number (ASCII digits), or None: Luhn, issuer range and length."""
    if not 13 <= len(digits) <= 19 or not luhn_valid(digits):
        return None
    bin6 = int(digits[:6])
    for low, high, brand, lengths in _BIN_RANGES:
        if low <= bin6 <= high and len(digits) in lengths:
            return brand
    return None
