"""A payment left mid-authorisation by a crash is resolved when the server next starts."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tessera.bootstrap import build
from tessera.core.clock import utcnow
from tessera.core.payments.model import CaptureMethod, CardSnapshot, Payment
from tessera.settings import Settings
from tests.e2e.server import Server

pytestmark = pytest.mark.e2e


def test_start_up_recovery_fails_a_crashed_authorisation(tmp_path: Path) -> None:
    server = Server(tmp_path / "work").start()
    creds = server.credentials()
    server.stop()
    settings = Settings(data_dir=server.workdir / ".tessera")

    async def crash() -> str:
        container = build(settings)
        payment, _ = Payment.start(
            merchant_id=creds["merchant_id"],
            mode="test",
            amount=700,
            currency="INR",
            capture_method=CaptureMethod.AUTOMATIC,
            card=CardSnapshot("424242", "4242", "visa", 12, 2030),
            processor="sandbox",
            now=utcnow() - timedelta(minutes=10),
        )
        async with container.uow() as tx:
            await tx.payments.add(payment)
            await tx.commit()
        await container.close()
        return payment.id

    payment_id = asyncio.run(crash())
    server.start("--no-worker")  # only the start-up recovery may resolve it
    try:
        p = httpx.get(
            f"{server.base_url}/v1/payments/{payment_id}", headers={"Authorization": f"Bearer {creds['secret_key']}"}
        ).json()
        assert p["status"] == "failed" and p["error"]["code"] == "NETWORK_ERROR"
    finally:
        server.stop()
