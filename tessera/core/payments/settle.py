"""Settling operations: calling a processor safely, recording its answer, resolving the unknown.

An operation whose outcome is unknown (a time-out, a dropped connection) is never reported approved.
`resolve_operation` asks the processor what became of it. An authorisation the acquirer holds is
reversed (the processor's explicit `reverse`, matched by the trace data committed with the pending
operation) and the attempt fails with NETWORK_ERROR; one it never saw simply fails; a capture, void or
refund takes the answer the acquirer gives. When the acquirer cannot say, the operation stays open
for the recovery job to try again. On a processor that `queues_reversals` (an ISO 8583 link), an
authorisation is never inquired: it fails with NETWORK_ERROR in the transaction that queues its
reversal (`reversals.py`), and the worker sends that reversal until the acquirer acknowledges it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from tessera.core.clock import utcnow
from tessera.core.errors import NotFoundError
from tessera.core.payments.model import AUTHORISATIONS, Operation, Payment
from tessera.core.payments.reversals import QueuedReversal
from tessera.core.ports import (
    Capability,
    Cipher,
    ConcurrentUpdateError,
    InquireRequest,
    Metrics,
    NoMetrics,
    Outcome,
    Processor,
    ProcessorRegistry,
    ProcessorResult,
    ReverseRequest,
    UnitOfWork,
    UnitOfWorkFactory,
)
from tessera.core.risk.counters import CounterCache
from tessera.core.risk.lists import ListCache
from tessera.core.risk.model import Charge
from tessera.core.risk.service import DEFAULT_TEST_CHARGE
from tessera.core.threeds.flow import ThreeDSDeps

logger = logging.getLogger(__name__)

_Apply = Callable[[Payment], None]
# More work for the transaction that records a result, done before it commits (and again if it is retried).
AlsoInResult = Callable[[UnitOfWork], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class PaymentDeps:
    uow: UnitOfWorkFactory
    processors: ProcessorRegistry
    cipher: Cipher
    processor_timeout: float = 2.0
    metrics: Metrics = field(default_factory=NoMetrics)
    threeds: dict[str, ThreeDSDeps] = field(default_factory=dict)  # by mode: where 3-D Secure runs
    # The fee of a test payment whose merchant set none for its brand and currency (None: refuse it too).
    default_test_charge: Charge | None = DEFAULT_TEST_CHARGE
    lists: ListCache = field(default_factory=ListCache)  # this process's copy of the merchants' blocklists
    counters: CounterCache = field(default_factory=CounterCache)  # velocity counters as committed here


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
    deps: PaymentDeps,
    payment_id: str,
    operation_id: str,
    result: ProcessorResult,
    *,
    known: Payment | None = None,
    also: AlsoInResult | None = None,
) -> Payment:
    """Record a processor result in its own transaction, with the events it causes. `known` is the
    payment as the caller last saved it: it is saved again only if nobody changed it since (its
    version), which spares re-reading it on the hot path; otherwise the row is read and locked. `also`
    runs in that transaction, before it commits."""
    apply = lambda p: p.record(operation_id, result, utcnow())  # noqa: E731
    return await _change(deps, payment_id, apply, known=known, also=also)


async def _change(
    deps: PaymentDeps, payment_id: str, apply: _Apply, *, known: Payment | None = None, also: AlsoInResult | None = None
) -> Payment:
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
            if also is not None:
                await also(tx)
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
    if op.type in AUTHORISATIONS and processor.queues_reversals:
        return await queue_reversal(payment, op, processor, deps=deps)
    if Capability.INQUIRE in processor.capabilities:
        request = InquireRequest(op.id, payment.id, op.processor_data)
        found = await call_processor(processor.inquire(request), deps.processor_timeout)
    elif op.type in AUTHORISATIONS and Capability.REVERSE in processor.capabilities:
        # No way to ask: reverse blindly, which releases the funds if the acquirer holds them and is
        # harmless if it never saw the authorisation.
        found = ProcessorResult(Outcome.APPROVED)
    else:
        logger.error(
            "operation outcome unknown and the processor can neither inquire nor reverse",
            extra={"payment_id": payment.id, "operation": op.type.value},
        )
        return payment
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
        reverse = ReverseRequest(
            op.id,
            payment.id,
            op.amount,
            payment.currency,
            original_data=op.processor_data,
            processor_ref=found.processor_ref,
            data=processor.prepare("RV"),
        )
        reversal = await call_processor(processor.reverse(reverse), deps.processor_timeout)
        logger.info(
            "reversal outcome=%s",
            reversal.outcome.value,
            extra={"payment_id": payment.id, "outcome": reversal.outcome.value},
        )
        if reversal.outcome is not Outcome.APPROVED:
            return payment  # the money may still be held: try the reversal again later
    done = await _change(deps, payment.id, lambda p: p.abandon_authorisation(op.id, reversal, utcnow()))
    deps.metrics.payment_finished(done.status.value, done.error_code)
    return done


async def queue_reversal(payment: Payment, op: Operation, processor: Processor, *, deps: PaymentDeps) -> Payment:
    """Fail an authorisation whose answer never came, in the transaction that queues its reversal."""
    reversal = QueuedReversal.new(
        payment_id=payment.id,
        operation_id=op.id,
        processor=processor.name,
        amount=op.amount,
        currency=payment.currency,
        original_data=op.processor_data,
        data=processor.prepare("RV"),
        now=utcnow(),
    )
    while True:
        async with deps.uow() as tx:
            current = await tx.payments.get_by_id_for_update(payment.id)
            if current is None:
                raise NotFoundError("no such payment", field="id")
            if not current.operation(op.id).is_open:
                return current  # another process settled it (and queued the reversal) first
            current.abandon_authorisation(op.id, None, utcnow())
            try:
                await tx.payments.save(current)
            except ConcurrentUpdateError:
                continue
            await tx.reversals.add(reversal)
            await tx.commit()
        break
    current.clear_changes()
    logger.info(
        "authorisation outcome unknown: reversal queued",
        extra={"payment_id": payment.id, "operation": op.type.value, "outcome": "reversal_queued"},
    )
    deps.metrics.payment_finished(current.status.value, current.error_code)
    return current
