"""Seed 003's asynchronous PA in a real browser: headless Chromium (Playwright) against a fresh `tessera
serve`. The merchant's server posts the PA with a challenge card; its page renders the answer's
`redirect` as a form (OPPWA's instructions: `url` as the action, `method`, each parameter a hidden input);
the shopper answers the sandbox bank's challenge and lands on shopperResultUrl with `id` and
`resourcePath`; the merchant's server then makes the status call at that path."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from html import escape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser

from tests.e2e.browser import chromium
from tests.e2e.server import Server
from tests.integration.oppwa.helpers import CHALLENGE, card_form

pytestmark = pytest.mark.e2e


class Shop:
    """The merchant's site: `/pay` renders the redirect it is given as a form; `/result` is shopperResultUrl."""

    def __init__(self) -> None:
        self.redirect: dict[str, object] = {}
        shop = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                if urlsplit(self.path).path == "/pay":
                    page = shop.form_page()
                else:
                    page = "<!doctype html><title>Thank you</title><h1>Checking your payment</h1>"
                self.send_response(200)
                self.send_header("content-type", "text/html")
                self.end_headers()
                self.wfile.write(page.encode())

            def log_message(self, *args: object) -> None:
                return None

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def form_page(self) -> str:
        r = self.redirect
        inputs = "".join(
            f'<input type="hidden" name="{escape(str(p["name"]))}" value="{escape(str(p["value"]))}">'
            for p in r["parameters"]  # type: ignore[attr-defined]
        )
        return (
            "<!doctype html><title>Redirecting</title>"
            f'<form id="go" action="{escape(str(r["url"]))}" method="{escape(str(r.get("method") or "POST"))}">'
            f'{inputs}<button type="submit">Pay</button></form>'
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("oppwa-browser") / "work")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def creds(server: Server) -> dict[str, str]:
    made = server.tessera("merchant", "create", "--name", "Shop", "--allow-domain", "127.0.0.1", "--json")
    assert made.returncode == 0, made.stderr
    found: dict[str, str] = json.loads(made.stdout.splitlines()[0])
    return found


@pytest.fixture(scope="module")
def shop() -> Iterator[Shop]:
    found = Shop()
    yield found
    found.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def test_a_challenged_pa_lands_on_shopper_result_url_then_the_status_call_says_success(
    server: Server, creds: dict[str, str], shop: Shop, browser: Browser, tmp_path: Path
) -> None:
    headers = {"Authorization": f"Bearer {creds['secret_key']}"}
    form = {"entityId": creds["entity_id"]} | card_form(CHALLENGE, shopperResultUrl=f"{shop.url}/result")
    started = httpx.post(f"{server.base_url}/oppwa/v1/payments", data=form, headers=headers, timeout=30)
    assert started.status_code == 200, started.text
    body = started.json()
    assert body["result"]["code"] == "000.200.000" and body["redirect"]["method"] == "POST"
    shop.redirect = body["redirect"]

    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{shop.url}/pay")
    page.get_by_role("button", name="Pay").click()
    otp = page.get_by_label("One-time password")
    otp.wait_for(timeout=15000)
    page.screenshot(path=str(tmp_path / "acs.png"))
    otp.fill("123456")
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(f"{shop.url}/result?**", timeout=15000)
    query = parse_qs(urlsplit(page.url).query)
    context.close()
    assert query == {"id": [body["id"]], "resourcePath": [f"/v1/payments/{body['id']}"]}

    status = httpx.get(
        f"{server.base_url}/oppwa{query['resourcePath'][0]}",
        params={"entityId": creds["entity_id"]},
        headers=headers,
        timeout=30,
    )
    assert status.status_code == 200, status.text
    final = status.json()
    assert (final["id"], final["paymentType"], final["result"]["code"]) == (body["id"], "PA", "000.100.110")
    assert final["threeDSecure"]["eci"] == "05" and "redirect" not in final
