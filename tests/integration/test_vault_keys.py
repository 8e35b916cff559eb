"""Vault keys: nothing opens without them, tampering is caught, rotation re-encrypts everything,
resumes after a crash, and reads keep working throughout."""

from __future__ import annotations

import asyncio
import base64
import secrets
import threading
from pathlib import Path

import httpx
import pytest
from httpx import AsyncClient
from sqlalchemy import select, update

from tessera.app import create_app
from tessera.bootstrap import Container, build
from tessera.core.clock import utcnow
from tessera.core.vault.crypto import DecryptionError
from tessera.core.vault.keys import rotate_data_key
from tessera.core.vault.rotation import count_stale, reencrypt_all
from tessera.core.vault.service import open_saved_card
from tessera.storage import tables as t
from tests.conftest import Backend, Merchant, auth, make_settings
from tests.waiting import wait_until

CARDS = ["4242424242424242", "5555555555554444", "378282246310005", "6011111111111117", "6521123456789012"]


async def _save_all(client: AsyncClient, merchant: Merchant, copies: int = 1) -> list[str]:
    tokens = []
    for i in range(copies):
        for number in CARDS:
            cvc = "1234" if number.startswith("37") else "123"
            body = {
                "card": {"number": number, "exp_month": 12, "exp_year": 2031, "cvc": cvc},
                "identifier": f"cust_{i}",
                "card_type": "CREDIT",
                "consent": True,
            }
            r = await client.post("/v1/cards", json=body, headers=auth(merchant.test.secret_key))
            assert r.status_code == 201, r.text
            tokens.append(r.json()["card_token"])
    return tokens


async def _pay(client: AsyncClient, merchant: Merchant, token: str, identifier: str) -> int:
    r = await client.post(
        "/v1/payments",
        json={"amount": 100, "currency": "INR", "saved_card": token, "identifier": identifier},
        headers=auth(merchant.test.secret_key),
    )
    return r.status_code


async def test_rotation_re_encrypts_every_card_and_token_and_they_still_work(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    tokens = await _save_all(client, merchant)
    await client.post(
        "/v1/tokens",
        json={"card": {"number": "4242424242424242", "exp_month": 1, "exp_year": 2031, "cvc": "123"}},
        headers=auth(merchant.test.publishable_key),
    )
    old = container.keyring.current
    new = await rotate_data_key(container.keyring, uow=container.uow)
    assert new == (old or 0) + 1 and container.keyring.current == new
    assert await count_stale(container.keyring, uow=container.uow) == len(CARDS) + 2  # token: PAN and CVV
    assert await reencrypt_all(container.keyring, uow=container.uow) == len(CARDS) + 2
    assert await count_stale(container.keyring, uow=container.uow) == 0
    async with container.db.connect() as conn:
        versions = {r.key_version for r in await conn.execute(select(t.cards.c.key_version))}
        headers = {int.from_bytes(r.pan_ciphertext[1:3], "big") for r in await conn.execute(select(t.cards))}
    assert versions == headers == {new}
    for token in tokens:
        assert await _pay(client, merchant, token, "cust_0") == 201


async def test_rotation_resumes_after_a_crash_mid_way(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    await _save_all(client, merchant, copies=3)
    await rotate_data_key(container.keyring, uow=container.uow)

    def crash_after_first_batch(_done: int) -> None:
        raise KeyboardInterrupt("killed")

    with pytest.raises(KeyboardInterrupt):
        await reencrypt_all(container.keyring, uow=container.uow, batch=4, progress=crash_after_first_batch)
    assert await count_stale(container.keyring, uow=container.uow) == 15 - 4
    assert await reencrypt_all(container.keyring, uow=container.uow, batch=4) == 11
    assert await count_stale(container.keyring, uow=container.uow) == 0


def _rotate_elsewhere(container: Container, started: threading.Event) -> int:
    """`tessera vault rotate` as another process would run it: its own loop, keyring and connections."""

    async def run() -> int:
        rotator = build(container.settings)
        await rotator.start()
        try:
            await rotate_data_key(rotator.keyring, uow=rotator.uow)
            started.set()
            return await reencrypt_all(rotator.keyring, uow=rotator.uow, batch=3)
        finally:
            await rotator.close()

    return asyncio.run(run())


async def test_reads_keep_working_while_another_process_rotates(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    tokens = await _save_all(client, merchant, copies=4)
    started = threading.Event()
    rotation = asyncio.create_task(asyncio.to_thread(_rotate_elsewhere, container, started))
    # Started, or ended without starting (then awaiting it below raises its error).
    await wait_until(
        lambda: started.is_set() or rotation.done(), what="the other process's rotation to start", every=0.001
    )
    codes = [await _pay(client, merchant, tok, f"cust_{i // len(CARDS)}") for i, tok in enumerate(tokens)]
    assert await rotation == len(tokens)
    assert codes == [201] * len(tokens)
    assert await count_stale(container.keyring, uow=container.uow) == 0


async def test_a_database_copied_without_its_keys_decrypts_nothing(
    client: AsyncClient, merchant: Merchant, container: Container, backend: Backend, tmp_path: Path
) -> None:
    tokens = await _save_all(client, merchant)
    other_keys = make_settings(
        backend, tmp_path / "thief", vault_kek=base64.b64encode(secrets.token_bytes(32)).decode()
    )
    thief = build(other_keys)
    try:
        with pytest.raises(DecryptionError):
            await thief.start()  # the stored data keys do not unwrap
        async with thief.uow() as tx:
            with pytest.raises(DecryptionError):
                await open_saved_card(tx, merchant.id, "test", tokens[0], "cust_0", cipher=thief.keyring, now=utcnow())
    finally:
        await thief.close()


async def test_a_tampered_ciphertext_is_detected(client: AsyncClient, merchant: Merchant, container: Container) -> None:
    token = (await _save_all(client, merchant))[0]
    async with container.db.connect() as conn:
        sealed = (
            await conn.execute(select(t.cards.c.pan_ciphertext).where(t.cards.c.card_token == token))
        ).scalar_one()
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    async with container.db.begin() as conn:
        await conn.execute(update(t.cards).where(t.cards.c.card_token == token).values(pan_ciphertext=tampered))
    async with container.uow() as tx:
        with pytest.raises(DecryptionError):
            await open_saved_card(tx, merchant.id, "test", token, "cust_0", cipher=container.keyring, now=utcnow())
    app = create_app(container.settings, container=container, embedded_worker=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # answer as a server would
    async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as server:
        r = await server.post(
            "/v1/payments",
            json={"amount": 100, "currency": "INR", "saved_card": token, "identifier": "cust_0"},
            headers=auth(merchant.test.secret_key),
        )
    assert r.status_code == 500 and r.json()["error"]["code"] == "internal_error"
    assert "Traceback" not in r.text and "4242424242424242" not in r.text
