"""3-D Secure in a real browser: Chromium (headless, via Playwright) against a real `tessera serve`,
ending on the merchant's return page, which a small local HTTP server plays."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.browser import chromium
from tests.e2e.server import Server
from tests.factories import BROWSER
from tests.pg import free_port

pytestmark = pytest.mark.e2e


class _MerchantPage(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.end_headers()
        self.wfile.write(b"<!doctype html><title>Thanks</title><h1>Back at the shop</h1>")

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture(scope="module")
def merchant_site() -> Iterator[str]:
    port = free_port()
    site = http.server.ThreadingHTTPServer(("127.0.0.1", port), _MerchantPage)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/return"
    site.shutdown()
    site.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("threeds") / "work").start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def _pay(server: Server, number: str, return_url: str) -> dict[str, object]:
    sk = {"Authorization": f"Bearer {server.credentials()['secret_key']}"}
    card = {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123", "name": "Asha Rao"}
    r = httpx.post(
        f"{server.base_url}/v1/payments",
        headers=sk,
        json={"amount": 250000, "currency": "INR", "card": card, "browser": BROWSER, "return_url": return_url},
    )
    assert r.status_code in (201, 202, 400), r.text
    body: dict[str, object] = r.json()
    return body


def _status(server: Server, payment_id: object) -> str:
    sk = {"Authorization": f"Bearer {server.credentials()['secret_key']}"}
    return str(httpx.get(f"{server.base_url}/v1/payments/{payment_id}", headers=sk).json()["status"])


def _landed(page: Page, merchant_site: str, payment_id: object) -> str:
    page.wait_for_url(f"{merchant_site}?**", timeout=15000)
    query = parse_qs(urlsplit(page.url).query)
    assert query["payment_id"] == [str(payment_id)]
    assert page.locator("h1").inner_text() == "Back at the shop"
    return query["status"][0]


@pytest.mark.parametrize(
    ("otp", "button", "expected"),
    [
        ("123456", "Submit", "completed"),
        ("111111", "Submit", "failed"),
        ("", "Cancel", "failed"),
    ],
)
def test_the_challenge_in_a_browser_ends_on_the_merchants_page(
    server: Server, browser: Browser, merchant_site: str, otp: str, button: str, expected: str, tmp_path: Path
) -> None:
    created = _pay(server, "4000002500003155", merchant_site)
    assert created["status"] == "requires_action"
    page = browser.new_page()
    page.goto(str(created["redirect_url"]))  # the form auto-submits the CReq to the ACS
    otp_field = page.get_by_label("One-time password")
    otp_field.wait_for(timeout=15000)
    assert otp_field.get_attribute("autocomplete") == "one-time-code"
    assert page.get_by_text("INR 2,500.00").is_visible() and page.get_by_text("400000******3155").is_visible()
    page.screenshot(path=str(tmp_path / "challenge.png"))
    otp_field.fill(otp)
    page.get_by_role("button", name=button).click()
    assert _landed(page, merchant_site, created["id"]) == expected
    assert _status(server, created["id"]) == expected  # the truth is the payment, not the redirect
    page.close()


def test_the_challenge_works_with_javascript_off(server: Server, browser: Browser, merchant_site: str) -> None:
    created = _pay(server, "4895380110000003", merchant_site)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(str(created["redirect_url"]))
    page.get_by_role("button", name="Continue").click()  # the <noscript> button carries the CReq
    page.get_by_label("One-time password").fill("123456")
    page.get_by_role("button", name="Submit").click()
    page.get_by_role("button", name="Continue").click()  # and the CRes back to the gateway
    assert _landed(page, merchant_site, created["id"]) == "completed"
    context.close()


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("4242424242424242", "completed"),
        ("5555555555554444", "completed"),
        ("4000000000003097", "completed"),
        ("4000000000003105", "completed"),
        ("4000000000003089", "failed"),
    ],
)
def test_frictionless_cards_end_on_the_merchants_page_with_their_status(
    server: Server, browser: Browser, merchant_site: str, number: str, expected: str
) -> None:
    created = _pay(server, number, merchant_site)
    assert created["status"] == expected and created["redirect_url"] is None
    page = browser.new_page()
    page.goto(f"{server.base_url}/shopper/payments/{created['id']}/authenticate")
    assert _landed(page, merchant_site, created["id"]) == expected
    page.close()
