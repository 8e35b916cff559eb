"""What the acquirer does on its own: chargebacks, their reversals and receipts, and the gateway's own
housekeeping of authorisations nobody captured.

A report names the payment by its authorisation's processor reference and is applied in one
transaction with its event; the amount rules of the payment model hold as for any other operation.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from tessera.core.clock import utcnow
from tessera.core.errors import ConflictError, NotFoundError
from tessera.core.payments.model import EXPIRY_REASON, Payment
from tessera.core.payments.service import follow_up
from tessera.core.payments.settle import PaymentDeps
from tessera.core.ports import AcquirerReport, ConcurrentUpdateError, ReportKind

logger = logging.getLogger(__name__)


async def apply_report(report: AcquirerReport, *, deps: PaymentDeps) -> Payment:
    while True:
        async with deps.uow() as tx:
            payment = await tx.payments.get_by_processor_ref_for_update(report.processor, report.processor_ref)
            if payment is None:
                raise NotFoundError("no payment has that processor reference", field="processor_ref")
            now = utcnow()
            if report.kind is ReportKind.CHARGEBACK:
                payment.chargeback(report.amount, report.reason_code or "", report.report_ref, now)
            elif report.kind is ReportKind.CHARGEBACK_REVERSAL:
                payment.chargeback_reversal(report.amount, report.report_ref, now)
            else:
                payment.receipt(report.amount, report.report_ref, now)
            try:
                await tx.payments.save(payment)
            except ConcurrentUpdateError:
                continue
            await tx.commit()
        payment.clear_changes()
        logger.info("acquirer report %s", report.kind.value, extra={"payment_id": payment.id})
        return payment


async def report_for_payment(
    merchant_id: str,
    mode: str,
    payment_id: str,
    kind: ReportKind,
    amount: int | None,
    reason_code: str | None,
    *,
    deps: PaymentDeps,
) -> Payment:
    """As if the acquirer reported `kind` on this payment (test mode's simulation of it)."""
    async with deps.uow(read_only=True) as tx:
        payment = await tx.payments.get(merchant_id, mode, payment_id)
    if payment is None:
        raise NotFoundError("no such payment", field="id")
    if payment.processor_ref is None:
        raise ConflictError(f"a payment that is {payment.status.value} has nothing at the acquirer to report on")
    report = AcquirerReport(
        kind, payment.processor, payment.processor_ref, amount, reason_code, f"rpt_{utcnow():%Y%m%d%H%M%S%f}"
    )
    return await apply_report(report, deps=deps)


async def expire_authorizations(*, deps: PaymentDeps, window: timedelta, limit: int = 100) -> int:
    """Reverse authorisations older than `window` that nobody captured: the payment ends `expired`."""
    async with deps.uow(read_only=True) as tx:
        stale = await tx.payments.authorized_before(utcnow() - window, limit)
    for payment_id in stale:
        try:
            await follow_up(None, None, payment_id, deps, lambda p, now: p.begin_void(now, reason=EXPIRY_REASON))
        except ConflictError:
            pass  # captured or voided meanwhile
    return len(stale)
