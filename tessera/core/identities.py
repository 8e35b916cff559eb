"""Identities a dialect keeps per merchant and mode: an identifier its vendor's clients send (Paysecure's
`brand_id`, OPPWA's `entity_id`) and, when the vendor signs with it, key material (Paysecure's RSA key
pair for `paysecure-sign`).

The core keeps them opaque: a dialect registers an `IdentityKind` that makes a new one, and the core
stores it, the secret part encrypted with the vault's keys, and hands it back. A merchant gets one of
each kind per mode when it is made; one made before a kind existed gets it on first use. The core
never reads what an identity means, and imports no dialect.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from tessera.core.errors import NotFoundError
from tessera.core.ports import Cipher, UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class MadeIdentity:
    """What a kind makes: the identifier clients send, what may be shown (a public key), and a secret."""

    public_id: str
    public_data: str | None = None
    secret: bytes | None = None


class IdentityKind(Protocol):
    """A kind of identity a dialect registers; `name` is the key it is printed under (`brand_id`)."""

    @property
    def name(self) -> str: ...

    def make(self) -> MadeIdentity: ...


@dataclass(frozen=True, slots=True)
class Identity:
    """A merchant's identity of one kind in one mode. `secret` is plain text only in memory, and only
    when asked for (`with_secret`); the store keeps it encrypted."""

    merchant_id: str
    mode: str
    kind: str
    public_id: str
    public_data: str | None
    created_at: datetime
    secret: bytes | None = None

    def __repr__(self) -> str:
        return f"Identity(merchant_id={self.merchant_id!r}, mode={self.mode!r}, kind={self.kind!r})"


@dataclass(frozen=True, slots=True)
class StoredIdentity:
    """An identity as the store keeps it: the secret sealed."""

    merchant_id: str
    mode: str
    kind: str
    public_id: str
    public_data: str | None
    sealed_secret: bytes | None
    created_at: datetime


def secret_context(merchant_id: str, mode: str, kind: str) -> bytes:
    """What an identity's sealed secret is bound to: moved to another merchant it does not open."""
    return f"identity:{merchant_id}:{mode}:{kind}".encode()


class IdentityCache:
    """The identities this process has read. An identity is never changed once stored (only added), so
    what was read stays true; vendors' clients send one with every call, and reading it cost a transaction
    per request. The secret stays sealed here, as in the store."""

    def __init__(self, max_identities: int = 10_000) -> None:
        self._max = max_identities
        self._held: OrderedDict[tuple[str, str, str], StoredIdentity] = OrderedDict()

    def get(self, merchant_id: str, mode: str, kind: str) -> StoredIdentity | None:
        found = self._held.get((merchant_id, mode, kind))
        if found is not None:
            self._held.move_to_end((merchant_id, mode, kind))
        return found

    def keep(self, stored: StoredIdentity) -> None:
        self._held[(stored.merchant_id, stored.mode, stored.kind)] = stored
        while len(self._held) > self._max:
            self._held.popitem(last=False)


async def identity(
    merchant_id: str,
    mode: str,
    kind: IdentityKind,
    *,
    uow: UnitOfWorkFactory,
    cipher: Cipher,
    now: datetime,
    with_secret: bool = False,
    cache: IdentityCache | None = None,
) -> Identity:
    """The merchant's identity of `kind` in `mode`, made now if it has none yet. Two requests making one
    at once both get the one stored first."""
    context = secret_context(merchant_id, mode, kind.name)
    stored = cache.get(merchant_id, mode, kind.name) if cache is not None else None
    if stored is None:
        async with uow(read_only=True) as tx:
            stored = await tx.merchants.identity(merchant_id, mode, kind.name)
    if stored is None:
        made = kind.make()
        sealed = cipher.encrypt(made.secret, context=context) if made.secret is not None else None
        fresh = StoredIdentity(merchant_id, mode, kind.name, made.public_id, made.public_data, sealed, now)
        async with uow() as tx:
            if await tx.merchants.get(merchant_id) is None:
                raise NotFoundError(f"no merchant {merchant_id!r}", field="merchant_id")
            if await tx.merchants.add_identity(fresh):
                await tx.commit()
        async with uow() as tx:  # read as a writer: on SQLite the winner may still be committing
            stored = await tx.merchants.identity(merchant_id, mode, kind.name)
        assert stored is not None
    if cache is not None:
        cache.keep(stored)
    secret = None
    if with_secret and stored.sealed_secret is not None:
        secret = await cipher.decrypt(stored.sealed_secret, context=context)
    return Identity(
        stored.merchant_id, stored.mode, stored.kind, stored.public_id, stored.public_data, stored.created_at, secret
    )


async def find_identity(kind: str, public_id: str, *, uow: UnitOfWorkFactory) -> Identity | None:
    """The identity clients name by `public_id` (a brand_id sent in a body), without its secret."""
    async with uow(read_only=True) as tx:
        stored = await tx.merchants.identity_by_public_id(kind, public_id)
    if stored is None:
        return None
    return Identity(
        stored.merchant_id, stored.mode, stored.kind, stored.public_id, stored.public_data, stored.created_at
    )
