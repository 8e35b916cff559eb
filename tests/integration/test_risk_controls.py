"""The risk controls through the native and EximPe APIs, on SQLite and PostgreSQL: blocklists (card, e-mail,
customer, IP and CIDR, BIN), velocity rules by count and by amount, the API IP allowlist with and without a
trusted proxy, fees, live payments without charges, and the shopper-IP rule. Every refusal is made before 3-D
Secure and the acquirer, and is recorded on the payment's attempt with the entry or rule that decided."""

from __future__ import annotations

from typing import Any

import httpx
from httpx import AsyncClient
from sqlalchemy import text

from tessera.bootstrap import Container
from tessera.core.merchants import UpdateMerchant, create_merchant, update_merchant
from tessera.core.risk.model import Charge
from tests.conftest import Merchant, auth
from tests.factories import BROWSER, card, payment

MASTERCARD = "5555555555554444"


async def _block(client: AsyncClient, merchant: Merchant, kind: str, value: str) -> dict[str, Any]:
    made = await client.post(
        "/v1/blocklist", json={"type": kind, "value": value}, headers=auth(merchant.test.secret_key)
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


async def _pay(client: AsyncClient, merchant: Merchant, **body: Any) -> httpx.Response:
    return await client.post("/v1/payments", json=payment(**body), headers=auth(merchant.test.secret_key))


def _refused(r: httpx.Response, code: str, rule_id: str) -> dict[str, Any]:
    assert r.status_code == 400, r.text
    p: dict[str, Any] = r.json()
    assert p["status"] == "failed" and p["error"]["code"] == code and p["operations"] == []
    assert p["risk"]["code"] == code and p["risk"]["rule_id"] == rule_id
    assert p["attempts"][-1]["risk"] == p["risk"] and p["attempts"][-1]["status"] == "failed"
    return p


# ------------------------------------------------------------------------------ the blocklist


async def test_a_blocked_card_is_refused_before_the_acquirer_and_only_its_fingerprint_is_kept(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    entry = await _block(client, merchant, "card", "4242424242424242")
    assert entry["type"] == "card" and entry["value"] == "424242******4242" and entry["id"].startswith("blk_")
    p = _refused(await _pay(client, merchant), "card_blocked", entry["id"])
    assert p["risk"]["rule_type"] == "blocklist" and "4242424242424242" not in str(p)
    assert (await _pay(client, merchant, number=MASTERCARD)).json()["status"] == "completed"
    async with container.db.connect() as conn:
        rows = (await conn.execute(text("SELECT value, match_key FROM risk_blocklist"))).all()
    assert rows and all("4242424242424242" not in f"{v}{k}" for v, k in rows)
    events = (await client.get("/v1/events", headers=auth(merchant.test.secret_key))).json()["data"]
    failed = [e for e in events if e["payment_id"] == p["id"]]
    assert failed and failed[-1]["type"] == "payment.failed"
    assert failed[-1]["data"]["risk"]["rule_id"] == entry["id"] and "4242424242424242" not in str(events)


async def test_a_listed_value_is_not_listed_twice(client: AsyncClient, merchant: Merchant) -> None:
    first = await _block(client, merchant, "email", "Fraud@Example.com")
    again = await client.post(
        "/v1/blocklist", json={"type": "email", "value": "fraud@example.COM"}, headers=auth(merchant.test.secret_key)
    )
    assert again.status_code == 200 and again.json()["id"] == first["id"] and first["value"] == "fraud@example.com"


async def test_blocked_email_customer_bin_and_ip_each_decide_with_their_code(
    client: AsyncClient, merchant: Merchant
) -> None:
    email = await _block(client, merchant, "email", "FRAUD@example.com")
    customer = await _block(client, merchant, "customer", "cus_42")
    bin8 = await _block(client, merchant, "bin", "55555555")
    net = await _block(client, merchant, "ip", "198.51.100.0/24")
    net6 = await _block(client, merchant, "ip", "2001:db8::/32")
    _refused(await _pay(client, merchant, customer={"email": "Fraud@EXAMPLE.com"}), "customer_blocked", email["id"])
    _refused(await _pay(client, merchant, customer={"id": "cus_42"}), "customer_blocked", customer["id"])
    _refused(await _pay(client, merchant, number=MASTERCARD), "card_blocked", bin8["id"])
    _refused(await _pay(client, merchant, browser=BROWSER | {"ip": "198.51.100.77"}), "risk_declined", net["id"])
    _refused(await _pay(client, merchant, browser=BROWSER | {"ip": "2001:db8:1::5"}), "risk_declined", net6["id"])
    ok = await _pay(client, merchant, customer={"id": "cus_43", "email": "good@example.com"})
    assert ok.json()["status"] == "completed" and ok.json()["risk"] is None


async def test_the_blocklist_lists_newest_first_by_pages_and_a_deleted_entry_stops_matching(
    client: AsyncClient, merchant: Merchant
) -> None:
    h = auth(merchant.test.secret_key)
    made = [await _block(client, merchant, "bin", f"4{n:05d}") for n in range(3)]
    page = (await client.get("/v1/blocklist?limit=2", headers=h)).json()
    assert [e["id"] for e in page["data"]] == [made[2]["id"], made[1]["id"]] and page["has_more"]
    rest = (await client.get(f"/v1/blocklist?limit=2&starting_after={page['next_cursor']}", headers=h)).json()
    assert [e["id"] for e in rest["data"]] == [made[0]["id"]] and not rest["has_more"]
    entry = await _block(client, merchant, "bin", "424242")
    assert (await _pay(client, merchant)).json()["error"]["code"] == "card_blocked"
    gone = await client.delete(f"/v1/blocklist/{entry['id']}", headers=h)
    assert gone.status_code == 200 and gone.json()["deleted"] is True
    assert (await client.delete(f"/v1/blocklist/{entry['id']}", headers=h)).status_code == 404
    assert (await _pay(client, merchant)).json()["status"] == "completed"
    # The live mode's list is its own.
    assert (await client.get("/v1/blocklist", headers=auth(merchant.live.secret_key))).json()["data"] == []


async def test_a_bad_blocklist_value_is_refused_naming_the_field(client: AsyncClient, merchant: Merchant) -> None:
    h = auth(merchant.test.secret_key)
    for kind, value in (("ip", "300.1.1.1"), ("bin", "12345"), ("card", "4242424242424241"), ("email", "no-at")):
        r = await client.post("/v1/blocklist", json={"type": kind, "value": value}, headers=h)
        assert r.status_code == 400 and r.json()["error"]["param"] == "value", (kind, r.text)
        assert value not in r.text


async def test_a_blocked_attempt_on_an_intent_spends_one_attempt_like_a_decline(
    client: AsyncClient, merchant: Merchant
) -> None:
    h = auth(merchant.test.secret_key)
    entry = await _block(client, merchant, "card", "4242424242424242")
    intent = (await client.post("/v1/payments", json={"amount": 900, "currency": "INR"}, headers=h)).json()
    r = await client.post(f"/v1/payments/{intent['id']}/confirm", json={"card": card(), "browser": BROWSER}, headers=h)
    p = r.json()
    assert p["status"] == "requires_payment_method" and p["attempts_remaining"] == 2
    assert p["last_error"]["code"] == "card_blocked" and p["attempts"][0]["risk"]["rule_id"] == entry["id"]
    body = {"card": card(MASTERCARD), "browser": BROWSER}
    done = await client.post(f"/v1/payments/{intent['id']}/confirm", json=body, headers=h)
    assert done.json()["status"] == "completed" and done.json()["risk"] is None


async def test_confirming_a_failed_payment_is_refused_as_attempts_exhausted(
    client: AsyncClient, merchant: Merchant
) -> None:
    h = auth(merchant.test.secret_key)
    await update_merchant_budget(client, merchant)
    intent = (await client.post("/v1/payments", json={"amount": 900, "currency": "INR"}, headers=h)).json()
    body = {"card": card("4000000000000002"), "browser": BROWSER}
    assert (await client.post(f"/v1/payments/{intent['id']}/confirm", json=body, headers=h)).json()[
        "status"
    ] == "failed"
    again = await client.post(f"/v1/payments/{intent['id']}/confirm", json=body, headers=h)
    assert again.status_code == 409 and again.json()["error"]["code"] == "attempts_exhausted"


async def update_merchant_budget(client: AsyncClient, merchant: Merchant) -> None:
    container: Container = client._transport.app.state.container  # type: ignore[attr-defined]
    await update_merchant(UpdateMerchant(merchant.id, attempt_budget=1), uow=container.uow)


# ------------------------------------------------------------------------------ velocity rules


async def _rule(client: AsyncClient, merchant: Merchant, **body: Any) -> dict[str, Any]:
    made = await client.post("/v1/risk_rules", json=body, headers=auth(merchant.test.secret_key))
    assert made.status_code == 201, made.text
    return dict(made.json())


async def test_a_count_rule_lets_n_attempts_per_card_through_then_refuses(
    client: AsyncClient, merchant: Merchant
) -> None:
    rule = await _rule(client, merchant, key="card", metric="count", limit=2, window_seconds=3600)
    assert [(await _pay(client, merchant)).json()["status"] for _ in range(2)] == ["completed", "completed"]
    p = _refused(await _pay(client, merchant), "risk_declined", rule["id"])
    assert p["risk"]["rule_type"] == "velocity_rule"
    assert (await _pay(client, merchant, number=MASTERCARD)).json()["status"] == "completed"  # another card
    listed = (await client.get("/v1/risk_rules", headers=auth(merchant.test.secret_key))).json()["data"]
    assert [r["id"] for r in listed] == [rule["id"]]
    gone = await client.delete(f"/v1/risk_rules/{rule['id']}", headers=auth(merchant.test.secret_key))
    assert gone.status_code == 200 and (await _pay(client, merchant)).json()["status"] == "completed"


async def test_an_amount_rule_counts_minor_units_of_its_currency_per_email(
    client: AsyncClient, merchant: Merchant
) -> None:
    rule = await _rule(client, merchant, key="email", metric="amount", limit=2500, window_seconds=600, currency="INR")
    who = {"email": "a@example.com"}
    assert (await _pay(client, merchant, amount=1500, customer=who)).json()["status"] == "completed"
    _refused(await _pay(client, merchant, amount=1001, customer=who), "risk_declined", rule["id"])
    # A refused attempt counts nothing: what is left is still there.
    assert (await _pay(client, merchant, amount=1000, customer=who)).json()["status"] == "completed"
    assert (await _pay(client, merchant, amount=5000, currency="EUR", customer=who)).json()["status"] == "completed"


async def test_lists_and_rules_decide_together_in_one_look_up(client: AsyncClient, merchant: Merchant) -> None:
    rule = await _rule(client, merchant, key="card", metric="count", limit=1, window_seconds=3600)
    entry = await _block(client, merchant, "ip", "198.51.100.0/24")
    refused = await _pay(client, merchant, browser=BROWSER | {"ip": "198.51.100.9"})
    _refused(refused, "risk_declined", entry["id"])  # refused by the list: counted against no rule
    assert (await _pay(client, merchant)).json()["status"] == "completed"
    _refused(await _pay(client, merchant), "risk_declined", rule["id"])


async def test_a_rule_body_is_checked(client: AsyncClient, merchant: Merchant) -> None:
    h = auth(merchant.test.secret_key)
    no_currency = {"key": "ip", "metric": "amount", "limit": 5, "window_seconds": 60}
    r = await client.post("/v1/risk_rules", json=no_currency, headers=h)
    assert r.status_code == 400 and r.json()["error"]["param"] == "currency"


# ------------------------------------------------------------------------------ fees


async def test_each_payment_records_its_fee_from_the_merchants_charges_or_tests_default(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    other, [creds] = await create_merchant("Fees", uow=container.uow, allowed_domains=["yoursite.com"])
    h = auth(creds.secret_key)
    default = (await client.post("/v1/payments", json=payment(amount=1001), headers=h)).json()
    assert default["fee"] == 25  # 2.50% of 1001 is 25.025: rounded half up to 25
    charges = [Charge("visa", "INR", 100, 5), Charge("*", "*", 300, 0)]
    await update_merchant(UpdateMerchant(other.id, charges=charges), uow=container.uow)
    visa = (await client.post("/v1/payments", json=payment(amount=1050), headers=h)).json()
    assert visa["fee"] == 16  # 1% of 1050 = 10.5, rounded half up to 11, plus 5
    mc = (await client.post("/v1/payments", json=payment(MASTERCARD, amount=1000), headers=h)).json()
    assert mc["fee"] == 30


async def test_a_live_payment_without_charges_for_its_brand_and_currency_is_refused(
    client: AsyncClient, container: Container
) -> None:
    made, [_test, live] = await create_merchant("No fees", uow=container.uow, modes=("test", "live"))
    r = await client.post("/v1/payments", json=payment(), headers=auth(live.secret_key))
    assert r.status_code == 400 and r.json()["error"]["code"] == "charges_incomplete"
    listed = (await client.get("/v1/payments", headers=auth(live.secret_key))).json()["data"]
    assert listed == []  # nothing was made, nothing reached the acquirer
    await update_merchant(UpdateMerchant(made.id, charges=[Charge("mastercard", "*", 200, 0)]), uow=container.uow)
    assert (await client.post("/v1/payments", json=payment(), headers=auth(live.secret_key))).status_code == 400
    ok = await client.post("/v1/payments", json=payment(MASTERCARD), headers=auth(live.secret_key))
    assert ok.json()["status"] == "completed" and ok.json()["fee"] == 20


# ------------------------------------------------------------------------------ who calls


async def test_a_secret_key_is_refused_from_outside_the_allowlist_in_each_dialect(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    await update_merchant(UpdateMerchant(merchant.id, allowed_ips=["10.0.0.0/8"]), uow=container.uow)
    r = await client.get("/v1/payments", headers=auth(merchant.test.secret_key))
    assert r.status_code == 403 and r.json()["error"]["code"] == "ip_not_allowed"
    # Not behind a trusted proxy: X-Forwarded-For is not believed.
    forged = await client.get("/v1/payments", headers=auth(merchant.test.secret_key) | {"X-Forwarded-For": "10.1.1.1"})
    assert forged.status_code == 403
    exim = {"X-Client-ID": merchant.test.client_id, "X-Client-Secret": merchant.test.secret_key}
    e = await client.get("/eximpe/pg/tokens/?identifier=x", headers=exim | {"X-Merchant-ID": merchant.id})
    assert e.status_code == 403 and e.json()["error"]["code"] == "ERR_IP_NOT_WHITELISTED", e.text
    # A publishable key (browsers, from anywhere) is not subject to it.
    tok = await client.post("/v1/tokens", json={"card": card()}, headers=auth(merchant.test.publishable_key))
    assert tok.status_code == 201
    await update_merchant(UpdateMerchant(merchant.id, allowed_ips=["127.0.0.1"]), uow=container.uow)
    assert (await client.get("/v1/payments", headers=auth(merchant.test.secret_key))).status_code == 200


async def test_behind_a_trusted_proxy_the_rightmost_untrusted_forwarded_address_is_the_caller(
    proxied: tuple[Container, AsyncClient],
) -> None:
    container, client = proxied
    made, [creds] = await create_merchant("Proxied", uow=container.uow, allowed_domains=["yoursite.com"])
    await update_merchant(UpdateMerchant(made.id, allowed_ips=["203.0.113.0/24"]), uow=container.uow)
    h = auth(creds.secret_key)
    assert (await client.get("/v1/payments", headers=h)).status_code == 403
    ok = await client.get("/v1/payments", headers=h | {"X-Forwarded-For": "192.0.2.1, 203.0.113.9, 10.9.1.1"})
    assert ok.status_code == 200
    spoofed = await client.get("/v1/payments", headers=h | {"X-Forwarded-For": "203.0.113.9, 192.0.2.1"})
    assert spoofed.status_code == 403 and spoofed.json()["error"]["code"] == "ip_not_allowed"


async def test_a_shopper_ip_equal_to_the_calling_servers_is_refused(proxied: tuple[Container, AsyncClient]) -> None:
    container, client = proxied
    _made, [creds] = await create_merchant("Shop", uow=container.uow, allowed_domains=["yoursite.com"])
    h = auth(creds.secret_key) | {"X-Forwarded-For": "203.0.113.7"}  # BROWSER's ip
    r = await client.post("/v1/payments", json=payment(), headers=h)
    assert r.status_code == 400 and r.json()["error"]["code"] == "shopper_ip_is_caller"
    assert r.json()["error"]["param"] == "browser.ip"
    other = await client.post("/v1/payments", json=payment(browser=BROWSER | {"ip": "198.51.100.1"}), headers=h)
    assert other.json()["status"] == "completed"
    # A loopback caller (one machine: development, tests) is exempt.
    local = await client.post(
        "/v1/payments", json=payment(browser=BROWSER | {"ip": "127.0.0.1"}), headers=auth(creds.secret_key)
    )
    assert local.json()["status"] == "completed"


async def test_a_rebill_records_its_fee_too(client: AsyncClient, merchant: Merchant, container: Container) -> None:
    await update_merchant(UpdateMerchant(merchant.id, charges=[Charge("visa", "INR", 100, 0)]), uow=container.uow)
    h = auth(merchant.test.secret_key)
    first = (await client.post("/v1/payments", json=payment(save_card=True, identifier="cus_fee"), headers=h)).json()
    assert first["status"] == "completed" and first["fee"] == 10
    rebill = await client.post(f"/v1/payments/{first['id']}/rebill", json={"amount": 2500}, headers=h)
    assert rebill.status_code == 201 and rebill.json()["fee"] == 25
