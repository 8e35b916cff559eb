"""`tessera demo-shop` without a server behind it: it refuses to start without merchant credentials, its
page loads tessera.js from the Tessera URL it was given and holds only the publishable key, its backend
refuses a request without a card token before calling Tessera, and its log keeps what it received. The
flows with a real Tessera are in tests/e2e/test_tessera_js_browser.py."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from click.testing import CliRunner

from tessera.cli import main
from tessera.demo_shop import RequestLog, ShopConfig, create_shop_app

CONFIG = ShopConfig("http://127.0.0.1:1", "pk_test_abc", "sk_test_never_in_the_page")


def test_demo_shop_needs_the_merchants_credentials(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo-shop"], env={"TESSERA_DATA_DIR": str(tmp_path)})
    assert result.exit_code != 0
    assert "run `tessera serve` once first" in result.output


async def test_the_page_loads_tessera_js_and_holds_only_the_publishable_key() -> None:
    app = create_shop_app(CONFIG)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost:8100") as http:
        page = (await http.get("/")).text
    assert '<script src="http://127.0.0.1:1/js/v1/tessera.js"></script>' in page
    assert "pk_test_abc" in page and "sk_test" not in page


async def test_the_backend_refuses_a_payment_without_a_token_and_logs_what_it_received() -> None:
    log = RequestLog()
    app = create_shop_app(CONFIG, log)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost:8100") as http:
        refused = await http.post("/api/pay", json={"token": "4242424242424242"})
        shown = (await http.get("/requests.json")).json()
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "token_missing"
    assert [(e["method"], e["path"]) for e in log.entries] == [("POST", "/api/pay"), ("GET", "/requests.json")]
    assert json.loads(log.entries[0]["body"]) == {"token": "4242424242424242"}
    assert shown[0] == log.entries[0]
