"""The SQL unit of work: one connection, one transaction, the repositories bound to it."""

from __future__ import annotations

import contextlib
from functools import cached_property
from typing import Self

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

    def __init__(self, db: Database, *, read_only: bool = False) -> None:
        self._db = db
        self._read_only = read_only
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
        await self._conn.commit()

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
    def __init__(self, db: Database) -> None:
        self.db = db

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.db, read_only=read_only)
