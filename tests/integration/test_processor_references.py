"""A processor's reference means something only to that processor: it is unique per processor (an
index), two processors may use the same one, and an acquirer's report finds its payment by both."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from tessera.bootstrap import Container
from tessera.core.clock import utcnow
from tessera.core.payments.model import CaptureMethod, CardSnapshot, Payment
from tessera.core.ports import Outcome, ProcessorResult
from tests.conftest import Merchant


async def _approved(container: Container, merchant: Merchant, processor: str, ref: str) -> Payment:
    now = utcnow()
    payment, op = Payment.start(
        merchant_id=merchant.id,
        mode="test",
        amount=1000,
        currency="INR",
        capture_method=CaptureMethod.AUTOMATIC,
        card=CardSnapshot("424242", "4242", "visa", 12, 2030),
        processor=processor,
        now=now,
    )
    async with container.uow() as tx:
        await tx.payments.add(payment)
        await tx.commit()
    payment.clear_changes()
    async with container.uow() as tx:
        payment.record(op.id, ProcessorResult(Outcome.APPROVED, processor_ref=ref), now)
        await tx.payments.save(payment)
        await tx.commit()
    return payment


async def test_a_reference_is_unique_within_its_processor_only(container: Container, merchant: Merchant) -> None:
    first = await _approved(container, merchant, "sandbox", "ref_shared")
    other = await _approved(container, merchant, "acquirer_b", "ref_shared")
    async with container.uow() as tx:
        found = await tx.payments.get_by_processor_ref_for_update("acquirer_b", "ref_shared")
        assert found is not None and found.id == other.id
        found = await tx.payments.get_by_processor_ref_for_update("sandbox", "ref_shared")
        assert found is not None and found.id == first.id
        assert await tx.payments.get_by_processor_ref_for_update("acquirer_c", "ref_shared") is None
    with pytest.raises(IntegrityError):
        await _approved(container, merchant, "sandbox", "ref_shared")
