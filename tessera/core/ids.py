"""Prefixed, time-ordered identifiers (`pay_`, `op_`, `tok_`, ...).

An id is the prefix and 26 Crockford base32 characters: 48 bits of milliseconds since the epoch and
80 random bits (the ULID layout), so ids sort by creation time and lists page by id alone.
"""

from __future__ import annotations

import base64
import os
import secrets
import threading
import time
import uuid

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Every two-character string, indexed by its ten bits: an id is 13 look-ups, not 26 shifts and appends.
_PAIRS = [high + low for high in _ALPHABET.lower() for low in _ALPHABET.lower()]
_SHIFTS = tuple(range(120, -1, -10))


class _RandomBytes:
    """The kernel's CSPRNG (`os.urandom`, what `secrets` reads), drawn a block at a time.

    A payment makes about ten random values (ids, a 3-D Secure transaction id, the sandbox's references),
    and one `getrandom` call each was 4% of a payment's CPU under load in py-spy, far above its cost in
    isolation. The bytes are the same kernel bytes, each handed out once; a forked child drops the block
    it inherited, so parent and child never hand out the same bytes. Not for secrets: a block waits in
    memory before use, so keys and tokens keep `secrets` (`random_token`).
    """

    _BLOCK = 4096

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._block = b""
        self._used = 0

    def take(self, n: int) -> bytes:
        with self._lock:
            if self._used + n > len(self._block):
                self._block, self._used = os.urandom(max(self._BLOCK, n)), 0
            start = self._used
            self._used += n
            return self._block[start : self._used]

    def drop(self) -> None:
        self._block, self._used = b"", 0


_random = _RandomBytes()
os.register_at_fork(after_in_child=_random.drop)


def new_id(prefix: str) -> str:
    return f"{prefix}_{_encode(int(time.time() * 1000), _random.take(10))}"


def _encode(millis: int, random: bytes) -> str:
    """26 Crockford base32 characters of the 128 bits `millis` (48) and `random` (80), most significant
    first (130 bits, the top two zero), read ten bits (two characters) at a time."""
    value = (millis << 80) | int.from_bytes(random, "big")
    return "".join([_PAIRS[(value >> shift) & 1023] for shift in _SHIFTS])


def random_uuid() -> str:
    """A random (version 4) UUID, as `uuid.uuid4()` makes it, from the block-drawn bytes."""
    return str(uuid.UUID(bytes=_random.take(16), version=4))


def random_hex(nbytes: int) -> str:
    """`nbytes` random bytes as hex, from the block-drawn bytes (references, not secrets)."""
    return _random.take(nbytes).hex()


def random_digits(n: int) -> str:
    """`n` random decimal digits. Eight bytes beyond what 10**n needs keep the remainder's bias below 2**-64."""
    limit = 10**n
    return f"{int.from_bytes(_random.take((limit.bit_length() + 7) // 8 + 8), 'big') % limit:0{n}d}"


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
