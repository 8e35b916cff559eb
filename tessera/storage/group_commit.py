"""Group commit for SQLite: many write transactions, one fsync.

Each unit of work that writes runs as a SAVEPOINT inside one physical transaction on a dedicated
writer connection, one at a time (an asyncio lock). When it commits, its savepoint is released and it
waits; the physical transaction is committed (one fsync for the whole batch) by the last writer of
the batch: the first one to commit when no other writer is queued, or when the batch is full. No
commit returns before its batch is durable, so a caller that goes on to call an acquirer does so only
after its pending operation is on disk, exactly as with one commit per transaction.

A batch is atomic as a whole: a crash loses all of an unacknowledged batch and none of an acknowledged
one, and each transaction inside it is all-or-nothing (its savepoint). A writer whose work fails rolls
back to its savepoint alone. If the physical commit fails, every writer in the batch gets the error.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy import Connection, Engine, RootTransaction

MAX_BATCH = 32
# A writer that waits on a batch flushes it itself after this long: the safety net for a queued
# writer that was cancelled before its turn and so never flushed the batch it would have ended.
_FLUSH_AFTER = 0.005


class GroupCommitter:
    def __init__(self, engine: Engine, connection_options: dict[str, object]) -> None:
        self._engine = engine
        self._options = connection_options
        self._lock = asyncio.Lock()
        self._queued = 0
        self._conn: Connection | None = None
        self._root: RootTransaction | None = None
        self._pending: list[asyncio.Future[None]] = []

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[WriteTransaction]:
        self._queued += 1
        try:
            await self._lock.acquire()
        finally:
            self._queued -= 1
        txn: WriteTransaction | None = None
        try:
            txn = WriteTransaction(self, self._begin())
            yield txn
        finally:
            if txn is None:
                self._end_turn()
            elif not txn.finished:
                await txn.rollback()

    def _begin(self) -> Connection:
        try:
            if self._conn is None:
                self._conn = self._engine.connect().execution_options(**self._options)
            if self._root is None:
                self._root = self._conn.begin()
            self._conn.begin_nested()
            return self._conn
        except BaseException:
            self._discard()
            raise

    def _end_turn(self) -> None:
        """Give up the lock; if nobody else is queued, the batch ends here."""
        try:
            if not self._queued:
                self._flush()
        finally:
            self._lock.release()

    async def commit(self, txn: WriteTransaction) -> None:
        assert self._conn is not None
        nested = self._conn.get_nested_transaction()
        assert nested is not None
        nested.commit()  # RELEASE SAVEPOINT
        txn.finished = True
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append(future)
        if self._queued and len(self._pending) < MAX_BATCH:
            self._lock.release()  # let the queued writers join this batch
            await self._wait(future)
            return
        try:
            self._flush()
        finally:
            self._lock.release()
        future.result()

    async def _wait(self, future: asyncio.Future[None]) -> None:
        while True:
            try:
                await asyncio.wait_for(asyncio.shield(future), _FLUSH_AFTER)
                return
            except TimeoutError:
                async with self._lock:
                    if not future.done():
                        self._flush()

    def _flush(self) -> None:
        root, self._root = self._root, None
        pending, self._pending = self._pending, []
        if root is None:
            return
        try:
            root.commit()
        except BaseException as exc:
            self._discard()
            for future in pending:
                if not future.done():
                    future.set_exception(exc)
            raise
        for future in pending:
            if not future.done():
                future.set_result(None)

    def _discard(self) -> None:
        conn, self._conn, self._root = self._conn, None, None
        if conn is not None:
            conn.invalidate()
            conn.close()

    async def close(self) -> None:
        async with self._lock:
            self._flush()
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class WriteTransaction:
    """One unit of work's turn on the writer connection."""

    def __init__(self, committer: GroupCommitter, conn: Connection) -> None:
        self._committer = committer
        self.connection = conn
        self.finished = False

    async def commit(self) -> None:
        if self.finished:
            raise RuntimeError("this transaction has already ended")
        await self._committer.commit(self)

    async def rollback(self) -> None:
        """Undo this transaction's work alone, and end its turn."""
        if self.finished:
            return
        self.finished = True
        try:
            nested = self.connection.get_nested_transaction()
            if nested is not None and nested.is_active:
                nested.rollback()  # ROLLBACK TO SAVEPOINT
        finally:
            self._committer._end_turn()
