"""What the dashboard's pages show, through the app in-process on both databases: API Access names every id
a seed sends a merchant for (client, merchant, brand and entity ids) and the publishable key whole, never a
secret key; a payment's page shows its operations, its 3-D Secure result, the risk decision on each card
tried, its events and the webhooks sent for it with each delivery attempt's status and latency; test data
is marked as test data."""

from __future__ import annotations

import html
import re

import httpx

from tessera.bootstrap import Container
from tessera.core.clock import utcnow
from tessera.core.dashboard.service import DashboardServices
from tessera.core.merchants import UpdateMerchant
from tests.conftest import Merchant, auth
from tests.factories import payment

PASSWORD = "correct horse battery"


def _dash(container: Container) -> DashboardServices:
    assert container.services.dashboard is not None
    return container.services.dashboard


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page has no CSRF token"
    return found.group(1)


async def _signed_in(client: httpx.AsyncClient, container: Container, merchant: Merchant, role: str) -> None:
    await _dash(container).create_user(merchant.id, f"{role}@shop.test", role, PASSWORD)
    form = await client.get("/dashboard/login")
    signed = await client.post(
        "/dashboard/login", data={"email": f"{role}@shop.test", "password": PASSWORD, "csrf_token": _csrf(form.text)}
    )
    assert signed.status_code == 303


def _text(page: str) -> str:
    """The page's text, tags dropped and spaces collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def _definition(page: str, term: str) -> str:
    found = re.search(rf"<dt>{re.escape(term)}</dt><dd>(.*?)</dd>", page, re.S)
    assert found, f"no {term!r} on the page"
    return _text(found.group(1)).strip()


async def test_api_access_shows_every_id_and_the_publishable_key_but_no_secret_key(
    client: httpx.AsyncClient, container: Container, merchant: Merchant
) -> None:
    await _signed_in(client, container, merchant, "viewer")
    page = (await client.get("/dashboard/developers/api-access")).text
    identities = container.services.identities
    assert _definition(page, "Merchant ID") == merchant.id
    assert _definition(page, "Client ID (test)") == merchant.test.client_id
    assert _definition(page, "Brand ID") == (await identities.get(merchant.id, "test", "brand_id")).public_id
    assert _definition(page, "Entity ID") == (await identities.get(merchant.id, "test", "entity_id")).public_id
    assert _definition(page, "Publishable key (test)") == merchant.test.publishable_key
    assert merchant.test.secret_key not in page and merchant.test.secret_key[:20] not in page
    assert merchant.live.publishable_key not in page  # the other mode's keys are the other mode's page
    assert _definition(page, "API IP allowlist (test)").startswith("any address")
    await container.services.merchants.update(
        UpdateMerchant(merchant.id, allowed_ips=["203.0.113.0/24"], allowed_ips_modes=["test"])
    )
    page = (await client.get("/dashboard/developers/api-access")).text
    assert _definition(page, "API IP allowlist (test)").startswith("203.0.113.0/24")

    token = _csrf(page)
    await client.post("/dashboard/mode", data={"csrf_token": token, "mode": "live"})
    live = (await client.get("/dashboard/developers/api-access")).text
    assert _definition(live, "Publishable key (live)") == merchant.live.publishable_key
    assert _definition(live, "Entity ID") == (await identities.get(merchant.id, "live", "entity_id")).public_id


async def test_test_data_is_marked_and_live_mode_is_not(
    client: httpx.AsyncClient, container: Container, merchant: Merchant
) -> None:
    await _signed_in(client, container, merchant, "viewer")
    page = (await client.get("/dashboard/payments")).text
    assert "Test mode: you are viewing test data" in page and 'class="top test"' in page
    await client.post("/dashboard/mode", data={"csrf_token": _csrf(page), "mode": "live"})
    live = (await client.get("/dashboard/payments")).text
    assert "Test mode" not in live and 'class="top live"' in live and "Mode: <strong>Live</strong>" in live


async def test_a_payments_page_shows_operations_3ds_risk_attempts_events_and_each_webhook_attempt(
    client: httpx.AsyncClient, container: Container, merchant: Merchant
) -> None:
    key = auth(merchant.test.secret_key)
    made = await client.post(
        "/v1/webhook_endpoints", json={"url": "http://127.0.0.1:9/hooks", "enabled_events": ["*"]}, headers=key
    )
    assert made.status_code == 201, made.text
    held = await client.post("/v1/payments", json=payment(capture_method="manual"), headers=key)
    pay_id = held.json()["id"]
    captured = await client.post(f"/v1/payments/{pay_id}/capture", json={"amount": 400}, headers=key)
    assert captured.json()["status"] == "completed", captured.text
    for _ in range(5):  # the endpoint refuses connections: each delivery's first attempt fails
        if not await container.deliveries.run_once(utcnow()):
            break
    blocked = await container.services.risk.add_block(merchant.id, "test", "email", "fraud@bad.test")
    assert blocked[1]
    refused = await client.post(
        "/v1/payments", json=payment("5555555555554444", customer={"email": "fraud@bad.test"}), headers=key
    )
    assert refused.json()["status"] == "failed", refused.text

    await _signed_in(client, container, merchant, "viewer")
    page = (await client.get(f"/dashboard/payments/{pay_id}")).text
    text = _text(page)
    timeline = _text(re.search(r'<ol class="timeline">(.*?)</ol>', page, re.S).group(1))  # type: ignore[union-attr]
    assert re.search(r"PA 10\.00 INR — succeeded .* CP 4\.00 INR — succeeded", timeline), timeline
    assert re.search(r"result Y ?, ECI 05, liability shift yes", text)
    assert re.search(r"visa 424242…4242 \S+ +allowed", text), "the card tried and its risk decision"
    events = [e["type"] for e in await _dash(container).payment_events(merchant.id, "test", pay_id)]
    assert events and all(e in text for e in events)
    hooks = re.search(r'aria-labelledby="h-hooks">(.*?)</section>', page, re.S).group(1)  # type: ignore[union-attr]
    assert "http://127.0.0.1:9/hooks" in hooks
    assert re.search(r"in \d+ ms", _text(hooks)), "each delivery attempt with its latency"
    assert "4242424242424242" not in page

    page = _text((await client.get(f"/dashboard/payments/{refused.json()['id']}")).text)
    decision = r"mastercard 555555…4444 failed customer_blocked refused: customer_blocked \(blocklist\)"
    assert re.search(decision, page), page


async def test_a_developer_is_refused_users_by_the_server_and_sign_in_needs_its_form_token(
    client: httpx.AsyncClient, container: Container, merchant: Merchant
) -> None:
    await _dash(container).create_user(merchant.id, "admin@shop.test", "admin", PASSWORD)
    forged = await client.post(
        "/dashboard/login", data={"email": "admin@shop.test", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert forged.status_code == 403 and "tessera_session" not in client.cookies
    await _signed_in(client, container, merchant, "developer")
    home = await client.get("/dashboard/")
    assert 'href="/dashboard/users"' not in home.text
    assert (await client.get("/dashboard/users")).status_code == 403
    made = await client.post(
        "/dashboard/users", data={"csrf_token": _csrf(home.text), "email": "x@shop.test", "role": "admin"}
    )
    assert made.status_code == 403
    assert [u.email for u in await _dash(container).list_users(merchant.id)] == [
        "admin@shop.test",
        "developer@shop.test",
    ]


async def test_the_callback_url_set_in_settings_is_the_one_callbacks_go_to_and_can_be_removed(
    client: httpx.AsyncClient, container: Container, merchant: Merchant
) -> None:
    await _signed_in(client, container, merchant, "developer")
    form = {"allowed_domains": "yoursite.com", "attempt_budget": "3", "threeds_policy": "auto"}
    token = _csrf((await client.get("/dashboard/developers/settings")).text)
    url = "https://yoursite.com/callback"  # one URL for both modes: HTTPS, as the merchant has live keys
    saved = await client.post("/dashboard/developers/settings", data={**form, "csrf_token": token, "callback_url": url})
    assert saved.status_code == 303, saved.text
    assert (await container.services.merchants.settings(merchant.id)).callback_urls == {"test": url, "live": url}
    assert f'value="{url}"' in (await client.get("/dashboard/developers/settings")).text
    await client.post("/dashboard/developers/settings", data={**form, "csrf_token": token, "callback_url": ""})
    assert (await container.services.merchants.settings(merchant.id)).callback_urls == {"test": None, "live": None}
