"""Settling operations: calling a processor safely, recording its answer, resolving the unknown.

An operation whose outcome is unknown (a time-out, a dropped connection) is never reported approved.
`resolve_operation` asks the processor what became of it. An authorisation the acquirer holds is
reversed and the payment fails with NETWORK_ERROR; one it never saw simply fails; a capture, void or
refund takes the answer the acquirer gives. When the acquirer cannot say, the operation stays open
for the recovery job to try again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from tessera.core.clock import utcnow
from tessera.core.errors import NotFoundError
from tessera.core.payments.model import AUTHORISATIONS, Payment
from tessera.core.ports import (
    Cipher,
    ConcurrentUpdateError,
    FollowUpRequest,
    InquireRequest,
    Metrics,
    NoMetrics,
    Outcome,
    ProcessorRegistry,
    ProcessorResult,
    UnitOfWorkFactory,
)
from tessera.core.threeds.flow import ThreeDSDeps

logger = logging.getLogger(__name__)

_Apply = Callable[[Payment], None]


@dataclass(frozen=True, slots=True)
class PaymentDeps:
    uow: UnitOfWorkFactory
    processors: ProcessorRegistry
    cipher: Cipher
    processor_timeout: float = 2.0
    metrics: Metrics = field(default_factory=NoMetrics)
    threeds: dict[str, ThreeDSDeps] = field(default_factory=dict)  # by mode: where 3-D Secure runs


async def call_processor(call: Awaitable[ProcessorResult], timeout: float) -> ProcessorResult:
    """Await a processor call; no answer in time, or any surprise, is UNKNOWN, never APPROVED."""
    try:
        async with asyncio.timeout(timeout):  # no extra task, unlike wait_for
            return await call
    except TimeoutError:
        return ProcessorResult(Outcome.UNKNOWN, response_code="TIMEOUT")
    except Exception:
        logger.exception("processor call raised; outcome unknown")
        return ProcessorResult(Outcome.UNKNOWN, response_code="ERROR")


async def record_result(
    deps: PaymentDeps, payment_id: str, operation_id: str, result: ProcessorResult, *, known: Payment | None = None
) -> Payment:
    """Record a processor result in its own transaction, with the events it causes. `known` is the
    payment as the caller last saved it: it is saved again only if nobody changed it since (its
    version), which spares re-reading it on the hot path; otherwise the row is read and locked."""
    return await _change(deps, payment_id, lambda p: p.record(operation_id, result, utcnow()), known=known)


async def _change(deps: PaymentDeps, payment_id: str, apply: _Apply, *, known: Payment | None = None) -> Payment:
    while True:
        async with deps.uow() as tx:
            payment = known if known is not None else await tx.payments.get_by_id_for_update(payment_id)
            known = None
            if payment is None:
                raise NotFoundError("no such payment", field="id")
            apply(payment)
            try:
                await tx.payments.save(payment)
            except ConcurrentUpdateError:
                continue
            await tx.commit()
        payment.clear_changes()
        return payment


async def resolve_operation(payment_id: str, operation_id: str, *, deps: PaymentDeps) -> Payment:
    async with deps.uow(read_only=True) as tx:
        payment = await tx.payments.get_by_id(payment_id)
    if payment is None:
        raise NotFoundError("no such payment", field="id")
    op = payment.operation(operation_id)
    if not op.is_open:
        return payment
    processor = deps.processors.by_name(payment.processor)
    found = await call_processor(processor.inquire(InquireRequest(op.id, payment.id)), deps.processor_timeout)
    logger.info(
        "inquire outcome=%s",
        found.outcome.value,
        extra={"payment_id": payment.id, "operation": op.type.value, "outcome": found.outcome.value},
    )
    if found.outcome in (Outcome.UNKNOWN, Outcome.UNAVAILABLE):
        return payment  # still unknown: the recovery job asks again later
    if op.type not in AUTHORISATIONS:
        return await record_result(deps, payment.id, op.id, found)
    reversal: ProcessorResult | None = None
    if found.outcome is Outcome.APPROVED:
        request = FollowUpRequest(op.id, payment.id, op.amount, payment.currency, found.processor_ref or op.id)
        reversal = await call_processor(processor.void(request), deps.processor_timeout)
        logger.info(
            "reversal outcome=%s",
            reversal.outcome.value,
            extra={"payment_id": payment.id, "outcome": reversal.outcome.value},
        )
        if reversal.outcome is not Outcome.APPROVED:
            return payment  # the money is still held: try the reversal again later
    done = await _change(deps, payment.id, lambda p: p.abandon_authorisation(op.id, reversal, utcnow()))
    deps.metrics.payment_finished(done.status.value, done.error_code)
    return done
