"""OPPWA's test conventions through /oppwa in test mode, on both databases, as an OPPWA client's own test
suite uses them: its sample cards, a 3-D Secure 2 simulator card of each kind, a rejection code placed in
`card.holder` answered as that very code, and a Luhn-invalid number answered `100.100.101`."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from tests.conftest import Merchant
from tests.integration.oppwa.helpers import card_form, code, oppwa


@pytest.mark.parametrize(
    ("number", "brand", "expected", "three_ds"),
    [
        ("4200000000000000", "VISA", "000.100.110", None),  # OPPWA's default sample: not enrolled
        ("5454545454545454", "MASTER", "000.100.110", None),
        ("4200000000000091", "VISA", "000.100.110", "Y"),  # simulator: frictionless
        ("4200000000000109", "VISA", "000.100.110", "A"),  # simulator: attempted
        ("4012001037141112", "VISA", "100.380.401", "N"),  # simulator: not enrolled (N), authentication failed
    ],
)
async def test_oppwas_test_cards_behave_as_on_its_test_system(
    client: AsyncClient, merchant: Merchant, number: str, brand: str, expected: str, three_ds: str | None
) -> None:
    api = await oppwa(client, merchant)
    found = await api.post("/payments", card_form(number, payment_type="DB", paymentBrand=brand))
    assert code(found) == expected, found.text
    assert found.json()["card"]["bin"] == number[:6] and number not in found.text
    if three_ds is not None:
        assert found.json()["threeDSecure"]["authenticationStatus"] == three_ds


async def test_a_simulator_challenge_card_answers_pending_with_a_redirect(
    client: AsyncClient, merchant: Merchant
) -> None:
    api = await oppwa(client, merchant)
    found = await api.post("/payments", card_form("4200000000000042", shopperResultUrl="https://yoursite.com/result"))
    assert (found.status_code, code(found)) == (200, "000.200.000")
    assert found.json()["redirect"]["url"]


@pytest.mark.parametrize("rejection", ["800.100.152", "800.100.155", "100.400.080", "800.300.101"])
async def test_a_rejection_code_as_card_holder_is_answered_as_that_code(
    client: AsyncClient, merchant: Merchant, rejection: str
) -> None:
    api = await oppwa(client, merchant)
    found = await api.post("/payments", card_form("4200000000000000", payment_type="DB", **{"card.holder": rejection}))
    assert (found.status_code, code(found)) == (400, rejection), found.text
    report = await api.get(f"/query/{found.json()['id']}")
    assert code(report) == rejection


async def test_a_holder_code_means_nothing_in_live_mode(client: AsyncClient, merchant: Merchant) -> None:
    api = await oppwa(client, merchant, mode="live")
    found = await api.post(
        "/payments", card_form("4200000000000000", payment_type="DB", **{"card.holder": "800.100.152"})
    )
    assert code(found) == "000.000.000", found.text


async def test_a_luhn_invalid_number_answers_100_100_101(client: AsyncClient, merchant: Merchant) -> None:
    api = await oppwa(client, merchant)
    found = await api.post("/payments", card_form("4200000000000001", payment_type="DB"))
    assert (found.status_code, code(found)) == (400, "100.100.101")
    assert "4200000000000001" not in found.text
