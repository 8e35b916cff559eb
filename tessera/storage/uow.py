"""The SQL unit of work: one connection, one transaction, the repositories bound to it."""

from __future__ import annotations

from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.storage.engine import WRITE, Database
from tessera.storage.repositories import (
    SqlIdempotencyRepository,
    SqlMerchantRepository,
    SqlPaymentRepository,
    SqlTokenRepository,
)


class SqlUnitOfWork:
    def __init__(self, db: Database, *, read_only: bool = False) -> None:
        self._db = db
        self._read_only = read_only
        self._conn: AsyncConnection | None = None
        self._locked = False

    async def __aenter__(self) -> Self:
        if self._db.sqlite and not self._read_only:
            await self._db.write_lock.acquire()
            self._locked = True
        try:
            conn = await self._db.engine.connect()
            if self._db.sqlite and not self._read_only:
                conn = await conn.execution_options(**{WRITE: True})
            await conn.begin()
        except BaseException:
            self._release_lock()
            raise
        self._conn = conn
        self.payments = SqlPaymentRepository(conn, for_update=not self._db.sqlite)
        self.tokens = SqlTokenRepository(conn, for_update=not self._db.sqlite)
        self.merchants = SqlMerchantRepository(conn)
        self.idempotency = SqlIdempotencyRepository(conn, sqlite=self._db.sqlite)
        return self

    async def __aexit__(self, *exc: object) -> None:
        conn, self._conn = self._conn, None
        try:
            if conn is not None:
                if conn.in_transaction():
                    await conn.rollback()
                await conn.close()
        finally:
            self._release_lock()

    def _release_lock(self) -> None:
        if self._locked:
            self._locked = False
            self._db.write_lock.release()

    async def commit(self) -> None:
        assert self._conn is not None
        await self._conn.commit()

    async def rollback(self) -> None:
        assert self._conn is not None
        await self._conn.rollback()


class SqlUnitOfWorkFactory:
    def __init__(self, db: Database) -> None:
        self.db = db

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.db, read_only=read_only)
