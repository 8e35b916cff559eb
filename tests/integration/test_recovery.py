"""Unknown outcomes are resolved by the recovery job, never guessed."""

from __future__ import annotations

from datetime import timedelta

from httpx import AsyncClient

from tessera import worker
from tessera.bootstrap import Container
from tessera.core.clock import utcnow
from tessera.core.payments.model import CaptureMethod, CardSnapshot, OperationStatus, Payment, PaymentStatus
from tessera.core.payments.recovery import recover_open_operations
from tests.conftest import Merchant, auth
from tests.factories import BROWSER


async def _crashed_payment(container: Container, merchant: Merchant, *, minutes_ago: int) -> tuple[str, str]:
    """A payment whose process died after committing its pending authorisation, before any answer."""
    then = utcnow() - timedelta(minutes=minutes_ago)
    payment, op = Payment.start(
        merchant_id=merchant.id,
        mode="test",
        amount=1500,
        currency="EUR",
        capture_method=CaptureMethod.AUTOMATIC,
        card=CardSnapshot("424242", "4242", "visa", 12, 2030),
        processor="sandbox",
        now=then,
    )
    async with container.uow() as tx:
        await tx.payments.add(payment)
        await tx.commit()
    return payment.id, op.id


async def test_recovery_fails_a_crashed_authorisation_with_network_error(
    client: AsyncClient, container: Container, merchant: Merchant
) -> None:
    payment_id, _ = await _crashed_payment(container, merchant, minutes_ago=5)
    seen = await recover_open_operations(deps=container.payments, grace=timedelta(seconds=30))
    assert seen == 1
    p = (await client.get(f"/v1/payments/{payment_id}", headers=auth(merchant.test.secret_key))).json()
    assert p["status"] == "failed" and p["error"]["code"] == "NETWORK_ERROR"
    assert p["amount_captured"] == 0
    assert await recover_open_operations(deps=container.payments, grace=timedelta(seconds=30)) == 0


async def test_recovery_leaves_an_operation_still_in_flight_alone(container: Container, merchant: Merchant) -> None:
    payment_id, op_id = await _crashed_payment(container, merchant, minutes_ago=0)
    assert await recover_open_operations(deps=container.payments, grace=timedelta(seconds=30)) == 0
    async with container.uow(read_only=True) as tx:
        payment = await tx.payments.get_by_id(payment_id)
    assert payment is not None
    assert payment.status is PaymentStatus.PROCESSING
    assert payment.operation(op_id).status is OperationStatus.PENDING


async def test_worker_tick_runs_recovery_and_erases_expired_token_cvvs(
    client: AsyncClient, container: Container, merchant: Merchant
) -> None:
    from sqlalchemy import select, update

    from tessera.storage import tables as t

    payment_id, _ = await _crashed_payment(container, merchant, minutes_ago=10)
    tok = (
        await client.post(
            "/v1/tokens",
            json={"card": {"number": "4242424242424242", "exp_month": 1, "exp_year": 2031, "cvc": "321"}},
            headers=auth(merchant.test.publishable_key),
        )
    ).json()
    async with container.db.begin() as conn:
        await conn.execute(update(t.card_tokens).values(expires_at=utcnow() - timedelta(minutes=1)))
    done = await worker.run_once(container)
    assert done["recovered"] == 1 and done["erased"] == 1
    async with container.db.connect() as conn:
        row = (await conn.execute(select(t.card_tokens).where(t.card_tokens.c.id == tok["id"]))).one()
    assert row.cvv_ciphertext is None
    expired = await client.post(
        "/v1/payments",
        json={"amount": 100, "currency": "INR", "token": tok["id"], "browser": BROWSER},
        headers=auth(merchant.test.secret_key),
    )
    assert expired.status_code == 400 and expired.json()["error"]["code"] == "token_expired"
    p = (await client.get(f"/v1/payments/{payment_id}", headers=auth(merchant.test.secret_key))).json()
    assert p["status"] == "failed"
