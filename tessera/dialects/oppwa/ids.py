"""OPPWA's ids (32 lowercase hex) for Tessera's: a payment's or operation's id is the same 128 bits
(`core.ids`: 48 bits of time and 80 random) written in hex, so each is found from the other and the
payment is the same one in `/v1`; a registration's id is its vault card token, left-padded with zeros.
"""

from __future__ import annotations

import re

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # core.ids' Crockford base32, lower case as ids spell it
_HEX = re.compile(r"^[0-9a-f]{32}$")
_TOKEN = re.compile(r"^[0-9a-f]{20}$")
ID_PATTERN = "^[0-9a-f]{32}$"


def to_hex(core_id: str) -> str:
    """The OPPWA id of a `pay_` or `op_` id (an id of another shape, which no new one has, stays as it is)."""
    prefix, _, body = core_id.partition("_")
    try:
        value = sum(_ALPHABET.index(c) << (5 * i) for i, c in enumerate(reversed(body)))
    except ValueError:
        return core_id
    if len(body) != 26 or value >> 128:
        return core_id
    return f"{value:032x}"


def from_hex(oppwa_id: str, prefix: str = "pay") -> str | None:
    """The core id an OPPWA id names; None when it is not 32 lowercase hex."""
    if not _HEX.fullmatch(oppwa_id):
        return None
    value = int(oppwa_id, 16)
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars))}"


def registration_id(card_token: str) -> str:
    return card_token.rjust(32, "0")


def card_token_of(registration: str) -> str | None:
    if not _HEX.fullmatch(registration) or not registration.startswith("0" * 12):
        return None
    token = registration[12:]
    return token if _TOKEN.fullmatch(token) else None


def short_id(oppwa_id: str) -> str:
    """OPPWA's short id (`1234.5678.9012`), which starts a payment's descriptor."""
    digits = f"{int(oppwa_id, 16) % 10**12:012d}" if _HEX.fullmatch(oppwa_id) else "0" * 12
    return f"{digits[:4]}.{digits[4:8]}.{digits[8:]}"
