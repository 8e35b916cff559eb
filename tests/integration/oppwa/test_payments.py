"""Seed 003's synchronous flows through /oppwa in-process, form-encoded, on both databases: PA then CP
then RF; DB then RF twice then CB then CR; PA then RV; DB then RB; PA then RC; answers in OPPWA's shape."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient

from tests.conftest import Merchant
from tests.integration.oppwa.helpers import DECLINED, card_form, code, oppwa

HEX = re.compile(r"^[0-9a-f]{32}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\+0000$")


async def test_a_pre_authorisation_is_captured_then_refunded_each_a_new_object(
    client: AsyncClient, merchant: Merchant
) -> None:
    api = await oppwa(client, merchant)
    pa = await api.post("/payments", card_form())
    assert pa.status_code == 200, pa.text
    body = pa.json()
    assert HEX.match(body["id"]) and TIMESTAMP.match(body["timestamp"])
    assert (body["paymentType"], body["paymentBrand"], body["amount"], body["currency"]) == (
        "PA",
        "VISA",
        "92.00",
        "EUR",
    )
    assert body["result"]["code"] == "000.100.110"
    assert body["card"] == {
        "bin": "424242",
        "last4Digits": "4242",
        "holder": "Jane Jones",
        "expiryMonth": "05",
        "expiryYear": "2034",
    }
    assert body["ndc"].startswith(api.entity + "_") and body["risk"] == {"score": "0"}
    cp = await api.post(f"/payments/{body['id']}", {"paymentType": "CP", "amount": "92.00", "currency": "EUR"})
    assert cp.status_code == 200, cp.text
    assert cp.json()["referencedId"] == body["id"] and cp.json()["id"] != body["id"]
    assert (cp.json()["paymentType"], code(cp)) == ("CP", "000.100.110")
    rf = await api.post(f"/payments/{body['id']}", {"paymentType": "RF", "amount": "50.00", "currency": "EUR"})
    assert (rf.status_code, rf.json()["paymentType"], rf.json()["amount"], code(rf)) == (
        200,
        "RF",
        "50.00",
        "000.100.110",
    )
    native = await client.get(f"/v1/payments/{_pay_id(body['id'])}", headers={"Authorization": f"Bearer {api.key}"})
    assert native.json()["status"] == "partially_refunded"


def _pay_id(oppwa_id: str) -> str:
    from tessera.dialects.oppwa.ids import from_hex

    found = from_hex(oppwa_id)
    assert found is not None
    return found


async def test_a_debit_refunded_twice_charged_back_and_reversed(client: AsyncClient, merchant: Merchant) -> None:
    api = await oppwa(client, merchant)
    db = (await api.post("/payments", card_form(payment_type="DB"))).json()
    assert (db["paymentType"], db["result"]["code"]) == ("DB", "000.100.110")
    path = f"/payments/{db['id']}"
    for amount in ("10.00", "20.00"):
        rf = await api.post(path, {"paymentType": "RF", "amount": amount, "currency": "EUR"})
        assert (rf.status_code, code(rf)) == (200, "000.100.110")
    cb = await api.post(path, {"paymentType": "CB", "amount": "62.00", "currency": "EUR"})
    assert (cb.status_code, cb.json()["paymentType"], code(cb)) == (200, "CB", "000.100.110")
    cr = await api.post(path, {"paymentType": "CR", "amount": "62.00", "currency": "EUR"})
    assert (cr.status_code, cr.json()["paymentType"], code(cr)) == (200, "CR", "000.100.110")


async def test_a_pre_authorisation_is_reversed(client: AsyncClient, merchant: Merchant) -> None:
    api = await oppwa(client, merchant)
    pa = (await api.post("/payments", card_form())).json()
    rv = await api.post(f"/payments/{pa['id']}", {"paymentType": "RV"})
    assert (rv.status_code, rv.json()["paymentType"], rv.json()["referencedId"], code(rv)) == (
        200,
        "RV",
        pa["id"],
        "000.100.110",
    )


async def test_a_debit_with_a_registration_is_rebilled_as_a_new_payment(
    client: AsyncClient, merchant: Merchant
) -> None:
    api = await oppwa(client, merchant)
    db = (await api.post("/payments", card_form(payment_type="DB", createRegistration="true"))).json()
    assert HEX.match(db["registrationId"])
    rb = await api.post(f"/payments/{db['id']}", {"paymentType": "RB", "amount": "15.99", "currency": "EUR"})
    assert rb.status_code == 200, rb.text
    assert (rb.json()["paymentType"], rb.json()["referencedId"], rb.json()["amount"], code(rb)) == (
        "RB",
        db["id"],
        "15.99",
        "000.100.110",
    )


async def test_a_pre_authorisation_takes_a_receipt(client: AsyncClient, merchant: Merchant) -> None:
    api = await oppwa(client, merchant)
    pa = (await api.post("/payments", card_form())).json()
    rc = await api.post(f"/payments/{pa['id']}", {"paymentType": "RC"})
    assert (rc.status_code, rc.json()["paymentType"], code(rc)) == (200, "RC", "000.100.110")
    again = await api.post(f"/payments/{pa['id']}", {"paymentType": "CP"})
    assert (again.status_code, code(again)) == (400, "700.300.300")


async def test_a_declined_card_answers_400_with_the_payment(client: AsyncClient, merchant: Merchant) -> None:
    api = await oppwa(client, merchant)
    found = await api.post("/payments", card_form(DECLINED))
    assert (found.status_code, code(found)) == (400, "800.100.152")
    assert HEX.match(found.json()["id"]) and found.json()["card"]["last4Digits"] == "0002"


async def test_live_success_is_000_000_000(client: AsyncClient, merchant: Merchant) -> None:
    api = await oppwa(client, merchant, "live")
    found = await api.post("/payments", card_form(payment_type="DB"))
    assert (found.status_code, code(found)) == (200, "000.000.000")


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("4000000000003089", "100.380.401"),
        ("4000000000003097", "000.100.110"),
        ("4000000000003105", "000.100.110"),
        ("4000000000009995", "800.100.155"),
        ("4000000000000069", "800.100.157"),
        ("4000000000000127", "800.100.153"),
        ("4000000000000119", "900.100.600"),
        ("4000000000000259", "900.100.301"),
    ],
)
async def test_each_test_card_answers_the_readmes_code(
    client: AsyncClient, merchant: Merchant, number: str, expected: str
) -> None:
    api = await oppwa(client, merchant)
    found = await api.post("/payments", card_form(number, "DB"))
    assert (code(found), found.status_code) == (expected, 200 if expected.startswith("000.") else 400)
