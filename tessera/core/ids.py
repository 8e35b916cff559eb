"""Prefixed, time-ordered identifiers (`pay_`, `op_`, `tok_`, ...).

An id is the prefix and 26 Crockford base32 characters: 48 bits of milliseconds since the epoch and
80 random bits (the ULID layout), so ids sort by creation time and lists page by id alone.
"""

from __future__ import annotations

import base64
import secrets
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id(prefix: str) -> str:
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars)).lower()}"


def looks_like_id(value: str, prefix: str) -> bool:
    """Whether `value` has the shape of an id made by `new_id(prefix)` (a cursor, say, before it is used)."""
    body = value[len(prefix) + 1 :]
    return value.startswith(prefix + "_") and len(body) == 26 and all(c in _LOWER_ALPHABET for c in body)


_LOWER_ALPHABET = frozenset(_ALPHABET.lower())


def random_token(nbytes: int = 32) -> str:
    """URL-safe random text with `nbytes` bytes of entropy (for secrets and keys)."""
    return secrets.token_urlsafe(nbytes)


def webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 24 random bytes in standard Base64 (what its libraries
    decode; URL-safe Base64 would silently lose bits there)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
