"""The SQL unit of work: one connection, one transaction, the repositories bound to it."""

from __future__ import annotations

import contextlib
from typing import Self

from tessera.storage.engine import Database
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
    def __init__(self, db: Database, *, read_only: bool = False) -> None:
        self._db = db
        self._read_only = read_only
        self._stack: contextlib.AsyncExitStack | None = None

    async def __aenter__(self) -> Self:
        stack = contextlib.AsyncExitStack()
        await stack.__aenter__()
        try:
            conn = await stack.enter_async_context(self._db.connect(write=not self._read_only))
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        self._conn = conn
        self.payments = SqlPaymentRepository(conn, sqlite=self._db.sqlite)
        self.tokens = SqlTokenRepository(conn, for_update=not self._db.sqlite)
        self.merchants = SqlMerchantRepository(conn)
        self.idempotency = SqlIdempotencyRepository(conn, sqlite=self._db.sqlite)
        self.cards = SqlCardRepository(conn)
        self.vault_keys = SqlVaultKeyRepository(conn, sqlite=self._db.sqlite)
        self.events = SqlEventRepository(conn)
        self.authentications = SqlAuthenticationRepository(conn, for_update=not self._db.sqlite)
        self.webhooks = SqlWebhookRepository(conn, sqlite=self._db.sqlite)
        self.risk = SqlRiskRepository(conn, sqlite=self._db.sqlite)
        self.reversals = SqlReversalRepository(conn)
        return self

    async def __aexit__(self, *exc: object) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()  # rolls back whatever was not committed, then frees the lock

    async def commit(self) -> None:
        await self._conn.commit()

    async def rollback(self) -> None:
        await self._conn.rollback()


class SqlUnitOfWorkFactory:
    def __init__(self, db: Database) -> None:
        self.db = db

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.db, read_only=read_only)
