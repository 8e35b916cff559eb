"""Encryption of stored card data: round trips, tamper detection, key versions."""

from __future__ import annotations

import secrets

import pytest

from tessera.core.vault.crypto import DecryptionError, Keyring


def _ring(current: int = 1, **keys: bytes) -> Keyring:
    material = {int(k[1:]): v for k, v in keys.items()} or {1: secrets.token_bytes(32)}
    return Keyring(material, current, secrets.token_bytes(32))


def test_round_trip_and_no_plaintext_in_ciphertext() -> None:
    ring = _ring()
    sealed = ring.encrypt(b"4242424242424242", context=b"token:tok_1:pan")
    assert b"4242424242424242" not in sealed
    assert ring.decrypt(sealed, context=b"token:tok_1:pan") == b"4242424242424242"
    assert ring.encrypt(b"same", context=b"c") != ring.encrypt(b"same", context=b"c")


def test_a_tampered_ciphertext_is_detected() -> None:
    ring = _ring()
    sealed = bytearray(ring.encrypt(b"4242424242424242", context=b"c"))
    sealed[-1] ^= 1
    with pytest.raises(DecryptionError):
        ring.decrypt(bytes(sealed), context=b"c")


def test_a_ciphertext_moved_to_another_record_does_not_open() -> None:
    ring = _ring()
    sealed = ring.encrypt(b"4242424242424242", context=b"token:tok_1:pan")
    with pytest.raises(DecryptionError):
        ring.decrypt(sealed, context=b"token:tok_2:pan")


def test_other_keys_decrypt_nothing() -> None:
    sealed = _ring().encrypt(b"secret", context=b"c")
    with pytest.raises(DecryptionError):
        _ring().decrypt(sealed, context=b"c")


def test_older_key_versions_stay_readable_after_a_new_one_becomes_current() -> None:
    old, new = secrets.token_bytes(32), secrets.token_bytes(32)
    hmac_key = secrets.token_bytes(32)
    sealed = Keyring({1: old}, 1, hmac_key).encrypt(b"x", context=b"c")
    rotated = Keyring({1: old, 2: new}, 2, hmac_key)
    assert rotated.decrypt(sealed, context=b"c") == b"x"
    assert rotated.encrypt(b"y", context=b"c")[1:3] == b"\x00\x02"


def test_keyed_hash_depends_on_the_key() -> None:
    assert _ring().keyed_hash(b"x") != _ring().keyed_hash(b"x")


def test_weak_keys_are_refused() -> None:
    with pytest.raises(ValueError):
        Keyring({1: b"short"}, 1, secrets.token_bytes(32))
    with pytest.raises(ValueError):
        Keyring({1: secrets.token_bytes(32)}, 2, secrets.token_bytes(32))
