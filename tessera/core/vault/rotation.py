"""Re-encrypting stored card data under the current data key, in batches, resumable at any point.

Each batch re-encrypts a few hundred fields in one transaction, so a crash loses at most that batch's
work (which stays readable under its old key) and a re-run carries on where it stopped: the batch
query asks only for fields still under an older key. Reads keep working throughout, because every
ciphertext names its key version and old data keys are never deleted.
"""

from __future__ import annotations

from collections.abc import Callable

from tessera.core.ports import StoredCiphertext, UnitOfWorkFactory
from tessera.core.vault.crypto import Keyring

BATCH = 1000


async def count_stale(keyring: Keyring, *, uow: UnitOfWorkFactory) -> int:
    assert keyring.current is not None
    async with uow(read_only=True) as tx:
        return await tx.vault_keys.count_stale(keyring.current)


async def reencrypt_all(
    keyring: Keyring, *, uow: UnitOfWorkFactory, batch: int = BATCH, progress: Callable[[int], None] | None = None
) -> int:
    """Move every encrypted field to the current data key; returns how many were re-encrypted."""
    assert keyring.current is not None
    done = 0
    while True:
        async with uow() as tx:
            stale = await tx.vault_keys.stale_ciphertexts(keyring.current, batch)
            if not stale:
                return done
            updates = []
            for item in stale:
                plaintext = await keyring.decrypt(item.ciphertext, context=item.context)
                sealed = keyring.encrypt(plaintext, context=item.context)
                updates.append(
                    StoredCiphertext(item.table, item.row_id, item.field, item.context, sealed, keyring.current)
                )
            await tx.vault_keys.replace_ciphertexts(updates)
            await tx.commit()
        done += len(stale)
        if progress is not None:
            progress(len(stale))
