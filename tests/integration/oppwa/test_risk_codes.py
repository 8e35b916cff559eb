"""Risk decisions through /oppwa, each from its real cause, on both databases: a blocklisted card, BIN,
e-mail and shopper IP, a velocity rule, and a live payment without charges, each with its 800.* (or
600.*) code; the refused attempt is a payment (HTTP 400 with its id), as a decline is."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from tests.conftest import Merchant, auth
from tests.integration.oppwa.helpers import card_form, code, oppwa


@pytest.mark.parametrize(
    ("kind", "value", "changes", "expected"),
    [
        ("card", "4242424242424242", {}, "800.300.101"),
        ("bin", "424242", {}, "800.300.401"),
        ("email", "blocked@example.com", {"customer.email": "blocked@example.com"}, "800.300.200"),
        ("ip", "198.51.100.9", {"customer.ip": "198.51.100.9"}, "800.300.301"),
    ],
)
async def test_a_blocklisted_value_answers_its_blacklist_code(
    client: AsyncClient, merchant: Merchant, kind: str, value: str, changes: dict[str, str], expected: str
) -> None:
    made = await client.post(
        "/v1/blocklist", json={"type": kind, "value": value}, headers=auth(merchant.test.secret_key)
    )
    assert made.status_code == 201, made.text
    api = await oppwa(client, merchant)
    found = await api.post("/payments", card_form(payment_type="DB", **changes))
    assert (found.status_code, code(found)) == (400, expected)
    assert found.json()["risk"] == {"score": "100"} and len(found.json()["id"]) == 32


async def test_a_velocity_rule_answers_800_120_101(client: AsyncClient, merchant: Merchant) -> None:
    rule = {"key": "card", "metric": "count", "limit": 1, "window_seconds": 3600}
    assert (await client.post("/v1/risk_rules", json=rule, headers=auth(merchant.test.secret_key))).status_code == 201
    api = await oppwa(client, merchant)
    assert code(await api.post("/payments", card_form(payment_type="DB"))) == "000.100.110"
    second = await api.post("/payments", card_form(payment_type="DB"))
    assert (second.status_code, code(second)) == (400, "800.120.101")
