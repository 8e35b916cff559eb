"""Issue 15's ceiling: the smallest honest program on Tessera's server stack that does a payment's durable work.

A raw ASGI callable (no framework) served by uvicorn with `tessera serve`'s options, on a database migrated by
Tessera's own migrations (same tables, indexes and durability settings). Per `POST /v1/payments` (a JSON body,
parsed with json.loads and not validated):

1. one transaction inserts the payment (status `processing`) and its pending operation, and commits;
2. a second one marks the operation `succeeded` and the payment `completed`, inserts its event (`sequence`
   NULL: numbered after commit, as Tessera does), and commits;

then it answers 201 with a small JSON body. No commit returns before it is durable.

SQLite (one process): sqlite3 on one writer connection, WAL, `synchronous=FULL`, foreign keys on, run on the
event loop like Tessera's store. Commits are grouped as Tessera's `GroupCommitter` groups them: each
transaction is a SAVEPOINT inside one physical transaction, which is committed (one fsync) on the event
loop's next turn, or at 64 transactions; a request waits for its batch's COMMIT before it goes on.

PostgreSQL (two processes): asyncpg (Tessera's driver; its statements are prepared and cached per
connection), a pool of CEILING_PG_POOL connections per process, one round trip per statement.

`python -m bench.ceiling_app --port P --workers N` migrates the database named by CEILING_DATABASE_URL, adds
the merchant the payments belong to, and serves; `GET /readyz` answers 200 once the store is open.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sqlite3
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from tessera.core.ids import new_id  # the ids Tessera writes, made the same way

DATABASE_URL = "CEILING_DATABASE_URL"
MERCHANT_ID = "mer_ceiling"
MODE = "test"
PG_POOL = int(os.environ.get("CEILING_PG_POOL", "10"))
MAX_BATCH = 64  # as tessera.storage.group_commit.MAX_BATCH

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def sqlite_path(url: str) -> str | None:
    return url.split(":///", 1)[1] if url.startswith("sqlite") else None


# The statements, in SQLite's `?` and PostgreSQL's `$n` forms (`?` numbered in order for PostgreSQL).
_INSERT_PAYMENT = (
    "INSERT INTO payments (id, merchant_id, mode, status, amount, currency, capture_method, card_bin, card_last4, "
    "card_brand, card_exp_month, card_exp_year, processor, browser, created_at, updated_at) "
    "VALUES (?, ?, ?, 'processing', ?, ?, 'automatic', ?, ?, 'visa', ?, ?, 'sandbox', ?, ?, ?)"
)
_INSERT_OPERATION = (
    "INSERT INTO operations (id, payment_id, merchant_id, type, amount, status, processor_data, created_at, "
    "updated_at) VALUES (?, ?, ?, 'DB', ?, 'pending', ?, ?, ?)"
)
_OPERATION_SUCCEEDED = (
    "UPDATE operations SET status = 'succeeded', processor_ref = ?, response_code = '00', auth_code = ?, "
    "updated_at = ? WHERE id = ?"
)
_PAYMENT_COMPLETED = (
    "UPDATE payments SET status = 'completed', amount_authorized = amount, amount_captured = amount, "
    "processor_ref = ?, auth_code = ?, version = version + 1, updated_at = ? WHERE id = ?"
)
_INSERT_EVENT = (
    "INSERT INTO events (id, merchant_id, mode, type, payment_id, data, created_at, sequence) "
    "VALUES (?, ?, ?, 'payment.completed', ?, ?, ?, NULL)"
)


def _numbered(sql: str) -> str:
    parts = sql.split("?")
    return "".join(part + (f"${i + 1}" if i < len(parts) - 1 else "") for i, part in enumerate(parts))


_PG = {sql: _numbered(sql) for sql in (_INSERT_PAYMENT, _INSERT_OPERATION, _OPERATION_SUCCEEDED, _PAYMENT_COMPLETED)}
_PG[_INSERT_EVENT] = _numbered(_INSERT_EVENT)


class Payment:
    """One request's values, taken from its body as they are (no validation)."""

    def __init__(self, body: dict[str, Any]) -> None:
        card = body.get("card") or {}
        number = str(card.get("number", ""))
        self.id, self.operation_id, self.event_id = new_id("pay"), new_id("op"), new_id("evt")
        self.amount, self.currency = int(body.get("amount", 0)), str(body.get("currency", ""))
        self.bin, self.last4 = number[:8], number[-4:]
        self.exp_month, self.exp_year = card.get("exp_month"), card.get("exp_year")
        self.browser = json.dumps(body.get("browser"))
        self.processor_ref, self.auth_code = f"sbx_{secrets.token_hex(8)}", f"{secrets.randbelow(1_000_000):06d}"

    def answer(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "payment",
            "status": "completed",
            "amount": self.amount,
            "currency": self.currency,
            "card": {"bin": self.bin, "last4": self.last4, "brand": "visa"},
        }

    def first(self, now: Any) -> list[tuple[str, tuple[Any, ...]]]:
        return [
            (
                _INSERT_PAYMENT,
                (self.id, MERCHANT_ID, MODE, self.amount, self.currency, self.bin, self.last4, self.exp_month)
                + (self.exp_year, self.browser, now, now),
            ),
            (_INSERT_OPERATION, (self.operation_id, self.id, MERCHANT_ID, self.amount, "{}", now, now)),
        ]

    def second(self, now: Any, data: str) -> list[tuple[str, tuple[Any, ...]]]:
        return [
            (_OPERATION_SUCCEEDED, (self.processor_ref, self.auth_code, now, self.operation_id)),
            (_PAYMENT_COMPLETED, (self.processor_ref, self.auth_code, now, self.id)),
            (_INSERT_EVENT, (self.event_id, MERCHANT_ID, MODE, self.id, data, now)),
        ]


class SqliteStore:
    """One writer connection; transactions grouped into one COMMIT per event-loop turn (at most MAX_BATCH)."""

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=10000"):
            self._db.execute(f"PRAGMA {pragma}")
        self._open = False
        self._pending: list[asyncio.Future[None]] = []
        self._scheduled = False

    @staticmethod
    def now() -> str:
        return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite DateTime format

    async def transaction(self, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        db = self._db
        if not self._open:
            db.execute("BEGIN IMMEDIATE")
            self._open = True
        db.execute("SAVEPOINT w")
        try:
            for sql, parameters in statements:
                db.execute(sql, parameters)
        except BaseException:
            db.execute("ROLLBACK TO w")
            db.execute("RELEASE w")
            raise
        db.execute("RELEASE w")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append(future)
        if len(self._pending) >= MAX_BATCH:
            self._flush()
        elif not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)
        await future

    def _flush(self) -> None:
        self._scheduled = False
        pending, self._pending = self._pending, []
        if not self._open:
            return
        self._open = False
        try:
            self._db.execute("COMMIT")  # the batch's one fsync
        except sqlite3.Error as exc:
            self._db.execute("ROLLBACK")
            for future in pending:
                future.set_exception(exc)
            return
        for future in pending:
            future.set_result(None)

    async def pay(self, payment: Payment) -> None:
        await self.transaction(payment.first(self.now()))
        await self.transaction(payment.second(self.now(), json.dumps(payment.answer())))

    async def close(self) -> None:
        self._flush()
        self._db.close()


class PostgresStore:
    def __init__(self, pool: Any) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, url: str) -> PostgresStore:
        return cls(await asyncpg.create_pool(url, min_size=PG_POOL, max_size=PG_POOL))

    async def pay(self, payment: Payment) -> None:
        async with self._pool.acquire() as conn:
            now = datetime.now(UTC)
            async with conn.transaction():
                for sql, parameters in payment.first(now):
                    await conn.execute(_PG[sql], *parameters)
            now = datetime.now(UTC)
            async with conn.transaction():
                for sql, parameters in payment.second(now, json.dumps(payment.answer())):
                    await conn.execute(_PG[sql], *parameters)

    async def close(self) -> None:
        await self._pool.close()


Store = SqliteStore | PostgresStore
_store: Store | None = None


async def _open_store() -> Store:
    url = os.environ[DATABASE_URL]
    path = sqlite_path(url)
    return SqliteStore(path) if path else await PostgresStore.open(url)


async def _answer(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    global _store
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            _store = await _open_store()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if _store is not None:
                await _store.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    if scope["method"] == "GET" and scope["path"] == "/readyz":
        await _answer(send, 200, b'{"status":"ready"}')
        return
    if scope["method"] != "POST" or scope["path"] != "/v1/payments":
        await _answer(send, 404, b'{"error":"not_found"}')
        return
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    payment = Payment(json.loads(b"".join(chunks)))
    assert _store is not None
    try:
        await _store.pay(payment)
    except (sqlite3.Error, asyncpg.PostgresError, OSError) as exc:
        await _answer(send, 500, json.dumps({"error": type(exc).__name__, "message": str(exc)}).encode())
        return
    await _answer(send, 201, json.dumps(payment.answer(), separators=(",", ":")).encode())


def prepare(url: str) -> None:
    """Migrate with Tessera's migrations, then add the merchant the payments belong to (once)."""
    from tessera.storage.migrate import upgrade

    upgrade(url)
    merchant = "INSERT INTO merchants (id, name, status, allowed_domains, created_at) VALUES (?, ?, ?, ?, ?)"
    values = (MERCHANT_ID, "Ceiling", "active", "[]")
    path = sqlite_path(url)
    if path:
        with sqlite3.connect(path) as db:
            db.execute(merchant.replace("INSERT", "INSERT OR IGNORE"), (*values, SqliteStore.now()))
        return

    async def insert() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(_numbered(merchant) + " ON CONFLICT DO NOTHING", *values, datetime.now(UTC))
        finally:
            await conn.close()

    asyncio.run(insert())


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    url = os.environ[DATABASE_URL]
    if sqlite_path(url) and args.workers != 1:
        parser.error("SQLite is served by one process, as `tessera serve` serves it")
    prepare(url)
    from tessera.cli import UVICORN_OPTIONS  # tessera serve's own server options, so the stack is the same

    common: dict[str, Any] = {"host": "127.0.0.1", "port": args.port, **UVICORN_OPTIONS}
    if args.workers == 1:
        uvicorn.run(app, **common)
    else:
        uvicorn.run("bench.ceiling_app:app", workers=args.workers, **common)


if __name__ == "__main__":
    main()
