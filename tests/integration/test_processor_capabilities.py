"""An operation the acquirer cannot do is refused with a clear 4xx before anything is recorded, and the
payment stays as it was (it used to be committed pending, fail inside the call, read as an unknown
outcome no inquiry could resolve, and wedge the payment). Live mode runs on a sandbox configured as
an acquirer without voids, partial captures and partial refunds (`sandbox://?without=...`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tessera.app import create_app
from tessera.bootstrap import build
from tessera.core.merchants import UpdateMerchant, create_merchant, update_merchant
from tessera.core.risk.model import Charge
from tests.conftest import Backend, auth, make_settings
from tests.factories import BROWSER, card

LIMITED = "sandbox://?without=void,partial_capture,partial_refund"


@pytest.fixture
async def live(backend: Backend, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    container = build(make_settings(backend, tmp_path, live_processor=LIMITED))
    await container.start()
    try:
        made, creds = await create_merchant(
            "Live Shop", uow=container.uow, allowed_domains=["shop.example"], modes=("live",)
        )
        # Live payments need the merchant's charges (core.risk.fee_for).
        await update_merchant(UpdateMerchant(made.id, charges=[Charge("*", "*", 0, 0)]), uow=container.uow)
        app = create_app(container.settings, container=container, embedded_worker=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://tessera.test") as http:
            yield http, creds[0].secret_key
    finally:
        await container.close()


async def _authorized(http: httpx.AsyncClient, key: str) -> dict[str, object]:
    body = {"amount": 1000, "currency": "INR", "card": card(), "browser": BROWSER, "capture_method": "manual"}
    made = await http.post("/v1/payments", json=body, headers=auth(key))
    assert made.status_code == 201 and made.json()["status"] == "authorized", made.text
    return dict(made.json())


async def test_a_void_the_acquirer_cannot_do_is_refused_and_the_payment_stays_authorized(
    live: tuple[httpx.AsyncClient, str],
) -> None:
    http, key = live
    payment = await _authorized(http, key)
    refused = await http.post(f"/v1/payments/{payment['id']}/void", headers=auth(key))
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["code"] == "operation_not_supported"
    after = (await http.get(f"/v1/payments/{payment['id']}", headers=auth(key))).json()
    assert after["status"] == "authorized" and [op["type"] for op in after["operations"]] == ["PA"]
    # The payment is not wedged: a whole capture (which the acquirer can do) goes through.
    partial = await http.post(f"/v1/payments/{payment['id']}/capture", json={"amount": 400}, headers=auth(key))
    assert partial.status_code == 400 and partial.json()["error"]["code"] == "operation_not_supported"
    whole = await http.post(f"/v1/payments/{payment['id']}/capture", headers=auth(key))
    assert whole.status_code == 200 and whole.json()["status"] == "completed"


async def test_a_partial_refund_the_acquirer_cannot_do_is_refused_but_a_whole_one_goes_through(
    live: tuple[httpx.AsyncClient, str],
) -> None:
    http, key = live
    body = {"amount": 1000, "currency": "INR", "card": card(), "browser": BROWSER}
    paid = (await http.post("/v1/payments", json=body, headers=auth(key))).json()
    assert paid["status"] == "completed"
    part = await http.post(f"/v1/payments/{paid['id']}/refunds", json={"amount": 100}, headers=auth(key))
    assert part.status_code == 400 and part.json()["error"]["code"] == "operation_not_supported"
    assert "param" not in part.json()["error"] or part.json()["error"]["param"] is None
    whole = await http.post(f"/v1/payments/{paid['id']}/refunds", headers=auth(key))
    assert whole.status_code == 201 and whole.json()["status"] == "refunded"
    assert [op["type"] for op in whole.json()["operations"]] == ["DB", "RF"]
