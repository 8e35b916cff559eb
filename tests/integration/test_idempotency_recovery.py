"""An Idempotency-Key after a crash or a 500: freed when nothing durable happened, resumed after its
lease when the request had made its payment, and never a second charge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest
from fastapi import Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func, insert, select

from tessera.app import create_app
from tessera.bootstrap import Container
from tessera.core.clock import utcnow
from tessera.core.errors import ConflictError
from tessera.core.idempotency import Claim, running_under
from tessera.core.payments.model import CaptureMethod, CardSnapshot, Payment
from tessera.dialects._common.deps import SecretCtx, ServicesDep
from tessera.dialects._common.idempotency import idempotent
from tessera.dialects.native import translate
from tessera.dialects.native.schemas import PaymentCreate
from tessera.storage import tables as t
from tests.conftest import Merchant, auth
from tests.factories import payment


class _Faults:
    """Where the test route fails: before the payment is made, or after (as a broken render would)."""

    before = False
    after = False


@pytest.fixture
def faults() -> _Faults:
    return _Faults()


@pytest.fixture
async def faulty(container: Container, faults: _Faults) -> AsyncIterator[httpx.AsyncClient]:
    """The app with one test-only route: native payment creation whose handler can raise unexpectedly."""
    app = create_app(container.settings, container=container, embedded_worker=False)

    @app.post("/test/payments")
    async def create_then_fail(body: PaymentCreate, request: Request, ctx: SecretCtx, svc: ServicesDep) -> Response:
        async def run() -> Response:
            if faults.before:
                raise RuntimeError("handler failed before paying")
            made = await svc.payments.create(translate.create_command(body, ctx))
            if faults.after:
                raise RuntimeError("handler failed after paying")
            return JSONResponse(translate.render_payment(made, svc.public_url), status_code=201)

        return await idempotent(request, ctx, svc, run)

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as http:
        yield http


async def _payments(container: Container, merchant: Merchant) -> int:
    async with container.db.connect() as conn:
        count = await conn.execute(select(func.count()).where(t.payments.c.merchant_id == merchant.id))
        return int(count.scalar_one())


def _fingerprint(container: Container, path: str, body: dict[str, Any]) -> str:
    """As the idempotency header computes it for a POST of `body` to `path`."""
    canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    return container.services.fingerprint(b"POST " + path.encode() + b"\n" + canonical)


async def _left_by_a_crash(
    container: Container,
    merchant: Merchant,
    key: str,
    body: dict[str, Any],
    *,
    resource_id: str | None,
    lease_left: float,
) -> None:
    """The key row a process killed mid-request leaves behind: in progress, its lease running or not."""
    now = utcnow()
    async with container.db.begin() as conn:
        await conn.execute(
            insert(t.idempotency_keys).values(
                merchant_id=merchant.id,
                mode="test",
                key=key,
                fingerprint=_fingerprint(container, "/v1/payments", body),
                state="in_progress",
                created_at=now - timedelta(minutes=2),
                expires_at=now + timedelta(hours=23),
                claim="a-process-that-died",
                locked_until=now + timedelta(seconds=lease_left),
                resource_id=resource_id,
            )
        )


async def _crashed_payment(container: Container, merchant: Merchant) -> str:
    """A payment whose process died after committing its pending authorisation, before any answer."""
    made, _ = Payment.start(
        merchant_id=merchant.id,
        mode="test",
        amount=1000,
        currency="INR",
        capture_method=CaptureMethod.AUTOMATIC,
        card=CardSnapshot("424242", "4242", "visa", 12, 2030),
        processor="sandbox",
        now=utcnow() - timedelta(minutes=2),
    )
    async with container.uow() as tx:
        await tx.payments.add(made)
        await tx.commit()
    return made.id


async def test_a_500_after_the_payment_was_made_resumes_with_that_payment_on_retry(
    faulty: httpx.AsyncClient, faults: _Faults, container: Container, merchant: Merchant
) -> None:
    h = {**auth(merchant.test.secret_key), "Idempotency-Key": "crash-after"}
    faults.after = True
    crashed = await faulty.post("/test/payments", json=payment(), headers=h)
    assert crashed.status_code == 500
    assert await _payments(container, merchant) == 1

    faults.after = False
    retried = await faulty.post("/test/payments", json=payment(), headers=h)
    assert retried.status_code == 201
    assert retried.json()["status"] == "completed"
    replayed = await faulty.post("/test/payments", json=payment(), headers=h)
    assert replayed.headers["idempotent-replayed"] == "true" and replayed.json() == retried.json()
    assert await _payments(container, merchant) == 1  # charged once


async def test_a_500_before_anything_durable_frees_the_key(
    faulty: httpx.AsyncClient, faults: _Faults, container: Container, merchant: Merchant
) -> None:
    h = {**auth(merchant.test.secret_key), "Idempotency-Key": "crash-before"}
    faults.before = True
    assert (await faulty.post("/test/payments", json=payment(), headers=h)).status_code == 500
    assert await _payments(container, merchant) == 0

    faults.before = False
    retried = await faulty.post("/test/payments", json=payment(), headers=h)
    assert retried.status_code == 201 and "idempotent-replayed" not in retried.headers
    assert await _payments(container, merchant) == 1


async def test_a_crashed_request_s_key_is_in_use_while_its_lease_runs(
    client: httpx.AsyncClient, container: Container, merchant: Merchant
) -> None:
    body = payment()
    await _left_by_a_crash(container, merchant, "in-lease", body, resource_id=None, lease_left=30)
    h = {**auth(merchant.test.secret_key), "Idempotency-Key": "in-lease"}
    r = await client.post("/v1/payments", json=body, headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "idempotency_key_in_use"
    assert await _payments(container, merchant) == 0


async def test_after_the_lease_a_crashed_request_that_made_nothing_runs_afresh(
    client: httpx.AsyncClient, container: Container, merchant: Merchant
) -> None:
    body = payment()
    await _left_by_a_crash(container, merchant, "made-nothing", body, resource_id=None, lease_left=-1)
    h = {**auth(merchant.test.secret_key), "Idempotency-Key": "made-nothing"}
    first = await client.post("/v1/payments", json=body, headers=h)
    assert first.status_code == 201 and first.json()["status"] == "completed"
    again = await client.post("/v1/payments", json=body, headers=h)
    assert again.headers["idempotent-replayed"] == "true" and again.json()["id"] == first.json()["id"]
    assert await _payments(container, merchant) == 1


async def test_after_the_lease_a_crashed_request_answers_its_payment_s_outcome_without_charging_again(
    client: httpx.AsyncClient, container: Container, merchant: Merchant
) -> None:
    body = payment()
    payment_id = await _crashed_payment(container, merchant)  # its authorisation pending, no answer recorded
    await _left_by_a_crash(container, merchant, "made-one", body, resource_id=payment_id, lease_left=-1)
    h = {**auth(merchant.test.secret_key), "Idempotency-Key": "made-one"}
    r = await client.post("/v1/payments", json=body, headers=h)
    assert r.json()["id"] == payment_id
    # The pending authorisation was settled (the sandbox never saw it): an outcome, not `processing`.
    assert r.json()["status"] == "failed" and r.json()["error"]["code"] == "NETWORK_ERROR"
    again = await client.post("/v1/payments", json=body, headers=h)
    assert again.headers["idempotent-replayed"] == "true" and again.json() == r.json()
    assert await _payments(container, merchant) == 1


async def test_a_request_whose_key_was_taken_over_cannot_make_its_payment(
    container: Container, merchant: Merchant
) -> None:
    keys, now = container.idempotency, utcnow()
    slow = await keys.begin(merchant.id, "test", "taken-over", "fp", now)
    retry = await keys.begin(merchant.id, "test", "taken-over", "fp", now + timedelta(minutes=5))
    assert isinstance(slow, Claim) and isinstance(retry, Claim) and not retry.resumed
    ctx = await container.services.merchants.authenticate_key(merchant.test.secret_key)
    cmd = translate.create_command(PaymentCreate.model_validate(payment()), ctx)
    with running_under(slow), pytest.raises(ConflictError):
        await container.services.payments.create(cmd)
    assert await _payments(container, merchant) == 0
    with running_under(retry):
        made = await container.services.payments.create(cmd)
    assert retry.resource_id == made.id
    async with container.db.connect() as conn:
        row = (await conn.execute(select(t.idempotency_keys).where(t.idempotency_keys.c.key == "taken-over"))).one()
    assert row.resource_id == made.id
    assert await _payments(container, merchant) == 1
