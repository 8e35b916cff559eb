"""OPPWA's notification encryption: AES-256-GCM under a listener's 64-hex-character key, written as hex.

The body is the ciphertext of the UTF-8 JSON, in hex; the 96-bit initialisation vector and the 128-bit
authentication tag travel as hex in the `X-Initialization-Vector` and `X-Authentication-Tag` headers;
no padding and no additional authenticated data (`docs/vendors/oppwa.md` 6.2). A receiver that decrypts
and authenticates a body knows it came from the holder of the key. Pure functions, no I/O.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_PATTERN = re.compile(r"[0-9A-Fa-f]{64}")
IV_BYTES = 12
TAG_BYTES = 16


@dataclass(frozen=True, slots=True)
class Sealed:
    """An encrypted notification, every part in uppercase hex as OPPWA's own samples write it."""

    body: str
    iv: str
    tag: str


def new_key() -> str:
    """A listener's key: 32 random bytes as 64 uppercase hex characters, as OPPWA issues them."""
    return secrets.token_hex(32).upper()


def _key(key_hex: str) -> AESGCM:
    if not KEY_PATTERN.fullmatch(key_hex):
        raise ValueError("an OPPWA notification key is 64 hexadecimal characters")
    return AESGCM(bytes.fromhex(key_hex))


def encrypt(key_hex: str, plaintext: bytes, *, iv: bytes | None = None) -> Sealed:
    """Seal `plaintext`; the IV is random unless given (tests reproduce published vectors with it)."""
    nonce = os.urandom(IV_BYTES) if iv is None else iv
    if len(nonce) != IV_BYTES:
        raise ValueError("the initialisation vector is 12 bytes")
    sealed = _key(key_hex).encrypt(nonce, plaintext, None)
    return Sealed(sealed[:-TAG_BYTES].hex().upper(), nonce.hex().upper(), sealed[-TAG_BYTES:].hex().upper())


def decrypt(key_hex: str, body_hex: str, iv_hex: str, tag_hex: str) -> bytes:
    """Open a notification as a receiver does; `cryptography.exceptions.InvalidTag` when it was not
    sealed with this key, or was changed on the way."""
    ciphertext, nonce, tag = bytes.fromhex(body_hex.strip()), bytes.fromhex(iv_hex), bytes.fromhex(tag_hex)
    if len(tag) != TAG_BYTES:
        raise ValueError("the authentication tag is 16 bytes")
    return _key(key_hex).decrypt(nonce, ciphertext + tag, None)
