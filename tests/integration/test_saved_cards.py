"""The native vault (/v1/cards) and paying with saved cards."""

from __future__ import annotations

from httpx import AsyncClient
from sqlalchemy import select

from tessera.bootstrap import Container
from tessera.storage import tables as t
from tests.conftest import Merchant, auth
from tests.factories import BROWSER, card, payment


def save_body(number: str = "5555555555554444", identifier: str = "cust_1", **extra: object) -> dict[str, object]:
    return {
        "card": card(number, name="Asha Rao"),
        "identifier": identifier,
        "card_type": "DEBIT",
        "consent": True,
        **extra,
    }


async def test_save_list_get_and_delete_a_card(client: AsyncClient, merchant: Merchant) -> None:
    h = auth(merchant.test.secret_key)
    r = await client.post("/v1/cards", json=save_body(nickname="Salary card"), headers=h)
    assert r.status_code == 201, r.text
    saved = r.json()
    assert saved["label"] == "Salary card" and saved["brand"] == "mastercard" and saved["card_type"] == "DEBIT"
    assert (saved["bin"], saved["last4"], saved["issuer_token"]) == ("555555", "4444", None)
    assert "5555555555554444" not in r.text
    listed = (await client.get("/v1/cards", params={"identifier": "cust_1"}, headers=h)).json()
    assert [c["card_token"] for c in listed["data"]] == [saved["card_token"]]
    assert (await client.get(f"/v1/cards/{saved['card_token']}", headers=h)).json()["label"] == "Salary card"
    deleted = await client.delete(f"/v1/cards/{saved['card_token']}", headers=h)
    assert deleted.json() == {"card_token": saved["card_token"], "object": "card", "deleted": True}
    assert (await client.get(f"/v1/cards/{saved['card_token']}", headers=h)).status_code == 404
    pay = await client.post(
        "/v1/payments",
        json={"amount": 100, "currency": "INR", "saved_card": saved["card_token"], "identifier": "cust_1"},
        headers=h,
    )
    assert pay.status_code == 404  # a deleted card can no longer be used


async def test_a_label_is_made_when_there_is_no_nickname(client: AsyncClient, merchant: Merchant) -> None:
    r = await client.post("/v1/cards", json=save_body(), headers=auth(merchant.test.secret_key))
    assert r.json()["label"] == "Mastercard •••• 4444"


async def test_consent_must_be_true(client: AsyncClient, merchant: Merchant) -> None:
    r = await client.post("/v1/cards", json=save_body(consent=False), headers=auth(merchant.test.secret_key))
    assert r.status_code == 400 and r.json()["error"]["param"] == "card_holder_consent"


async def test_the_consent_record_is_kept(client: AsyncClient, merchant: Merchant, container: Container) -> None:
    await client.post("/v1/cards", json=save_body(), headers=auth(merchant.test.secret_key))
    async with container.db.connect() as conn:
        row = (await conn.execute(select(t.cards))).one()
    assert row.consent_at is not None and row.consent_ip == "127.0.0.1"
    assert row.consent_credential == merchant.test.client_id


async def test_paying_with_a_saved_card_by_its_owner(client: AsyncClient, merchant: Merchant) -> None:
    h = auth(merchant.test.secret_key)
    token = (await client.post("/v1/cards", json=save_body(), headers=h)).json()["card_token"]
    r = await client.post(
        "/v1/payments", json={"amount": 2500, "currency": "INR", "saved_card": token, "identifier": "cust_1"}, headers=h
    )
    assert r.status_code == 201, r.text
    paid = r.json()
    assert paid["status"] == "completed" and paid["card"]["card_token"] == token and paid["card"]["last4"] == "4444"


async def test_a_saved_card_keeps_its_test_card_behaviour(client: AsyncClient, merchant: Merchant) -> None:
    h = auth(merchant.test.secret_key)
    token = (await client.post("/v1/cards", json=save_body("4000000000009995"), headers=h)).json()["card_token"]
    r = await client.post(
        "/v1/payments", json={"amount": 100, "currency": "INR", "saved_card": token, "identifier": "cust_1"}, headers=h
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "INSUFFICIENT_FUNDS"


async def test_a_saved_card_is_refused_to_another_identifier_or_merchant(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    from tessera.core.merchants import create_merchant

    h = auth(merchant.test.secret_key)
    token = (await client.post("/v1/cards", json=save_body(), headers=h)).json()["card_token"]
    other_id = await client.post(
        "/v1/payments", json={"amount": 100, "currency": "INR", "saved_card": token, "identifier": "cust_2"}, headers=h
    )
    assert other_id.status_code == 404 and other_id.json()["error"]["param"] == "saved_card"
    _, other = await create_merchant("Other", uow=container.uow)
    other_m = await client.post(
        "/v1/payments",
        json={"amount": 100, "currency": "INR", "saved_card": token, "identifier": "cust_1"},
        headers=auth(other[0].secret_key),
    )
    assert other_m.status_code == 404
    live = await client.post(
        "/v1/payments",
        json={"amount": 100, "currency": "INR", "saved_card": token, "identifier": "cust_1"},
        headers=auth(merchant.live.secret_key),
    )
    assert live.status_code == 404
    no_owner = await client.post(
        "/v1/payments", json={"amount": 100, "currency": "INR", "saved_card": token}, headers=h
    )
    assert no_owner.status_code == 400 and no_owner.json()["error"]["param"] == "identifier"


async def test_save_card_during_a_payment_saves_only_if_it_succeeds(client: AsyncClient, merchant: Merchant) -> None:
    h = auth(merchant.test.secret_key)
    declined = await client.post(
        "/v1/payments", json=payment("4000000000000002", save_card=True, identifier="cust_9"), headers=h
    )
    assert declined.status_code == 400 and declined.json()["card"]["card_token"] is None
    assert (await client.get("/v1/cards", params={"identifier": "cust_9"}, headers=h)).json()["data"] == []
    ok = await client.post(
        "/v1/payments",
        json=payment(save_card=True, identifier="cust_9", card_type="CREDIT", browser={**BROWSER, "ip": "203.0.113.9"}),
        headers=h,
    )
    assert ok.status_code == 201
    token = ok.json()["card"]["card_token"]
    assert token
    saved = (await client.get("/v1/cards", params={"identifier": "cust_9"}, headers=h)).json()["data"]
    assert [c["card_token"] for c in saved] == [token] and saved[0]["card_type"] == "CREDIT"
    again = await client.post("/v1/payments", json=payment(save_card=True, identifier="cust_9"), headers=h)
    assert again.json()["card"]["card_token"] == token  # the same card is not saved twice
    fetched = (await client.get(f"/v1/payments/{ok.json()['id']}", headers=h)).json()
    assert fetched["card"]["card_token"] == token
    repay = await client.post(
        "/v1/payments", json={"amount": 100, "currency": "INR", "saved_card": token, "identifier": "cust_9"}, headers=h
    )
    assert repay.status_code == 201


async def test_saving_the_same_card_again_for_its_owner_keeps_its_card_and_network_token(
    client: AsyncClient, merchant: Merchant
) -> None:
    h = auth(merchant.test.secret_key)
    saved = (await client.post("/v1/cards", json=save_body(), headers=h)).json()
    again = await client.post(
        "/v1/payments", json=payment("5555555555554444", save_card=True, identifier="cust_1"), headers=h
    )
    assert again.status_code == 201 and again.json()["card"]["card_token"] == saved["card_token"]
    listed = (await client.get("/v1/cards", params={"identifier": "cust_1"}, headers=h)).json()["data"]
    assert [(c["card_token"], c["network_token"]) for c in listed] == [(saved["card_token"], saved["network_token"])]


async def test_save_card_needs_an_identifier(client: AsyncClient, merchant: Merchant) -> None:
    r = await client.post("/v1/payments", json=payment(save_card=True), headers=auth(merchant.test.secret_key))
    assert r.status_code == 400 and r.json()["error"]["param"] == "identifier"


async def test_saving_writes_a_card_saved_event(client: AsyncClient, merchant: Merchant, container: Container) -> None:
    await client.post("/v1/cards", json=save_body(), headers=auth(merchant.test.secret_key))
    async with container.db.connect() as conn:
        events = (await conn.execute(select(t.events.c.type, t.events.c.data))).all()
    assert [e.type for e in events] == ["card.saved"]
    assert "5555555555554444" not in str(events[0].data)
