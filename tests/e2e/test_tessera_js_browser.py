"""Seed 002 in a real browser (issue 14): headless Chromium on `tessera demo-shop`, a shop on another
origin (http://localhost:P) than the API (http://127.0.0.1:Q), whose page tokenizes the card with
tessera.js served by Tessera and whose backend pays with the token and its secret key. A frictionless
card is paid, a challenge card goes through the 3-D Secure helper's modal, a declined card shows its
message, a Luhn typo is caught before any request; and no card number reaches the shop's server (its
request log), the page's storage or its console."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request

from tests.e2e.browser import chromium
from tests.e2e.server import Server
from tests.pg import free_port

pytestmark = pytest.mark.e2e

CARDS = ("4242424242424242", "4000002500003155", "4000000000000002", "4242424242424241")


@dataclass
class Shop:
    url: str
    process: subprocess.Popen[bytes]

    def log(self) -> list[dict[str, str]]:
        """What the shop's server received, but for the test's own readings of this log."""
        entries: list[dict[str, str]] = httpx.get(f"{self.url}/requests.json", timeout=10).json()
        return [e for e in entries if e["path"] != "/requests.json"]


@dataclass
class Checkout:
    """A shopper's tab on the shop, with what it asked the network and printed to its console."""

    page: Page
    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def pay(self, number: str, expiry: str = "12 / 30", cvc: str = "123") -> None:
        self.page.get_by_label("Card number").press_sequentially(number)
        self.page.get_by_label("Expiry date (MM / YY)").press_sequentially(expiry)
        self.page.get_by_label("Security code (CVC)").fill(cvc)
        self.page.get_by_label("Name on the card").fill("Jane Doe")
        self.page.get_by_role("button", name="Pay").click()

    def outcome(self, text: str) -> str:
        locator = self.page.locator("#outcome", has_text=text)
        locator.wait_for(timeout=20000)
        return locator.inner_text()

    def storage(self) -> str:
        return str(self.page.evaluate("() => JSON.stringify([localStorage, sessionStorage, document.cookie])"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("tesserajs") / "work")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def shop(server: Server) -> Iterator[Shop]:
    port = free_port()
    out = (server.workdir / "shop.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "tessera", "demo-shop", "--port", str(port), "--tessera-url", server.base_url],
        cwd=server.workdir,
        env=server.env(),
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    found = Shop(f"http://localhost:{port}", process)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, (server.workdir / "shop.log").read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield found
    process.terminate()
    process.wait(timeout=15)
    out.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture
def checkout(browser: Browser, shop: Shop) -> Iterator[Checkout]:
    context = browser.new_context()
    page = context.new_page()
    found = Checkout(page)
    page.on("request", lambda r: found.requests.append(f"{r.method} {r.url}") if isinstance(r, Request) else None)
    page.on("console", lambda m: found.console.append(m.text) if isinstance(m, ConsoleMessage) else None)
    page.goto(f"{shop.url}/")
    page.get_by_label("Card number").wait_for(timeout=15000)
    yield found
    for number in CARDS:
        assert number not in found.storage()
        assert not any(number in line.replace(" ", "") for line in found.console)
    context.close()


def _payment(server: Server, payment_id: str) -> dict[str, object]:
    secret = server.credentials()["secret_key"]
    found: dict[str, object] = httpx.get(
        f"{server.base_url}/v1/payments/{payment_id}", headers={"Authorization": f"Bearer {secret}"}, timeout=10
    ).json()
    return found


def test_a_frictionless_card_is_paid_end_to_end_from_another_origin(
    server: Server, shop: Shop, checkout: Checkout, tmp_path: Path
) -> None:
    assert not shop.url.startswith(server.base_url)
    checkout.page.get_by_label("Card number").press_sequentially("4242424242424242")
    assert checkout.page.get_by_label("Card number").input_value() == "4242 4242 4242 4242"
    assert checkout.page.locator(".tessera-brand").inner_text() == "Visa"
    checkout.page.get_by_label("Card number").fill("")
    checkout.pay("4242424242424242")
    text = checkout.outcome("Payment successful")
    payment_id = text.rsplit(" ", 1)[-1]
    assert _payment(server, payment_id)["status"] == "completed"
    tokens = [r for r in checkout.requests if r.endswith("/v1/tokens")]
    assert tokens == [f"POST {server.base_url}/v1/tokens"]
    checkout.page.screenshot(path=str(tmp_path / "demo-shop.png"))  # the README's docs/img/demo-shop.png


def test_a_challenge_card_is_paid_through_the_3ds_helpers_modal(server: Server, checkout: Checkout) -> None:
    checkout.pay("4000002500003155")
    dialog = checkout.page.get_by_role("dialog", name="Confirm the payment with your bank")
    dialog.wait_for(timeout=15000)
    frame = checkout.page.frame_locator('iframe[title="Your bank\'s verification page"]')
    frame.get_by_label("One-time password").fill("123456")
    frame.get_by_role("button", name="Submit").click()
    text = checkout.outcome("Payment successful")
    assert checkout.page.get_by_role("dialog").count() == 0
    payment = _payment(server, text.rsplit(" ", 1)[-1])
    assert payment["status"] == "completed"
    assert isinstance(payment["authentication"], dict) and payment["authentication"]["status"] == "Y"


def test_the_3ds_helpers_redirect_mode_returns_the_whole_window_to_the_shop(
    server: Server, shop: Shop, checkout: Checkout
) -> None:
    checkout.page.goto(f"{shop.url}/?3ds=redirect")
    checkout.pay("4000002500003155")
    otp = checkout.page.get_by_label("One-time password")
    otp.wait_for(timeout=15000)
    assert checkout.page.url.startswith(server.base_url)
    otp.fill("123456")
    checkout.page.get_by_role("button", name="Submit").click()
    checkout.page.wait_for_url(f"{shop.url}/3ds-return?**", timeout=15000)
    text = checkout.outcome("Payment successful")
    assert _payment(server, text.rsplit(" ", 1)[-1])["status"] == "completed"


def test_a_declined_card_is_shown_with_its_message(server: Server, checkout: Checkout) -> None:
    checkout.pay("4000000000000002")
    text = checkout.outcome("Payment declined")
    assert text.startswith("Payment declined: ") and len(text) > len("Payment declined: ")


def test_a_typo_in_the_number_is_caught_before_any_request(shop: Shop, checkout: Checkout) -> None:
    before = len(shop.log())
    checkout.pay("4242424242424241")
    error = checkout.page.locator(".tessera-field-number .tessera-error")
    error.wait_for(timeout=5000)
    assert "not valid" in error.inner_text()
    assert checkout.page.get_by_label("Card number").get_attribute("aria-invalid") == "true"
    checkout.page.wait_for_timeout(300)  # a request the page would make has had time to start
    assert not [r for r in checkout.requests if "/v1/tokens" in r or "/api/pay" in r]
    assert len(shop.log()) == before


def test_the_shops_server_received_tokens_and_never_a_card_number(shop: Shop, checkout: Checkout) -> None:
    checkout.pay("4242424242424242")
    checkout.outcome("Payment successful")
    log = shop.log()
    pays = [e for e in log if e["path"] == "/api/pay"]
    assert pays and all(json.loads(e["body"])["token"].startswith("tok_") for e in pays)
    dump = re.sub(r"[\s-]", "", json.dumps(log))  # not even a spaced-out form of one
    for number in CARDS:
        assert number not in dump


def test_the_3ds_helper_ends_on_tesseras_own_page_for_a_payment_without_a_return_url(
    server: Server, checkout: Checkout
) -> None:
    """A payment made without a return_url ends on Tessera's status page inside the modal, which tells the
    helper the payment's id and status by a message from the API's origin."""
    creds = server.credentials()
    body = {
        "amount": 1000,
        "currency": "INR",
        "card": {"number": "4000002500003155", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        "browser": {"ip": "203.0.113.7", "user_agent": "Mozilla/5.0"},
    }
    made = httpx.post(
        f"{server.base_url}/v1/payments", json=body, headers={"Authorization": f"Bearer {creds['secret_key']}"}
    ).json()
    assert made["status"] == "requires_action" and made["return_url"] is None
    script = "([pk, url]) => { window.__done = Tessera(pk).handleNextAction(url); }"
    checkout.page.evaluate(script, [creds["publishable_key"], made["redirect_url"]])
    frame = checkout.page.frame_locator('iframe[title="Your bank\'s verification page"]')
    frame.get_by_label("One-time password").fill("123456")
    frame.get_by_role("button", name="Submit").click()
    result = checkout.page.evaluate("() => window.__done")
    assert result == {"id": made["id"], "status": "completed"}
    assert checkout.page.get_by_role("dialog").count() == 0
    assert _payment(server, made["id"])["status"] == "completed"
