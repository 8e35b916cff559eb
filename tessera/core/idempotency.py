"""Idempotency keys with Stripe's semantics.

The first request with a key claims it (a committed row in state `in_progress`), runs, and stores its
response. A later request with the same key and the same request fingerprint gets that response
again; with a different fingerprint it is refused (422); while the first still runs, a second is
refused (409), so two requests racing on one key never both execute. A request that ends in an
error before anything durable happened releases the key so the client can retry. Keys live 24 hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tessera.core.errors import ConflictError, ErrorCode, ValidationError
from tessera.core.ports import UnitOfWorkFactory

MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: bytes


class IdempotencyKeys:
    def __init__(self, uow: UnitOfWorkFactory, ttl: timedelta) -> None:
        self._uow = uow
        self._ttl = ttl

    async def begin(
        self, merchant_id: str, mode: str, key: str, fingerprint: str, now: datetime
    ) -> StoredResponse | None:
        """Claim `key`; None means go ahead, a StoredResponse means replay it."""
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            raise ValidationError(
                f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters", field="Idempotency-Key"
            )
        record = {
            "merchant_id": merchant_id,
            "mode": mode,
            "key": key,
            "fingerprint": fingerprint,
            "state": "in_progress",
            "response_status": None,
            "response_body": None,
            "created_at": now,
            "expires_at": now + self._ttl,
        }
        async with self._uow() as tx:
            if await tx.idempotency.try_insert(record):
                await tx.commit()
                return None
            existing = await tx.idempotency.get(merchant_id, mode, key)
            if existing is None or existing["expires_at"] <= now:
                await tx.idempotency.delete(merchant_id, mode, key)
                await tx.idempotency.try_insert(record)
                await tx.commit()
                return None
        if existing["fingerprint"] != fingerprint:
            raise ConflictError(
                "this Idempotency-Key was used with a different request",
                code=ErrorCode.IDEMPOTENCY_KEY_REUSED,
                field="Idempotency-Key",
            )
        if existing["state"] != "complete":
            raise ConflictError(
                "a request with this Idempotency-Key is still being processed",
                code=ErrorCode.IDEMPOTENCY_KEY_IN_USE,
                field="Idempotency-Key",
            )
        return StoredResponse(int(existing["response_status"]), bytes(existing["response_body"]))

    async def finish(self, merchant_id: str, mode: str, key: str, response: StoredResponse) -> None:
        async with self._uow() as tx:
            await tx.idempotency.complete(merchant_id, mode, key, response.status, response.body)
            await tx.commit()

    async def release(self, merchant_id: str, mode: str, key: str) -> None:
        async with self._uow() as tx:
            await tx.idempotency.delete(merchant_id, mode, key)
            await tx.commit()

    async def purge_expired(self, now: datetime) -> int:
        async with self._uow() as tx:
            count = await tx.idempotency.purge(now)
            await tx.commit()
        return count
