"""Group commit for SQLite: many write transactions, one fsync.

Each unit of work that writes runs as a SAVEPOINT inside one physical transaction on a dedicated
writer connection, one at a time (an asyncio lock). When it commits, its savepoint is released and it
waits; the physical transaction is committed (one fsync for the whole batch) on the event loop's next
turn, so every writer that became ready meanwhile joins the batch (as PostgreSQL's `commit_delay`
does, at the cost of one loop iteration). No commit returns before its batch is durable, so a caller
that goes on to call an acquirer does so only after its pending operation is on disk, exactly as
with one commit per transaction.

A batch is atomic as a whole: a crash loses all of an unacknowledged batch and none of an acknowledged
one, and each transaction inside it is all-or-nothing (its savepoint). A writer whose work fails rolls
back to its savepoint alone. If the physical commit fails, every writer in the batch gets the error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import Connection, Engine, RootTransaction

logger = logging.getLogger(__name__)

MAX_BATCH = 64
SAVEPOINT = "tessera_write"  # one writer at a time holds it (the lock), so one name will do


class GroupCommitter:
    def __init__(self, engine: Engine, connection_options: dict[str, object]) -> None:
        self._engine = engine
        self._options = connection_options
        self._lock = asyncio.Lock()
        self._conn: Connection | None = None
        self._root: RootTransaction | None = None
        self._pending: list[asyncio.Future[None]] = []
        self._flush_scheduled = False
        self.batches = 0  # physical commits, for tests and metrics
        self.commits = 0  # logical commits

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[WriteTransaction]:
        await self._lock.acquire()
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
            _driver(self._conn).execute(f"SAVEPOINT {SAVEPOINT}")
            return self._conn
        except BaseException:
            self._discard()
            raise

    def _end_turn(self) -> None:
        self._lock.release()
        self._schedule_flush()

    async def commit(self, txn: WriteTransaction) -> None:
        assert self._conn is not None
        try:
            _driver(self._conn).execute(f"RELEASE {SAVEPOINT}")
        except BaseException as exc:
            txn.finished = True
            self._abort(exc)
            raise
        txn.finished = True
        self.commits += 1
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append(future)
        if len(self._pending) >= MAX_BATCH:
            try:
                self._flush()
            finally:
                self._lock.release()
        else:
            self._end_turn()
        await future

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled and self._root is not None:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._scheduled_flush)

    def _scheduled_flush(self) -> None:
        self._flush_scheduled = False
        if self._lock.locked():
            # A writer is inside its transaction (it awaited something); its turn ends with another flush.
            return
        try:
            self._flush()
        except Exception:
            logger.exception("group commit failed; every transaction in the batch was told")

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
        self.batches += 1
        for future in pending:
            if not future.done():
                future.set_result(None)

    def _abort(self, exc: BaseException) -> None:
        """A savepoint could not be released or rolled back: the batch cannot be trusted, so it is
        dropped whole (every writer waiting on it gets the error) and the turn ends."""
        pending, self._pending = self._pending, []
        self._discard()
        for future in pending:
            if not future.done():
                future.set_exception(exc)
        self._end_turn()

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
            driver = _driver(self.connection)
            driver.execute(f"ROLLBACK TO {SAVEPOINT}")
            driver.execute(f"RELEASE {SAVEPOINT}")
        except BaseException as exc:
            self._committer._abort(exc)
            raise
        self._committer._end_turn()


def _driver(conn: Connection) -> Any:
    """The sqlite3 connection under `conn`: savepoints are plain statements on it. SQLAlchemy's own
    nested transactions cost about a tenth of a challenge step's CPU for the same two statements."""
    return conn.connection.driver_connection
