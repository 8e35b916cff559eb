"""The SQL unit of work: one connection, one transaction, the repositories bound to it."""

from __future__ import annotations

import contextlib
from functools import cached_property
from typing import Self

from tessera.core.auth_cache import AuthCache
from tessera.storage.engine import Conn, Database
from tessera.storage.events import SqlEventRepository
from tessera.storage.idempotency import SqlIdempotencyRepository
from tessera.storage.merchants import SqlMerchantRepository
from tessera.storage.payments import SqlPaymentRepository
from tessera.storage.reversals import SqlReversalRepository
from tessera.storage.risk import SqlRiskRepository
from tessera.storage.threeds import SqlAuthenticationRepository
from tessera.storage.vault import SqlCardRepository, SqlTokenRepository, SqlVaultKeyRepository
from tessera.storage.webhooks import SqlWebhookRepository


class SqlUnitOfWork:
    """Its repositories are made on first use: a payment's transactions use two or three of the eleven,
    and making them all was a measurable part of a payment's CPU."""

    def __init__(self, db: Database, *, read_only: bool = False, auth_cache: AuthCache | None = None) -> None:
        self._db = db
        self._read_only = read_only
        self._auth_cache = auth_cache
        self._context: contextlib.AbstractAsyncContextManager[Conn] | None = None

    async def __aenter__(self) -> Self:
        context = self._db.connect(write=not self._read_only)
        self._conn = await context.__aenter__()
        self._context = context
        return self

    async def __aexit__(self, *exc: object) -> None:
        context, self._context = self._context, None
        if context is not None:
            await context.__aexit__(None, None, None)  # rolls back whatever was not committed, frees the lock

    async def commit(self) -> None:
        try:
            await self._conn.commit()
        finally:
            # A merchant or key changed through this process is authenticated afresh from the next request
            # on (even when the commit failed: whether it took effect may be unknown). Only a unit of work
            # that used its merchant repository can have changed one.
            changed: SqlMerchantRepository | None = self.__dict__.get("merchants")
            if self._auth_cache is not None and changed and (changed.changed_merchants or changed.changed_keys):
                self._auth_cache.forget(merchant_ids=changed.changed_merchants, key_ids=changed.changed_keys)
                changed.changed_merchants, changed.changed_keys = set(), set()

    async def rollback(self) -> None:
        await self._conn.rollback()

    @cached_property
    def payments(self) -> SqlPaymentRepository:
        return SqlPaymentRepository(self._conn, sqlite=self._db.sqlite)

    @cached_property
    def tokens(self) -> SqlTokenRepository:
        return SqlTokenRepository(self._conn, for_update=not self._db.sqlite)

    @cached_property
    def merchants(self) -> SqlMerchantRepository:
        return SqlMerchantRepository(self._conn)

    @cached_property
    def idempotency(self) -> SqlIdempotencyRepository:
        return SqlIdempotencyRepository(self._conn, sqlite=self._db.sqlite)

    @cached_property
    def cards(self) -> SqlCardRepository:
        return SqlCardRepository(self._conn)

    @cached_property
    def vault_keys(self) -> SqlVaultKeyRepository:
        return SqlVaultKeyRepository(self._conn, sqlite=self._db.sqlite)

    @cached_property
    def events(self) -> SqlEventRepository:
        return SqlEventRepository(self._conn)

    @cached_property
    def authentications(self) -> SqlAuthenticationRepository:
        return SqlAuthenticationRepository(self._conn, for_update=not self._db.sqlite)

    @cached_property
    def webhooks(self) -> SqlWebhookRepository:
        return SqlWebhookRepository(self._conn, sqlite=self._db.sqlite)

    @cached_property
    def risk(self) -> SqlRiskRepository:
        return SqlRiskRepository(self._conn, sqlite=self._db.sqlite)

    @cached_property
    def reversals(self) -> SqlReversalRepository:
        return SqlReversalRepository(self._conn)


class SqlUnitOfWorkFactory:
    """`auth_cache`: the process's cache of API key look-ups, told of every committed change to a merchant
    or a key (core.auth_cache)."""

    def __init__(self, db: Database, *, auth_cache: AuthCache | None = None) -> None:
        self.db = db
        self.auth_cache = auth_cache

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.db, read_only=read_only, auth_cache=self.auth_cache)
