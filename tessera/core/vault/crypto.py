"""Envelope encryption of stored card data, and the keyed hash used for look-ups.

Each PAN is sealed with AES-256-GCM under a *data key* (DEK). Data keys are random, versioned, and
stored only wrapped (AES-256-GCM) by a *key-encryption key* (KEK) that comes from configuration and
never touches the database: a database copied without its KEK opens nothing. A ciphertext is

    0x02 | data-key version (2 bytes) | nonce (12) | ciphertext + tag

and is bound to its context (the record and field it belongs to) as associated data, so a ciphertext
moved to another row does not decrypt. Rotation makes a new data key current; older ones stay
readable until every record has been re-encrypted. Fingerprints are HMAC-SHA256 under a separate key.

This module holds keys in memory only; loading them from files, the environment and the database is
the caller's job (`tessera.keys`, `core.vault.keys`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_LEGACY = 1  # sealed directly under a configured key (before data keys existed)
_ENVELOPE = 2
_HEADER = struct.Struct(">BH")
_OVERHEAD = _HEADER.size + 12 + 16


class DecryptionError(Exception):
    """A ciphertext that is damaged, tampered with, or sealed under a key we do not hold."""


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A data key as stored: sealed under one version of the key-encryption key."""

    version: int
    kek_version: int
    wrapped: bytes


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(sealed[:12], sealed[12:], aad)
    except InvalidTag as exc:
        raise DecryptionError("ciphertext failed authentication") from exc


class KeyEncryptionKeys:
    """The configured KEK versions; the current one wraps new data keys."""

    def __init__(self, versions: dict[int, bytes], current: int) -> None:
        if current not in versions:
            raise ValueError("the current key-encryption key version is not configured")
        for version, key in versions.items():
            if len(key) != 32:
                raise ValueError(f"key-encryption key version {version} is not 256 bits")
        self.versions = dict(versions)
        self.current = current

    def __repr__(self) -> str:
        return f"KeyEncryptionKeys(versions={sorted(self.versions)}, current={self.current})"

    def wrap(self, version: int, data_key: bytes) -> WrappedKey:
        aad = f"tessera-data-key:{version}".encode()
        return WrappedKey(version, self.current, _seal(self.versions[self.current], data_key, aad))

    def unwrap(self, wrapped: WrappedKey) -> bytes:
        kek = self.versions.get(wrapped.kek_version)
        if kek is None:
            raise DecryptionError(f"data key {wrapped.version} is wrapped by a key-encryption key we do not hold")
        return _open(kek, wrapped.wrapped, f"tessera-data-key:{wrapped.version}".encode())


class Keyring:
    """Encrypts with the current data key; decrypts with any it holds, asking `reload` for one it
    does not yet know (another process may have rotated)."""

    def __init__(
        self,
        keks: KeyEncryptionKeys,
        hmac_key: bytes,
        *,
        reload: Callable[[], Awaitable[list[WrappedKey]]] | None = None,
        reload_keks: Callable[[], KeyEncryptionKeys] | None = None,
    ) -> None:
        if len(hmac_key) < 32:
            raise ValueError("the hashing key must be at least 256 bits")
        self.keks = keks
        self._hmac_key = hmac_key
        self._data_keys: dict[int, AESGCM] = {}
        self.current: int | None = None
        self._reload = reload
        self._reload_keks = reload_keks

    def __repr__(self) -> str:
        return f"Keyring(data_keys={sorted(self._data_keys)}, current={self.current}, keks={self.keks!r})"

    def install(self, wrapped: list[WrappedKey]) -> None:
        """Hold these data keys; the newest becomes current. A key wrapped by a KEK version we do not
        hold means the KEK was rotated since this process read its configuration: read it again."""
        if self._reload_keks is not None and any(w.kek_version not in self.keks.versions for w in wrapped):
            self.keks = self._reload_keks()
        for item in wrapped:
            if item.version not in self._data_keys:
                self._data_keys[item.version] = AESGCM(self.keks.unwrap(item))
        if self._data_keys:
            self.current = max(self._data_keys)

    @property
    def versions(self) -> list[int]:
        return sorted(self._data_keys)

    def encrypt(self, plaintext: bytes, *, context: bytes) -> bytes:
        if self.current is None:
            raise RuntimeError("the vault has no data key yet: the keyring was not loaded")
        nonce = os.urandom(12)
        sealed = self._data_keys[self.current].encrypt(nonce, plaintext, context)
        return _HEADER.pack(_ENVELOPE, self.current) + nonce + sealed

    async def decrypt(self, ciphertext: bytes, *, context: bytes) -> bytes:
        fmt, version = self.parse_header(ciphertext)
        if fmt == _ENVELOPE and version not in self._data_keys and self._reload is not None:
            self.install(await self._reload())
        return self.decrypt_known(ciphertext, context=context)

    def decrypt_known(self, ciphertext: bytes, *, context: bytes) -> bytes:
        fmt, version = self.parse_header(ciphertext)
        body = ciphertext[_HEADER.size :]
        if fmt == _LEGACY:
            legacy = self.keks.versions.get(version)
            if legacy is None:
                raise DecryptionError("ciphertext is sealed under a key we do not hold")
            return _open(legacy, body, context)
        aead = self._data_keys.get(version)
        if aead is None:
            raise DecryptionError("ciphertext is sealed under a data key we do not hold")
        try:
            return aead.decrypt(body[:12], body[12:], context)
        except InvalidTag as exc:
            raise DecryptionError("ciphertext failed authentication") from exc

    @staticmethod
    def parse_header(ciphertext: bytes) -> tuple[int, int]:
        if len(ciphertext) < _OVERHEAD:
            raise DecryptionError("ciphertext is too short")
        fmt, version = _HEADER.unpack_from(ciphertext)
        if fmt not in (_LEGACY, _ENVELOPE):
            raise DecryptionError("ciphertext is of an unknown format")
        return fmt, version

    def keyed_hash(self, data: bytes) -> str:
        return hmac.new(self._hmac_key, data, hashlib.sha256).hexdigest()

    def keyed_digest(self, data: bytes) -> bytes:
        return hmac.new(self._hmac_key, data, hashlib.sha256).digest()


def new_data_key() -> bytes:
    return os.urandom(32)
