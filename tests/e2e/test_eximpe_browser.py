"""Seed 000's 3-D Secure flow in a real browser: Chromium (headless, via Playwright) against a real
`tessera serve` and the demo merchant. A small merchant site plays the seed's frontend: its page runs the
seed's JavaScript (`handleACSTemplate`: decode, `window.open`, `document.write`, watch the window close,
then `checkPaymentStatus` through the merchant's backend, which asks the Order Status API)."""

from __future__ import annotations

import base64
import copy
import http.server
import json
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser
from standardwebhooks.webhooks import Webhook

from tests.e2e.browser import chromium
from tests.e2e.server import Server
from tests.integration.test_eximpe_orders import NEW_CARD_ORDER, SAVED_CARD_ORDER
from tests.pg import free_port

pytestmark = pytest.mark.e2e

# The seed's "Frontend Implementation Example", with the order id it hard-codes taken from the page.
SEED_SCRIPT = """
function handleACSTemplate(acsTemplate) {
  const decodedHTML = atob(acsTemplate);
  const authWindow = window.open('', '3DS_Auth', 'width=600,height=400');
  authWindow.document.write(decodedHTML);
  authWindow.document.close();
  const checkClosed = setInterval(() => {
    if (authWindow.closed) {
      clearInterval(checkClosed);
      checkPaymentStatus();
    }
  }, 1000);
}
function checkPaymentStatus() {
  fetch('/api/check-payment-status', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ order_id: window.ORDER_ID })
  })
  .then(response => response.json())
  .then(data => {
    if (data.status === 'SUCCESS') {
      window.location.href = '/payment-success';
    } else if (data.status === 'FAILED') {
      document.getElementById('message').textContent = 'Payment failed. Please try again.';
    } else {
      setTimeout(checkPaymentStatus, 2000);
    }
  });
}
"""

CHECKOUT = f"""<!doctype html><html><head><title>Checkout</title><script>{SEED_SCRIPT}</script></head>
<body><h1>Checkout</h1><button id="pay" onclick="handleACSTemplate(window.ACS_TEMPLATE)">Pay</button>
<p id="message"></p></body></html>"""
# The return_url's page: the shopper is back; the 3-D Secure window closes itself, as the seed's
# frontend expects (it watches for the window to close).
CALLBACK = """<!doctype html><html><head><title>Returned</title></head><body><h1>Back at the shop</h1>
<script>if (window.opener) { setTimeout(() => window.close(), 300); }</script></body></html>"""
SUCCESS = "<!doctype html><html><head><title>Paid</title></head><body><h1>Thank you for your order</h1></body></html>"
CALLBACK_PATH = "/eximpe/callback"  # the merchant's server-to-server callback URL
SEED_STATUS_WORDS = {"payment_successful": "SUCCESS", "failed": "FAILED"}


class MerchantSite:
    """The merchant's web server: checkout page, return_url page, and a backend that checks an order
    with EximPe's Order Status API (the X-Client-* headers stay on the server)."""

    def __init__(self, tessera: Server, port: int) -> None:
        self.tessera = tessera
        self.port = port
        self.returns: list[str] = []
        self.callbacks: list[tuple[dict[str, str], bytes]] = []  # seed 000's server-to-server callbacks
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _send(self, status: int, body: str, kind: str = "text/html") -> None:
                self.send_response(status)
                self.send_header("content-type", kind)
                self.end_headers()
                self.wfile.write(body.encode())

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                path = urlsplit(self.path).path
                if path == "/checkout":
                    self._send(200, CHECKOUT)
                elif path == "/payment/callback/":
                    site.returns.append(self.path)
                    self._send(200, CALLBACK)
                elif path == "/payment-success":
                    self._send(200, SUCCESS)
                else:
                    self._send(404, "not found")

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["content-length"]))
                if urlsplit(self.path).path == CALLBACK_PATH:
                    site.callbacks.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    self._send(200, "{}", "application/json")
                    return
                asked = json.loads(body)
                status = site.order_status(asked["order_id"])["status"]
                self._send(200, json.dumps({"status": SEED_STATUS_WORDS.get(status, "PENDING")}), "application/json")

            def log_message(self, *args: object) -> None:
                return None

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def headers(self) -> dict[str, str]:
        creds = self.tessera.credentials()
        return {
            "X-Client-ID": creds["client_id"],
            "X-Client-Secret": creds["secret_key"],
            "X-Merchant-ID": creds["merchant_id"],
            "X-API-Version": "1.0.0",
        }

    def order_status(self, order_id: str) -> dict[str, Any]:
        r = httpx.get(f"{self.tessera.base_url}/eximpe/pg/orders/{order_id}/status/", headers=self.headers())
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()["data"]
        return data

    def create_order(self, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{self.tessera.base_url}/eximpe/pg/orders/", json=body, headers=self.headers())

    def callback_for(self, order_id: str, timeout: float = 15) -> dict[str, Any]:
        """Seed 000's callback about this order, once its signature verifies with the webhook secret."""
        secret = self.tessera.credentials()["webhook_secret"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for headers, body in self.callbacks:
                found: dict[str, Any] = Webhook(secret).verify(body, headers)
                if found["data"]["order_id"] == order_id:
                    return found
            time.sleep(0.1)
        raise AssertionError(f"no callback for {order_id}")

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def site_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, site_port: int) -> Iterator[Server]:
    """The demo merchant's callback URL is the merchant site's (it is set when the merchant is made)."""
    env = {
        "TESSERA_DEMO_CALLBACK_URL": f"http://127.0.0.1:{site_port}{CALLBACK_PATH}",
        "TESSERA_WEBHOOK_POLL_SECONDS": "0.05",
    }
    srv = Server(tmp_path_factory.mktemp("eximpe") / "work", extra_env=env).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def site(server: Server, site_port: int) -> Iterator[MerchantSite]:
    shop = MerchantSite(server, site_port)
    yield shop
    shop.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def _seed_order(site: MerchantSite, number: str | None = None) -> dict[str, Any]:
    """Seed 000's new-card order, returning to the merchant site (the seed's yoursite.com is not served)."""
    body = copy.deepcopy(NEW_CARD_ORDER)
    body["reference_id"] = f"CARD_{secrets.token_hex(6).upper()}"
    body["return_url"] = f"{site.url}/payment/callback/"
    if number:
        body["card_details"]["number"] = number
    r = site.create_order(body)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


@pytest.mark.parametrize(("otp", "outcome"), [("123456", "payment_successful"), ("000000", "failed")])
def test_the_seeds_javascript_renders_the_acs_template_and_the_shopper_returns_with_the_order_settled(
    server: Server, site: MerchantSite, browser: Browser, otp: str, outcome: str, tmp_path: Path
) -> None:
    order = _seed_order(site)
    assert order["status"] == "payment_pending"
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{site.url}/checkout")
    page.evaluate("([id, template]) => { window.ORDER_ID = id; window.ACS_TEMPLATE = template; }",
                  [order["order_id"], order["acs_template"]])  # fmt: skip
    with page.expect_popup() as opened:
        page.click("#pay")
    popup = opened.value
    otp_field = popup.get_by_label("One-time password")  # the form auto-submitted to the sandbox ACS
    otp_field.wait_for(timeout=15000)
    assert popup.get_by_text("INR 1,000.00").is_visible() and popup.get_by_text("489538******0003").is_visible()
    popup.screenshot(path=str(tmp_path / "acs.png"))
    otp_field.fill(otp)
    popup.get_by_role("button", name="Submit").click()
    popup.wait_for_event("close", timeout=15000)  # the return_url's page closed the window
    back = parse_qs(urlsplit(site.returns[-1]).query)
    assert back == {"order_id": [order["order_id"]], "status": [outcome]}
    if outcome == "payment_successful":
        page.wait_for_url(f"{site.url}/payment-success", timeout=15000)  # the seed's checkPaymentStatus
        assert page.locator("h1").inner_text() == "Thank you for your order"
    else:
        page.get_by_text("Payment failed. Please try again.").wait_for(timeout=15000)
    # The truth is the Order Status API, not the redirect.
    found = site.order_status(order["order_id"])
    assert found["status"] == outcome
    assert found["error_code"] == (None if outcome == "payment_successful" else "3DS_FAILED")
    assert bool(found["card"]["card_token"]) is (outcome == "payment_successful")  # save_card: only on success
    # ...and the merchant's server heard it too: seed 000's callback, signed, with the final status.
    callback = site.callback_for(order["order_id"])
    succeeded = outcome == "payment_successful"
    assert callback["event_type"] == ("PAYMENT_SUCCESSFUL" if succeeded else "PAYMENT_FAILED")
    assert callback["version"] == "1.0" and callback["data"]["status"] == ("captured" if succeeded else "failed")
    assert callback["data"]["mop_type"] == "debit_card"
    if succeeded:
        assert callback["data"]["payment_id"] == found["payment_id"]
        assert callback["data"]["bank_ref_num"] == found["bank_ref_num"]
    context.close()


def test_the_acs_template_works_with_javascript_off(server: Server, site: MerchantSite, browser: Browser) -> None:
    """Without JavaScript the template cannot be written by script; opened as a page, its <noscript>
    button carries the shopper to the bank, and the challenge ends on the return_url."""
    order = _seed_order(site)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    encoded = base64.b64encode(base64.b64decode(order["acs_template"])).decode()
    page.goto(f"data:text/html;base64,{encoded}")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("One-time password").fill("123456")
    page.get_by_role("button", name="Submit").click()
    page.get_by_role("button", name="Continue").click()  # the CRes back to the gateway
    page.wait_for_url(f"{site.url}/payment/callback/?**", timeout=15000)
    assert parse_qs(urlsplit(page.url).query)["status"] == ["payment_successful"]
    assert site.order_status(order["order_id"])["status"] == "payment_successful"
    context.close()


def test_seed_000s_bodies_run_as_written_against_the_demo_merchant(server: Server, site: MerchantSite) -> None:
    """The saved-card order names the seed's token, which the demo merchant holds in test mode; the
    new-card order with `save_card` for the same owner and card finds that same saved card."""
    saved = site.create_order(copy.deepcopy(SAVED_CARD_ORDER))
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["success"] is True and body["message"] == "S2S Card Payment Request created successfully"
    assert body["data"]["order_id"] and base64.b64decode(body["data"]["acs_template"]).startswith(b"<!")
    new = site.create_order(copy.deepcopy(NEW_CARD_ORDER))
    assert new.status_code == 200, new.text
    assert new.json()["data"]["acs_template"]
    again = site.create_order(copy.deepcopy(SAVED_CARD_ORDER))  # the same reference_id: the same order
    assert again.status_code == 409
    tokens = httpx.get(
        f"{server.base_url}/eximpe/pg/tokens/", params={"identifier": "EX0001"}, headers=site.headers()
    ).json()
    assert [c["card_token"] for c in tokens["data"]] == ["1e6709282a21e83f43a020"]
