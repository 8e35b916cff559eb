"""Envelope encryption of stored card data: data keys under a KEK, versions, tampering, reloads."""

from __future__ import annotations

import secrets

import pytest

from tessera.core.vault.crypto import (
    DecryptionError,
    KeyEncryptionKeys,
    Keyring,
    WrappedKey,
    new_data_key,
)


def _keks(*versions: int) -> KeyEncryptionKeys:
    return KeyEncryptionKeys({v: secrets.token_bytes(32) for v in versions or (1,)}, max(versions or (1,)))


def _ring(keks: KeyEncryptionKeys | None = None, data_keys: int = 1) -> Keyring:
    keks = keks or _keks()
    ring = Keyring(keks, secrets.token_bytes(32))
    ring.install([keks.wrap(v, new_data_key()) for v in range(1, data_keys + 1)])
    return ring


async def test_round_trip_and_no_plaintext_in_ciphertext() -> None:
    ring = _ring()
    sealed = ring.encrypt(b"4242424242424242", context=b"card:card_1:pan")
    assert b"4242424242424242" not in sealed
    assert await ring.decrypt(sealed, context=b"card:card_1:pan") == b"4242424242424242"
    assert ring.encrypt(b"same", context=b"c") != ring.encrypt(b"same", context=b"c")


async def test_a_tampered_ciphertext_is_detected() -> None:
    ring = _ring()
    sealed = bytearray(ring.encrypt(b"4242424242424242", context=b"c"))
    sealed[-1] ^= 1
    with pytest.raises(DecryptionError):
        await ring.decrypt(bytes(sealed), context=b"c")


async def test_a_ciphertext_moved_to_another_record_does_not_open() -> None:
    ring = _ring()
    sealed = ring.encrypt(b"4242424242424242", context=b"card:card_1:pan")
    with pytest.raises(DecryptionError):
        await ring.decrypt(sealed, context=b"card:card_2:pan")


def test_data_keys_are_stored_only_wrapped_and_another_kek_opens_none() -> None:
    keks = _keks()
    data_key = new_data_key()
    wrapped = keks.wrap(1, data_key)
    assert data_key not in wrapped.wrapped
    assert keks.unwrap(wrapped) == data_key
    with pytest.raises(DecryptionError):
        _keks().unwrap(wrapped)  # a stolen database without its KEK
    with pytest.raises(DecryptionError):
        keks.unwrap(WrappedKey(2, wrapped.kek_version, wrapped.wrapped))  # bound to its version


async def test_the_newest_data_key_is_current_and_older_ones_stay_readable() -> None:
    keks = _keks()
    ring = _ring(keks)
    old = ring.encrypt(b"x", context=b"c")
    ring.install([keks.wrap(2, new_data_key())])
    assert ring.current == 2
    assert ring.parse_header(ring.encrypt(b"y", context=b"c")) == (2, 2)
    assert await ring.decrypt(old, context=b"c") == b"x"


async def test_an_unknown_data_key_is_fetched_through_reload() -> None:
    keks = _keks()
    stored = [keks.wrap(1, new_data_key())]
    writer = Keyring(keks, secrets.token_bytes(32))
    writer.install(stored)
    calls = 0

    async def reload() -> list[WrappedKey]:
        nonlocal calls
        calls += 1
        return stored

    reader = Keyring(keks, secrets.token_bytes(32), reload=reload)
    sealed = writer.encrypt(b"secret", context=b"c")
    assert await reader.decrypt(sealed, context=b"c") == b"secret"
    assert calls == 1


def test_a_new_kek_version_wraps_new_data_keys_and_old_wrappings_still_open() -> None:
    old = _keks(1)
    wrapped = old.wrap(1, b"k" * 32)
    both = KeyEncryptionKeys({1: old.versions[1], 2: secrets.token_bytes(32)}, 2)
    assert both.unwrap(wrapped) == b"k" * 32
    assert both.wrap(3, b"z" * 32).kek_version == 2


def test_keyed_hash_depends_on_the_key() -> None:
    assert _ring().keyed_hash(b"x") != _ring().keyed_hash(b"x")


def test_weak_keys_are_refused() -> None:
    with pytest.raises(ValueError):
        KeyEncryptionKeys({1: b"short"}, 1)
    with pytest.raises(ValueError):
        KeyEncryptionKeys({1: secrets.token_bytes(32)}, 2)
    with pytest.raises(ValueError):
        Keyring(_keks(), b"short")


def test_encrypting_before_the_data_keys_are_loaded_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        Keyring(_keks(), secrets.token_bytes(32)).encrypt(b"x", context=b"c")
