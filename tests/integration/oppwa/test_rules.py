"""OPPWA's refusals through /oppwa, on both databases: credentials and entity (oppwa.md section 0),
validation with parameterErrors that never echo a card number or CVV, and every back-office 700.* rule
(capture twice, refund beyond what was captured, an unknown reference, reversal after capture, ...)."""

from __future__ import annotations

from httpx import AsyncClient

from tests.conftest import Merchant, auth
from tests.integration.oppwa.helpers import APPROVED, BASE, card_form, clear_of_a_minute_boundary, code, oppwa


async def test_a_wrong_token_or_entity_is_refused_as_oppwa_says(client: AsyncClient, merchant: Merchant) -> None:
    api = await oppwa(client, merchant)
    form = {"entityId": api.entity} | card_form()
    none = await client.post(f"{BASE}/payments", data=form)
    assert (none.status_code, code(none)) == (401, "800.900.300")
    wrong = await client.post(f"{BASE}/payments", data=form, headers=auth("sk_test_nope"))
    assert (wrong.status_code, code(wrong)) == (401, "800.900.300")
    other = await client.post(f"{BASE}/payments", data=form | {"entityId": "0" * 32}, headers=auth(api.key))
    assert (other.status_code, code(other)) == (403, "800.900.301")
    live = await oppwa(client, merchant, "live")
    crossed = await client.post(f"{BASE}/payments", data=form | {"entityId": live.entity}, headers=auth(api.key))
    assert (crossed.status_code, code(crossed)) == (403, "800.900.301")
    status = await client.get(f"{BASE}/payments/{'a' * 32}", headers=auth(api.key))
    assert (status.status_code, code(status)) == (400, "200.300.404")
    assert status.json()["result"]["parameterErrors"][0]["name"] == "entityId"


async def test_validation_names_each_field_and_never_echoes_card_data(client: AsyncClient, merchant: Merchant) -> None:
    api = await oppwa(client, merchant)
    found = await api.post("/payments", card_form(**{"amount": "-20.20", "card.cvv": "12345", "card.number": "42x"}))
    assert (found.status_code, code(found)) == (400, "200.300.404")
    errors = {e["name"]: e for e in found.json()["result"]["parameterErrors"]}
    assert set(errors) == {"amount", "card.cvv", "card.number"}
    assert errors["amount"]["value"] == "-20.20" and "^[0-9]{1,12}" in errors["amount"]["message"]
    assert errors["card.cvv"]["value"] == errors["card.number"]["value"] == "[hidden]"
    missing = await api.post("/payments", {"paymentType": "DB"})
    names = {e["name"] for e in missing.json()["result"]["parameterErrors"]}
    assert {"amount", "currency", "card.number", "card.cvv", "customer.ip"} <= names


async def test_a_luhn_invalid_number_is_100_100_101(client: AsyncClient, merchant: Merchant) -> None:
    api = await oppwa(client, merchant)
    found = await api.post("/payments", card_form("4444444444444444"))
    assert (found.status_code, code(found)) == (400, "100.100.101")
    assert "4444444444444444" not in found.text
    [error] = found.json()["result"]["parameterErrors"]
    assert (error["name"], error["value"]) == ("card.number", "[hidden]")


async def test_field_codes_of_oppwa_md(client: AsyncClient, merchant: Merchant) -> None:
    api = await oppwa(client, merchant)
    cases = {
        "100.100.303": {"card.expiryYear": "2020"},
        "100.550.303": {"amount": "92.5"},
        "100.550.300": {"amount": "0.00"},
        "100.100.700": {"paymentBrand": "MASTER"},
        "100.100.601": {"card.cvv": "1234"},
        "100.550.401": {"currency": "XXX"},
        "100.500.201": {"paymentType": "CD"},
        "600.300.211": {"shopperResultUrl": "https://elsewhere.example/back"},
    }
    for expected, change in cases.items():
        found = await api.post("/payments", card_form(**change))
        assert (found.status_code, code(found)) == (400, expected), (change, found.text)
    json_body = await client.post(f"{BASE}/payments", json={"entityId": api.entity}, headers=auth(api.key))
    assert (json_body.status_code, code(json_body)) == (400, "200.300.404")


async def test_every_700_rule_answers_its_code(client: AsyncClient, merchant: Merchant) -> None:
    api = await oppwa(client, merchant)

    async def new(payment_type: str = "PA") -> str:
        return str((await api.post("/payments", card_form(payment_type=payment_type))).json()["id"])

    async def op(pid: str, kind: str, amount: str | None = None) -> tuple[int, str]:
        form = {"paymentType": kind} | ({"amount": amount, "currency": "EUR"} if amount else {})
        found = await api.post(f"/payments/{pid}", form)
        return found.status_code, code(found)

    pa = await new()
    assert await op(pa, "CP", "50.00") == (200, "000.100.110")
    assert await op(pa, "CP", "10.00") == (400, "700.300.300")  # capture twice
    assert await op(pa, "RF", "60.00") == (400, "700.400.200")  # refund beyond captured
    assert await op(pa, "RV") == (400, "700.300.700")  # reversal after capture
    assert await op("f" * 32, "CP") == (404, "700.100.100")  # unknown reference
    assert await op(await new(), "CP", "100.00") == (400, "700.400.100")  # more than authorised
    assert await op(await new(), "RF", "10.00") == (400, "700.400.520")  # refund before capture
    assert await op(await new("DB"), "CP", "10.00") == (400, "700.400.510")  # capture needs a PA
    assert await op(await new("DB"), "RB", "10.00") == (400, "700.100.701")  # no registration to rebill
    voided = await new()
    assert await op(voided, "RV") == (200, "000.100.110")
    assert await op(voided, "RV") == (400, "700.400.300")
    assert await op(voided, "CP") == (400, "700.400.100")
    db = await new("DB")
    assert await op(db, "CR", "10.00") == (400, "700.400.420")
    assert await op(db, "CB", "10.00") == (200, "000.100.110")
    assert await op(db, "CB", "10.00") == (400, "700.300.500")
    assert await op(db, "RF", "10.00") == (400, "700.300.600")
    assert await op(await new(), "CB") == (400, "700.400.550")
    currency = await api.post(f"/payments/{db}", {"paymentType": "RF", "amount": "1.00", "currency": "USD"})
    assert (currency.status_code, code(currency)) == (400, "700.100.500")
    declined = str((await api.post("/payments", card_form("4000000000000002"))).json()["id"])
    assert await op(declined, "CP") == (400, "700.300.200")


async def test_chargebacks_and_receipts_are_the_banks_in_live_mode(client: AsyncClient, merchant: Merchant) -> None:
    api = await oppwa(client, merchant, "live")
    db = (await api.post("/payments", card_form(payment_type="DB"))).json()["id"]
    cb = await api.post(f"/payments/{db}", {"paymentType": "CB"})
    assert (cb.status_code, code(cb)) == (400, "700.400.402")
    pa = (await api.post("/payments", card_form())).json()["id"]
    rc = await api.post(f"/payments/{pa}", {"paymentType": "RC"})
    assert (rc.status_code, code(rc)) == (400, "700.400.562")


async def test_the_third_status_call_in_a_minute_is_throttled_while_query_answers(
    client: AsyncClient, merchant: Merchant
) -> None:
    api = await oppwa(client, merchant)
    clear_of_a_minute_boundary()
    pid = (await api.post("/payments", card_form(merchantTransactionId="order-1001"))).json()["id"]
    first, second, third = [await api.get(f"/payments/{pid}") for _ in range(3)]
    assert [first.status_code, second.status_code] == [200, 200] and code(first) == "000.100.110"
    assert (third.status_code, code(third)) == (429, "800.120.100")
    for _ in range(3):
        report = await api.get(f"/query/{pid}")
        assert (report.status_code, report.json()["id"], code(report)) == (200, pid, "000.100.110")
    other = (await api.post("/payments", card_form())).json()["id"]  # counted per payment
    assert (await api.get(f"/payments/{other}")).status_code == 200


async def test_query_by_merchant_transaction_id_lists_every_transaction(
    client: AsyncClient, merchant: Merchant
) -> None:
    api = await oppwa(client, merchant)
    declined = await api.post("/payments", card_form("4000000000000002", "DB", merchantTransactionId="order-7"))
    db = (await api.post("/payments", card_form(payment_type="DB", merchantTransactionId="order-7"))).json()["id"]
    await api.post(f"/payments/{db}", {"paymentType": "RF", "amount": "2.00", "currency": "EUR"})
    found = await api.get("/query", merchantTransactionId="order-7")
    assert (found.status_code, code(found)) == (200, "000.000.100")
    listed = [(p["id"], p["paymentType"], p["result"]["code"]) for p in found.json()["payments"]]
    assert listed[0] == (declined.json()["id"], "DB", "800.100.152")
    assert listed[1] == (db, "DB", "000.100.110") and listed[2][1:] == ("RF", "000.100.110")
    unknown = await api.get("/query", merchantTransactionId="order-none")
    assert (unknown.status_code, code(unknown)) == (404, "700.400.580")


async def test_registrations_pay_and_are_deleted(client: AsyncClient, merchant: Merchant) -> None:
    api = await oppwa(client, merchant)
    form = {k: v for k, v in card_form().items() if k.startswith("card.") or k == "paymentBrand"}
    made = await api.post("/registrations", form)
    assert (made.status_code, code(made)) == (200, "000.100.110")
    rid = made.json()["id"]
    assert made.json()["card"]["last4Digits"] == "4242" and APPROVED not in made.text
    paid = await api.post(f"/registrations/{rid}/payments", {"paymentType": "DB", "amount": "9.99", "currency": "EUR"})
    assert (paid.status_code, code(paid), paid.json()["amount"]) == (200, "000.100.110", "9.99")
    gone = await api.delete(f"/registrations/{rid}")
    assert (gone.status_code, code(gone)) == (200, "000.100.110")
    again = await api.post(f"/registrations/{rid}/payments", {"paymentType": "DB", "amount": "1.00", "currency": "EUR"})
    assert (again.status_code, code(again)) == (404, "100.150.200")  # the vault keeps no deleted card
    unknown = await api.delete(f"/registrations/{'0' * 32}")
    assert (unknown.status_code, code(unknown)) == (404, "100.150.200")
