"""Idempotency keys with Stripe's semantics, leases and recovery points.

The first request with a key claims it (a committed row in state `in_progress`, held for a lease),
runs, and stores its response. A later request with the same key and the same request fingerprint
gets that response again; with a different fingerprint it is refused (422); while the first still
holds its lease, a second is refused (409), so two requests racing on one key never both execute.
Keys live 24 hours.

A request that ends in an error before anything durable happened releases the key so the client can
retry. What counts as durable is the request's recovery point: the first payment it creates or
changes, recorded on the key in the same transaction as that change (`RecoveryPoints` wraps the unit
of work while a keyed request runs). A request that crashed, or failed after its recovery point,
leaves the key to a retry: once the lease has passed (at once after a failure this process saw), the
retry takes the key over and either runs afresh (no recovery point: nothing durable happened) or is
`resumed`: the services facade answers its payment call with that payment's outcome instead of
charging again. The take-over names a new holder, and the old one's writes under the key (a late
payment insert included) are refused, so a lease that proves too short still cannot charge twice.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Self

from tessera.core.errors import ConflictError, ErrorCode, ValidationError
from tessera.core.payments.model import Payment
from tessera.core.ports import (
    AuthenticationRepository,
    CardRepository,
    EventRepository,
    IdempotencyRepository,
    MerchantRepository,
    PaymentRepository,
    ReversalRepository,
    TokenRepository,
    UnitOfWork,
    UnitOfWorkFactory,
    VaultKeyRepository,
    WebhookRepository,
)
from tessera.core.risk.ports import RiskRepository

MAX_KEY_LENGTH = 255
# Visible ASCII only: what every HTTP stack carries unchanged in a header (spaces at the ends are
# stripped on the way, so a key with them could never match itself), and exactly what the OpenAPI
# document says, so a generated client never sends a key the server refuses.
KEY_PATTERN = re.compile(f"[!-~]{{1,{MAX_KEY_LENGTH}}}")
KEY_RULE = f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} visible ASCII characters (no spaces)"


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: bytes


@dataclass(slots=True)
class Claim:
    """A request's hold on its key, for as long as it runs."""

    merchant_id: str
    mode: str
    key: str
    holder: str  # this claim's name on the row: writes under the key match it or do nothing
    resource_id: str | None = None  # the recovery point: the payment this request created or changed
    resumed: bool = False  # a retry of a request that crashed after its recovery point
    settled: bool = True  # False when a resumed payment still has an operation the acquirer cannot settle yet


_CLAIM: ContextVar[Claim | None] = ContextVar("tessera_idempotency_claim", default=None)


def current_claim() -> Claim | None:
    """The claim of the keyed request running in this context, if any."""
    return _CLAIM.get()


@contextmanager
def running_under(claim: Claim) -> Iterator[Claim]:
    token = _CLAIM.set(claim)
    try:
        yield claim
    finally:
        _CLAIM.reset(token)


class IdempotencyKeys:
    def __init__(self, uow: UnitOfWorkFactory, ttl: timedelta, lease: timedelta = timedelta(seconds=60)) -> None:
        self._uow = uow
        self._ttl = ttl
        self._lease = lease

    async def begin(
        self, merchant_id: str, mode: str, key: str, fingerprint: str, now: datetime
    ) -> StoredResponse | Claim:
        """Claim `key`: a Claim means go ahead (resumed, if a crashed request left a recovery point);
        a StoredResponse means replay it."""
        if not KEY_PATTERN.fullmatch(key):
            raise ValidationError(KEY_RULE, field="Idempotency-Key")
        claim = Claim(merchant_id, mode, key, secrets.token_hex(16))
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
            "claim": claim.holder,
            "locked_until": now + self._lease,
            "resource_id": None,
        }
        async with self._uow() as tx:
            if await tx.idempotency.try_insert(record):
                await tx.commit()
                return claim
            existing = await tx.idempotency.get(merchant_id, mode, key)
            if existing is None or existing["expires_at"] <= now:
                await tx.idempotency.delete(merchant_id, mode, key)
                await tx.idempotency.try_insert(record)
                await tx.commit()
                return claim
            if existing["fingerprint"] != fingerprint:
                raise ConflictError(
                    "this Idempotency-Key was used with a different request",
                    code=ErrorCode.IDEMPOTENCY_KEY_REUSED,
                    field="Idempotency-Key",
                )
            if existing["state"] == "complete":
                return StoredResponse(int(existing["response_status"]), bytes(existing["response_body"]))
            if existing["locked_until"] <= now:
                taken = await tx.idempotency.take_over(
                    merchant_id, mode, key, existing["claim"], claim.holder, now + self._lease
                )
                if taken is not None:
                    await tx.commit()
                    claim.resource_id = taken["resource_id"]
                    claim.resumed = claim.resource_id is not None
                    return claim
        raise ConflictError(
            "a request with this Idempotency-Key is still being processed",
            code=ErrorCode.IDEMPOTENCY_KEY_IN_USE,
            field="Idempotency-Key",
        )

    async def finish(self, claim: Claim, response: StoredResponse, now: datetime) -> None:
        """Store the response, to be replayed; a resumed payment not settled yet is left to the next retry."""
        if not claim.settled:
            await self.abandon(claim, now)
            return
        async with self._uow() as tx:
            await tx.idempotency.complete(
                claim.merchant_id, claim.mode, claim.key, claim.holder, response.status, response.body
            )
            await tx.commit()

    async def abandon(self, claim: Claim, now: datetime) -> None:
        """The request failed: with nothing durable behind it the key is free; after its recovery point
        the key is left for a retry to resume, at once rather than after the lease."""
        async with self._uow() as tx:
            if claim.resource_id is None:
                await tx.idempotency.release(claim.merchant_id, claim.mode, claim.key, claim.holder)
            else:
                await tx.idempotency.reopen(claim.merchant_id, claim.mode, claim.key, claim.holder, now)
            await tx.commit()

    async def purge_expired(self, now: datetime) -> int:
        async with self._uow() as tx:
            count = await tx.idempotency.purge(now)
            await tx.commit()
        return count


class RecoveryPoints:
    """A unit-of-work factory that records a keyed request's recovery point: the first payment a
    transaction adds or saves is written on the request's key in that same transaction. Outside a
    keyed request, for readers, and once the point is recorded, it hands out the plain unit of work."""

    def __init__(self, inner: UnitOfWorkFactory) -> None:
        self._inner = inner

    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        uow = self._inner(read_only=read_only)
        claim = _CLAIM.get()
        if read_only or claim is None or claim.resource_id is not None:
            return uow
        return _RecordingUnitOfWork(uow, claim)


class _RecordingUnitOfWork:
    def __init__(self, inner: UnitOfWork, claim: Claim) -> None:
        self._inner = inner
        self._claim = claim
        self._touched: list[str] = []

    async def __aenter__(self) -> Self:
        await self._inner.__aenter__()
        self._payments = _RecordingPayments(self._inner.payments, self._touched)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._inner.__aexit__(*exc)

    async def commit(self) -> None:
        claim = self._claim
        if self._touched and claim.resource_id is None:
            resource_id = self._touched[0]
            if not await self._inner.idempotency.record_resource(
                claim.merchant_id, claim.mode, claim.key, claim.holder, resource_id
            ):
                # A retry took the key over after the lease: it owns the request now, so this change
                # (a payment it does not know of) is rolled back rather than charged a second time.
                raise ConflictError(
                    "a request with this Idempotency-Key is still being processed",
                    code=ErrorCode.IDEMPOTENCY_KEY_IN_USE,
                    field="Idempotency-Key",
                )
            await self._inner.commit()
            claim.resource_id = resource_id
            return
        await self._inner.commit()

    async def rollback(self) -> None:
        self._touched.clear()
        await self._inner.rollback()

    @property
    def payments(self) -> PaymentRepository:
        return self._payments

    @property
    def cards(self) -> CardRepository:
        return self._inner.cards

    @property
    def vault_keys(self) -> VaultKeyRepository:
        return self._inner.vault_keys

    @property
    def events(self) -> EventRepository:
        return self._inner.events

    @property
    def authentications(self) -> AuthenticationRepository:
        return self._inner.authentications

    @property
    def tokens(self) -> TokenRepository:
        return self._inner.tokens

    @property
    def merchants(self) -> MerchantRepository:
        return self._inner.merchants

    @property
    def idempotency(self) -> IdempotencyRepository:
        return self._inner.idempotency

    @property
    def webhooks(self) -> WebhookRepository:
        return self._inner.webhooks

    @property
    def risk(self) -> RiskRepository:
        return self._inner.risk

    @property
    def reversals(self) -> ReversalRepository:
        return self._inner.reversals


class _RecordingPayments:
    """The payments repository, noting which payments this transaction writes."""

    def __init__(self, inner: PaymentRepository, touched: list[str]) -> None:
        self._inner = inner
        self._touched = touched

    async def add(self, payment: Payment) -> None:
        await self._inner.add(payment)
        self._touched.append(payment.id)

    async def save(self, payment: Payment) -> None:
        await self._inner.save(payment)
        self._touched.append(payment.id)

    async def get(self, merchant_id: str, mode: str, payment_id: str) -> Payment | None:
        return await self._inner.get(merchant_id, mode, payment_id)

    async def get_for_update(self, merchant_id: str, mode: str, payment_id: str) -> Payment | None:
        return await self._inner.get_for_update(merchant_id, mode, payment_id)

    async def get_by_id(self, payment_id: str) -> Payment | None:
        return await self._inner.get_by_id(payment_id)

    async def get_by_operation(self, merchant_id: str, mode: str, operation_id: str) -> Payment | None:
        return await self._inner.get_by_operation(merchant_id, mode, operation_id)

    async def get_by_id_for_update(self, payment_id: str) -> Payment | None:
        return await self._inner.get_by_id_for_update(payment_id)

    async def get_by_unique_reference(self, merchant_id: str, mode: str, reference: str) -> Payment | None:
        return await self._inner.get_by_unique_reference(merchant_id, mode, reference)

    async def get_by_processor_ref_for_update(self, processor: str, processor_ref: str) -> Payment | None:
        return await self._inner.get_by_processor_ref_for_update(processor, processor_ref)

    async def authorized_before(self, cutoff: datetime, limit: int) -> Sequence[str]:
        return await self._inner.authorized_before(cutoff, limit)

    async def stale_operations(self, before: datetime, limit: int) -> Sequence[tuple[str, str]]:
        return await self._inner.stale_operations(before, limit)
