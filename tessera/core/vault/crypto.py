"""Encryption of stored card data: AES-256-GCM under versioned keys, and a keyed hash.

A ciphertext is `0x01 | key version (2 bytes) | nonce (12) | ciphertext+tag`; its key version says
which key opens it, so older records stay readable when a newer key becomes current. Every
ciphertext is bound to a context (the record and field it belongs to) as associated data, so a
ciphertext moved to another row does not decrypt. Loading keys from files or the environment is the
caller's job; this module holds them in memory only.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_FORMAT = 1
_HEADER = struct.Struct(">BH")


class DecryptionError(Exception):
    """A ciphertext that is damaged, tampered with, or sealed under a key we do not hold."""


class Keyring:
    def __init__(self, keys: dict[int, bytes], current: int, hmac_key: bytes) -> None:
        if current not in keys:
            raise ValueError("the current key version is not in the keyring")
        for version, key in keys.items():
            if len(key) != 32:
                raise ValueError(f"key version {version} is not 256 bits")
        if len(hmac_key) < 32:
            raise ValueError("the hashing key must be at least 256 bits")
        self._aead = {version: AESGCM(key) for version, key in keys.items()}
        self.current = current
        self._hmac_key = hmac_key

    def __repr__(self) -> str:
        return f"Keyring(versions={sorted(self._aead)}, current={self.current})"

    def encrypt(self, plaintext: bytes, *, context: bytes) -> bytes:
        nonce = os.urandom(12)
        sealed = self._aead[self.current].encrypt(nonce, plaintext, context)
        return _HEADER.pack(_FORMAT, self.current) + nonce + sealed

    def decrypt(self, ciphertext: bytes, *, context: bytes) -> bytes:
        if len(ciphertext) < _HEADER.size + 12 + 16:
            raise DecryptionError("ciphertext is too short")
        fmt, version = _HEADER.unpack_from(ciphertext)
        aead = self._aead.get(version)
        if fmt != _FORMAT or aead is None:
            raise DecryptionError("ciphertext is of an unknown format or key version")
        nonce = ciphertext[_HEADER.size : _HEADER.size + 12]
        try:
            return aead.decrypt(nonce, ciphertext[_HEADER.size + 12 :], context)
        except InvalidTag as exc:
            raise DecryptionError("ciphertext failed authentication") from exc

    def keyed_hash(self, data: bytes) -> str:
        return hmac.new(self._hmac_key, data, hashlib.sha256).hexdigest()
