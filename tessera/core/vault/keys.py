"""The data keys' life: made on first start, rotated on demand, re-wrapped when the KEK changes."""

from __future__ import annotations

from tessera.core.clock import utcnow
from tessera.core.ports import UnitOfWorkFactory
from tessera.core.vault.crypto import Keyring, new_data_key


async def load_data_keys(keyring: Keyring, *, uow: UnitOfWorkFactory) -> None:
    """Install every stored data key, making the first one if there is none yet."""
    async with uow(read_only=True) as tx:
        stored = await tx.vault_keys.data_keys()
    if not stored:
        async with uow() as tx:
            made = keyring.keks.wrap(1, new_data_key())
            if await tx.vault_keys.add_data_key(made, utcnow()):
                await tx.commit()
        async with uow(read_only=True) as tx:
            stored = await tx.vault_keys.data_keys()
    keyring.install(stored)


async def rotate_data_key(keyring: Keyring, *, uow: UnitOfWorkFactory) -> int:
    """Make a new data key current; returns its version. Records move to it by re-encryption."""
    await load_data_keys(keyring, uow=uow)
    while True:
        version = (max(keyring.versions) if keyring.versions else 0) + 1
        async with uow() as tx:
            added = await tx.vault_keys.add_data_key(keyring.keks.wrap(version, new_data_key()), utcnow())
            if added:
                await tx.commit()
        await load_data_keys(keyring, uow=uow)
        if added:
            return version


async def rewrap_data_keys(keyring: Keyring, *, uow: UnitOfWorkFactory) -> int:
    """Seal every data key under the current KEK version; returns how many were re-wrapped."""
    async with uow() as tx:
        stored = await tx.vault_keys.data_keys()
        count = 0
        for key in stored:
            if key.kek_version != keyring.keks.current:
                await tx.vault_keys.rewrap(keyring.keks.wrap(key.version, keyring.keks.unwrap(key)))
                count += 1
        await tx.commit()
    return count
