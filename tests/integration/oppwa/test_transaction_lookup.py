"""A back-office transaction is a payment object of its own in OPPWA, found by its own id: the status call
and the query answer a capture's or refund's id with that transaction and its `referencedId` (both
databases); an id that is no transaction of the merchant's answers 404."""

from __future__ import annotations

from httpx import AsyncClient

from tessera.bootstrap import Container
from tessera.core.merchants import create_merchant
from tests.conftest import Merchant
from tests.integration.oppwa.helpers import card_form, code, oppwa


async def test_a_capture_and_a_refund_are_found_by_their_own_ids(client: AsyncClient, merchant: Merchant) -> None:
    api = await oppwa(client, merchant)
    pa = (await api.post("/payments", card_form(payment_type="PA"))).json()
    cp = (await api.post(f"/payments/{pa['id']}", {"paymentType": "CP", "amount": "92.00", "currency": "EUR"})).json()
    rf = (await api.post(f"/payments/{pa['id']}", {"paymentType": "RF", "amount": "10.00", "currency": "EUR"})).json()
    assert len({pa["id"], cp["id"], rf["id"]}) == 3
    for done, kind, amount in ((cp, "CP", "92.00"), (rf, "RF", "10.00")):
        for path in (f"/query/{done['id']}", f"/payments/{done['id']}"):
            found = await api.get(path)
            assert found.status_code == 200 and code(found) == "000.100.110", found.text
            body = found.json()
            assert (body["id"], body["paymentType"], body["amount"]) == (done["id"], kind, amount)
            assert body["referencedId"] == pa["id"]
    assert (await api.get(f"/query/{pa['id']}")).json()["paymentType"] == "PA"


async def test_another_merchants_transaction_is_not_found(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    made, creds = await create_merchant("Other Shop", uow=container.uow, allowed_domains=["yoursite.com"])
    other = Merchant(made.id, creds[0], creds[0])
    mine, theirs = await oppwa(client, merchant), await oppwa(client, other)
    pa = (await mine.post("/payments", card_form(payment_type="PA"))).json()
    cp = (await mine.post(f"/payments/{pa['id']}", {"paymentType": "CP", "amount": "92.00", "currency": "EUR"})).json()
    for path in (f"/query/{cp['id']}", f"/payments/{cp['id']}"):
        found = await theirs.get(path)
        assert (found.status_code, code(found)) == (404, "700.400.580")
    unknown = await mine.get("/query/" + "0" * 31 + "1")
    assert unknown.status_code == 404
