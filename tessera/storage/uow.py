"""The SQL unit of work: one connection, one transaction, the repositories bound to it."""

from __future__ import annotations

import contextlib
from typing import Self

from tessera.core.auth_cache import AuthCache
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
    def __init__(self, db: Database, *, read_only: bool = False, auth_cache: AuthCache | None = None) -> None:
        self._db = db
        self._read_only = read_only
        self._auth_cache = auth_cache
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
        try:
            await self._conn.commit()
        finally:
            # A merchant or key changed through this process is authenticated afresh from the next request
            # on (even when the commit failed: whether it took effect may be unknown).
            changed = self.merchants
            if self._auth_cache is not None and (changed.changed_merchants or changed.changed_keys):
                self._auth_cache.forget(merchant_ids=changed.changed_merchants, key_ids=changed.changed_keys)
                changed.changed_merchants, changed.changed_keys = set(), set()

    async def rollback(self) -> None:
        await self._conn.rollback()


class SqlUnitOfWorkFactory:
    """`auth_cache`: the process's cache of API key look-ups, told of every committed change to a merchant
    or a key (core.auth_cache)."""

    def __init__(self, db: Database, *, auth_cache: AuthCache | None = None) -> None:
        self.db = db
        self.auth_cache = auth_cache

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.db, read_only=read_only, auth_cache=self.auth_cache)
