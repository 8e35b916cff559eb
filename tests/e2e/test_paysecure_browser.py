"""Seed 001's three steps in a real browser: headless Chromium (Playwright) against a fresh `tessera
serve`. The merchant's server creates a purchase and posts the card server to server; the shopper's
browser opens the callback_url, answers the sandbox bank's challenge, and lands on the merchant's
success_redirect (a declined card on its failure_redirect). The status API, not the redirect, is the
truth, and the signed success_callback reaches a real receiver and verifies with the public key."""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser

from tessera.dialects.paysecure.identity import signed_string, verify
from tests.e2e.browser import chromium
from tests.e2e.server import Server
from tests.integration.paysecure.helpers import purchase_body, s2s
from tests.receiver import Receiver

pytestmark = pytest.mark.e2e


class Shop:
    """The merchant's web pages the shopper lands on."""

    def __init__(self) -> None:
        self.visits: list[str] = []
        shop = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                shop.visits.append(self.path)
                title = "Thank you" if urlsplit(self.path).path == "/ok" else "Payment failed"
                self.send_response(200)
                self.send_header("content-type", "text/html")
                self.end_headers()
                self.wfile.write(f"<!doctype html><title>{title}</title><h1>{title}</h1>".encode())

            def log_message(self, *args: object) -> None:
                return None

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class ThreadedReceiver:
    """tests.receiver.Receiver on its own event loop, for a synchronous (Playwright) test."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.receiver = asyncio.run_coroutine_threadsafe(Receiver().start(), self.loop).result(10)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.receiver.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("paysecure") / "work", extra_env={"TESSERA_WEBHOOK_POLL_SECONDS": "0.05"})
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def merchant(server: Server) -> dict[str, str]:
    made = server.tessera("merchant", "create", "--name", "Shop", "--allow-domain", "127.0.0.1", "--json")
    assert made.returncode == 0, made.stderr
    creds: dict[str, str] = json.loads(made.stdout.splitlines()[0])
    assert str(uuid.UUID(creds["brand_id"])) == creds["brand_id"]  # printed as the contract says
    return creds


@pytest.fixture(scope="module")
def shop() -> Iterator[Shop]:
    found = Shop()
    yield found
    found.close()


@pytest.fixture(scope="module")
def hooks() -> Iterator[ThreadedReceiver]:
    found = ThreadedReceiver()
    yield found
    found.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def _api(server: Server, creds: dict[str, str], method: str, path: str, body: Any = None) -> httpx.Response:
    return httpx.request(
        method,
        f"{server.base_url}/paysecure/api/v1{path}",
        json=body,
        headers={"Authorization": f"Bearer {creds['secret_key']}"},
        timeout=30,
    )


def _steps_1_and_2(server: Server, creds: dict[str, str], shop: Shop, number: str, callback: str) -> tuple[str, str]:
    body = purchase_body(
        creds["brand_id"],
        success_redirect=f"{shop.url}/ok",
        failure_redirect=f"{shop.url}/ko",
        success_callback=callback,
        failure_callback=callback,
    )
    made = _api(server, creds, "POST", "/purchases/", body)
    assert made.status_code == 202, made.text
    pid = made.json()["purchaseId"]
    posted = _api(server, creds, "POST", f"/p/{pid}/?s2s=true", s2s(number))
    assert posted.status_code == 202, posted.text
    answer = posted.json()
    assert answer == {
        "status": "pending",
        "callback_url": f"{server.base_url}/paysecure/api/v1/payment/{pid}/",
        "method": "GET",
    }
    return pid, answer["callback_url"]


def test_seed_001s_three_steps_with_a_challenge_end_paid_with_a_signed_callback(
    server: Server, merchant: dict[str, str], shop: Shop, hooks: ThreadedReceiver, browser: Browser, tmp_path: Path
) -> None:
    pid, callback_url = _steps_1_and_2(server, merchant, shop, "4000002500003155", hooks.receiver.url)
    context = browser.new_context()
    page = context.new_page()
    page.goto(callback_url)  # step 3: the shopper's browser, no key
    otp = page.get_by_label("One-time password")
    otp.wait_for(timeout=15000)
    page.screenshot(path=str(tmp_path / "acs.png"))
    otp.fill("123456")
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(f"{shop.url}/ok?**", timeout=15000)
    assert parse_qs(urlsplit(page.url).query) == {"purchaseId": [pid], "status": ["paid"]}
    assert page.locator("h1").inner_text() == "Thank you"
    context.close()
    found = _api(server, merchant, "GET", f"/purchases/{pid}/").json()
    assert found["status"] == "PAID" and found["transaction_data"]["extra"]["masked_pan"] == "400000******3155"
    pem = _api(server, merchant, "GET", "/public_key/").text
    deadline = time.monotonic() + 15
    while not hooks.receiver.received and time.monotonic() < deadline:
        time.sleep(0.05)
    [got] = [r for r in hooks.receiver.received if r.json["message"]["purchaseId"] == pid]
    assert got.json["message"]["status"] == "PAID"
    assert verify(pem, signed_string(pid, "PAID", merchant["brand_id"]), got.headers["paysecure-sign"])


def test_a_declined_card_lands_on_failure_redirect(
    server: Server, merchant: dict[str, str], shop: Shop, hooks: ThreadedReceiver, browser: Browser
) -> None:
    pid, callback_url = _steps_1_and_2(server, merchant, shop, "4000000000000002", hooks.receiver.url)
    context = browser.new_context()
    page = context.new_page()
    page.goto(callback_url)
    page.wait_for_url(f"{shop.url}/ko?**", timeout=15000)
    assert page.locator("h1").inner_text() == "Payment failed"
    context.close()
    assert _api(server, merchant, "GET", f"/purchases/{pid}/").json()["status"] == "ERROR"
