"""The merchant dashboard in real Chromium (Playwright) against a fresh `tessera serve`: the demo login
`serve` printed signs in; every page renders without a console error; capture, void, refund, rolling a
key, adding a domain, adding a webhook endpoint, redelivering and blocking an email each work and land in
the audit log; a viewer is refused by the server; a forged CSRF token and another merchant's payment are
refused; no card number appears in any page; sign-in and a capture work from the keyboard alone and axe-core
finds no serious violation on any page. Screenshots of the main pages go to docs/img/."""

from __future__ import annotations

import http.server
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.browser import chromium
from tests.e2e.server import Server
from tests.factories import payment

pytestmark = pytest.mark.e2e

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"
CARDS = ("4242424242424242", "5555555555554444", "4111111111111111", "4000000000009995")
VIEWER_PASSWORD = "viewer password 123"


class Hooks:
    """A merchant's webhook receiver: counts what it is sent."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        hooks = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                hooks.received.append(self.rfile.read(int(self.headers.get("content-length", 0))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("dashboard") / "work", extra_env={"TESSERA_WEBHOOK_POLL_SECONDS": "0.05"})
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def hooks() -> Iterator[Hooks]:
    found = Hooks()
    yield found
    found.close()


def _pay(server: Server, key: str, number: str, **extra: Any) -> dict[str, Any]:
    body = payment(number, amount=1000, reference=f"order-{time.monotonic_ns()}", **extra)
    r = httpx.post(f"{server.base_url}/v1/payments", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert r.status_code in (200, 201), r.text
    found: dict[str, Any] = r.json()
    return found


class Watched:
    """A page whose console errors and uncaught exceptions are collected, and whose HTML is checked for
    card numbers on every visit."""

    def __init__(self, page: Page, base: str) -> None:
        self.page = page
        self.base = base
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(f"{m.text} at {m.location}") if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def goto(self, path: str) -> Page:
        self.page.goto(f"{self.base}{path}")
        self.check()
        return self.page

    def check(self) -> None:
        html = self.page.content()
        assert not [c for c in CARDS if c in html], "a full card number is in the page"
        assert not self.errors, self.errors

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"dashboard-{name}.png"), full_page=True)


def _sign_in(w: Watched, email: str, password: str) -> None:
    page = w.goto("/")
    assert page.url.endswith("/dashboard/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{w.base}/dashboard/")
    w.check()


def _act(w: Watched, payment_id: str, action: str, amount: str | None) -> str:
    page = w.goto(f"/dashboard/payments/{payment_id}")
    page.get_by_role("link", name=action.capitalize(), exact=True).click()
    page.wait_for_url(f"**/{action}")
    if amount is not None:
        page.get_by_label(f"Amount to {action}", exact=False).fill(amount)
    page.get_by_role("button", name=f"Confirm {action}").click()
    page.wait_for_url(f"**/payments/{payment_id}?notice=*")
    w.check()
    return page.get_by_role("status").inner_text()


def test_the_dashboard_in_chromium(server: Server, browser: Browser, hooks: Hooks) -> None:
    creds = server.credentials()
    assert f"password         {creds['dashboard_password']}" in server.output()  # `serve` printed the login
    key = creds["secret_key"]
    held = [_pay(server, key, CARDS[0], capture_method="manual", customer={"email": "ana@shop.test"}) for _ in range(2)]
    paid = _pay(server, key, CARDS[1])
    assert paid["status"] == "completed"
    declined = httpx.post(
        f"{server.base_url}/v1/payments", json=payment(CARDS[3]), headers={"Authorization": f"Bearer {key}"}
    )
    assert declined.json()["status"] == "failed"
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    w = Watched(context.new_page(), server.base_url)
    w.goto("/dashboard/login")
    w.shot("sign-in")
    _sign_in(w, creds["dashboard_email"], creds["dashboard_password"])
    assert w.page.get_by_role("note").inner_text().startswith("Test mode")
    charts = w.page.locator("svg[role=img]")
    assert charts.count() == 5
    assert "75.0%" in w.page.locator(".kpi").inner_text()  # 3 approved, 1 declined
    assert w.page.locator("svg[aria-label='Decline reasons'] text", has_text="INSUFFICIENT_FUNDS").count() == 1
    assert w.page.locator("svg[aria-label='Payments by dialect'] text", has_text="native").count() == 1
    w.shot("home")

    page = w.goto("/dashboard/payments?status=authorized")
    rows = page.locator("tbody tr")
    assert rows.count() == 2 and "authorized" in rows.first.inner_text()
    w.goto("/dashboard/payments?email=ana%40shop.test")
    assert page.locator("tbody tr").count() == 2
    w.goto("/dashboard/payments")
    page.get_by_label("Search by payment id or reference").fill(paid["id"])
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url(f"**/payments/{paid['id']}")
    w.goto("/dashboard/payments")
    page.get_by_label("Search by payment id or reference").fill(held[0]["reference"])
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url("**q=order-*")
    assert page.locator("tbody tr").count() == 1
    w.goto("/dashboard/payments")
    w.shot("payments")

    assert "Capture done" in _act(w, held[0]["id"], "capture", "4.00")
    assert "now captured" in page.get_by_role("status").inner_text()
    assert page.get_by_text("CP 4.00 INR").count() == 1
    w.shot("payment")
    assert "Void done" in _act(w, held[1]["id"], "void", None)
    assert "Refund done" in _act(w, paid["id"], "refund", "2.50")

    w.goto("/dashboard/developers/api-access")
    assert creds["client_id"] in page.content() and creds["merchant_id"] in page.content()
    assert page.locator("#publishable-key").inner_text() == creds["publishable_key"]
    for name in ("Brand ID", "Entity ID"):  # Paysecure's and OPPWA's ids, registered by their dialects
        shown = page.locator(f"dt:text-is('{name}') + dd").inner_text()
        assert shown and shown != creds["merchant_id"], name
    page.get_by_label("The old secret key keeps working for").select_option("0")
    page.get_by_role("button", name="Roll the test secret key").click()
    new_key = page.locator("#new-secret").inner_text()
    assert new_key.startswith("sk_test_") and new_key != key
    w.check()
    w.shot("api-access")
    old = httpx.get(f"{server.base_url}/v1/payments", headers={"Authorization": f"Bearer {key}"})
    assert old.status_code == 401
    key = new_key

    w.goto("/dashboard/developers/settings")
    domains = page.get_by_label("Allowed return-URL domains (one a line)")
    domains.fill(domains.input_value() + "\nshop.example")
    page.get_by_role("button", name="Save settings").click()
    page.wait_for_url("**/settings?notice=*")
    w.check()
    w.shot("settings")
    assert "shop.example" in page.get_by_label("Allowed return-URL domains (one a line)").input_value()

    w.goto("/dashboard/developers/webhooks")
    page.get_by_label("Endpoint URL").fill(hooks.url)
    page.get_by_role("button", name="Add endpoint (all events)").click()
    assert page.locator("#new-secret").inner_text().startswith("whsec_")
    w.check()
    w.shot("webhooks")
    _pay(server, key, CARDS[2])
    deadline = time.monotonic() + 20
    while not hooks.received and time.monotonic() < deadline:
        time.sleep(0.1)
    assert hooks.received, "no webhook reached the endpoint"
    page.get_by_role("link", name="we_", exact=False).first.click()
    page.wait_for_url("**/webhooks/we_*")
    w.check()
    assert re.search(r"\b200 in \d+ ms", page.locator("main table").inner_text()), "an attempt's status and latency"
    page.get_by_role("button", name="Redeliver").first.click()
    page.wait_for_url("**?notice=*")
    assert "queued again" in page.get_by_role("status").inner_text()
    page.get_by_label("Old secret keeps signing for").select_option("24")
    page.get_by_role("button", name="Rotate the signing secret").click()
    assert page.locator("#new-secret").inner_text().startswith("whsec_")
    assert "The old secret also signs until" in page.content()
    w.check()

    w.goto("/dashboard/developers/saved-cards")
    page.get_by_label("Owner", exact=False).fill("EX0001")
    page.get_by_role("button", name="Find cards").click()
    page.wait_for_url("**identifier=EX0001")
    assert page.get_by_role("cell", name="1e6709282a21e83f43a020", exact=True).count() == 1  # seed 000's saved card
    w.check()
    w.shot("saved-cards")
    page.get_by_role("button", name="Delete card 1e6709282a21e83f43a020").click()
    page.wait_for_url("**notice=*")
    assert "No saved cards for this owner" in page.content()

    w.goto("/dashboard/users")
    page.get_by_label("Email").fill("new.dev@shop.test")
    page.get_by_label("Role").select_option("developer")
    page.get_by_role("button", name="Add user").click()
    assert len(page.locator("#new-secret").inner_text()) >= 20
    assert page.get_by_role("cell", name="new.dev@shop.test", exact=True).count() == 1
    w.check()

    w.goto("/dashboard/developers/risk")
    page.get_by_label("Type").select_option("email")
    page.get_by_label("Value").fill("fraud@bad.test")
    page.get_by_role("button", name="Block").click()
    page.wait_for_url("**/risk?notice=*")
    assert page.get_by_role("cell", name="fraud@bad.test", exact=True).count() == 1
    w.check()
    page.get_by_label("Count", exact=True).select_option("count")
    page.get_by_label("Per", exact=True).select_option("email")
    page.get_by_label("Limit (attempts, or minor units)").fill("5")
    page.get_by_role("button", name="Add rule").click()
    page.wait_for_url("**/risk?notice=Velocity*")
    assert page.get_by_role("button", name="Remove rule", exact=False).count() == 1
    w.shot("risk")
    page.get_by_role("button", name="Remove email fraud@bad.test").click()
    page.wait_for_url("**/risk?notice=Removed*")
    assert page.get_by_role("cell", name="fraud@bad.test", exact=True).count() == 0
    w.check()

    w.goto("/dashboard/audit")
    audit = page.locator("main table").inner_text()
    for action in (
        "payment.capture",
        "payment.void",
        "payment.refund",
        "api_key.roll",
        "settings.update",
        "webhook_endpoint.create",
        "webhook_delivery.redeliver",
        "blocklist.add",
        "blocklist.delete",
        "risk_rule.add",
        "webhook_endpoint.rotate_secret",
        "saved_card.delete",
        "user.create",
    ):
        assert action in audit, action
    assert "sk_test_" not in page.content() and "whsec_" not in page.content()
    w.shot("audit")

    page.get_by_role("button", name="Switch to live mode").click()
    page.get_by_role("button", name="Switch to test mode").wait_for()  # htmx swaps the page in
    assert page.get_by_role("note").count() == 0 and "Mode: Live" in page.locator("header").inner_text()
    w.shot("live-mode")
    page.get_by_role("button", name="Switch to test mode").click()
    page.get_by_role("button", name="Switch to live mode").wait_for()
    w.check()

    # A forged CSRF token is refused, and changes nothing.
    forged = page.request.post(
        f"{server.base_url}/dashboard/payments/{held[0]['id']}/refund",
        form={"csrf_token": "forged", "form_key": "abcdefghijkl"},
        max_redirects=0,
    )
    assert forged.status == 403
    # Another merchant's payment is not found, by its own id.
    other = _other_merchant_payment(server)
    assert page.goto(f"{server.base_url}/dashboard/payments/{other}").status == 404
    context.close()


def test_a_viewer_sees_payments_but_the_server_refuses_its_actions(server: Server, browser: Browser) -> None:
    creds = server.credentials()
    made = subprocess.run(
        [sys.executable, "-m", "tessera", "user", "create", "--merchant", creds["merchant_id"]]
        + ["--email", "viewer@shop.test", "--role", "viewer", "--password-stdin"],
        input=VIEWER_PASSWORD + "\n",
        cwd=server.workdir,
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    held = _pay(server, _current_key(server, creds), CARDS[0], capture_method="manual")
    context = browser.new_context()
    w = Watched(context.new_page(), server.base_url)
    _sign_in(w, "viewer@shop.test", VIEWER_PASSWORD)
    page = w.goto(f"/dashboard/payments/{held['id']}")
    assert page.get_by_role("link", name="Capture").count() == 0
    assert "may view payments but not act" in page.content()
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    refused = page.request.post(
        f"{server.base_url}/dashboard/payments/{held['id']}/capture",
        form={"csrf_token": token or "", "form_key": "abcdefghijkl"},
        max_redirects=0,
    )
    assert refused.status == 403
    w.goto("/dashboard/developers/api-access")
    assert page.get_by_role("button", name="Roll the test secret key").count() == 0
    rolled = page.request.post(
        f"{server.base_url}/dashboard/developers/api-access/roll", form={"csrf_token": token or ""}, max_redirects=0
    )
    assert rolled.status == 403
    assert page.goto(f"{server.base_url}/dashboard/users").status == 403
    after = httpx.get(
        f"{server.base_url}/v1/payments/{held['id']}",
        headers={"Authorization": f"Bearer {_current_key(server, creds)}"},
    )
    assert after.json()["status"] == "authorized"
    context.close()


_KEYS: dict[str, str] = {}


def _current_key(server: Server, creds: dict[str, str]) -> str:
    """The demo merchant's secret key now (the first test rolled it through the dashboard): rolled again here."""
    if "key" not in _KEYS:
        rolled = server.tessera("merchant", "roll-key", creds["merchant_id"], "--json")
        assert rolled.returncode == 0, rolled.stderr
        _KEYS["key"] = json.loads(rolled.stdout)["issued"]["secret_key"]
    return _KEYS["key"]


def _other_merchant_payment(server: Server) -> str:
    made = server.tessera("merchant", "create", "--name", "Other", "--allow-domain", "yoursite.com", "--json")
    assert made.returncode == 0, made.stderr
    other = json.loads(made.stdout.splitlines()[0])
    return str(_pay(server, other["secret_key"], CARDS[0], capture_method="manual")["id"])


AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PAGES = (
    "/dashboard/",
    "/dashboard/payments",
    "/dashboard/audit",
    "/dashboard/users",
    "/dashboard/developers/api-access",
    "/dashboard/developers/settings",
    "/dashboard/developers/webhooks",
    "/dashboard/developers/risk",
    "/dashboard/developers/saved-cards?identifier=EX0001",
)


def test_the_main_flows_work_from_the_keyboard_and_pages_have_no_serious_accessibility_violations(
    server: Server, browser: Browser
) -> None:
    creds = server.credentials()
    held = _pay(server, _current_key(server, creds), CARDS[0], capture_method="manual")
    # axe is injected as a script, which the pages' Content-Security-Policy would rightly refuse.
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(f"{server.base_url}/dashboard/login")
    axe_run = "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"

    def violations() -> list[str]:
        page.add_script_tag(path=str(AXE))
        found = page.evaluate(axe_run)
        return [f"{v['id']} ({v['impact']}): {v['help']}" for v in found if v["impact"] in ("serious", "critical")]

    assert violations() == [], "sign-in page"
    # Keyboard only: the skip link, then Email, Password and the button, in that order.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type(creds["dashboard_email"])
    page.keyboard.press("Tab")
    page.keyboard.type(creds["dashboard_password"])
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.base_url}/dashboard/")
    for path in PAGES:
        page.goto(f"{server.base_url}{path}")
        assert violations() == [], path
    endpoint = httpx.post(
        f"{server.base_url}/v1/webhook_endpoints",
        json={"url": "http://127.0.0.1:9/hooks", "enabled_events": ["*"]},
        headers={"Authorization": f"Bearer {_current_key(server, creds)}"},
    )
    assert endpoint.status_code == 201, endpoint.text
    page.goto(f"{server.base_url}/dashboard/developers/webhooks/{endpoint.json()['id']}")
    assert violations() == [], "a webhook endpoint's page with its delivery log"
    page.goto(f"{server.base_url}/dashboard/payments/{held['id']}")
    assert violations() == [], "a payment's page"
    page.get_by_role("link", name="Capture", exact=True).focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/capture")
    assert violations() == [], "the confirmation page"
    page.get_by_label("Amount to capture", exact=False).focus()
    page.keyboard.type("1.00")
    page.keyboard.press("Tab")  # to the Confirm button
    page.keyboard.press("Enter")
    page.wait_for_url("**notice=*")
    assert "Capture done" in page.get_by_role("status").inner_text()
    context.close()
