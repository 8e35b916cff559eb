"""The API reference renders in a real browser from Tessera's own assets, with no internet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.browser import chromium
from tests.e2e.server import Server

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path / "work").start()
    yield srv
    srv.stop()


def test_swagger_ui_renders_every_native_operation_and_the_authorize_button(server: Server, tmp_path: Path) -> None:
    outside: list[str] = []
    with chromium() as browser:
        page = browser.new_page()
        page.on(
            "request",
            lambda r: (
                outside.append(r.url) if r.url.startswith("http") and not r.url.startswith(server.base_url) else None
            ),
        )
        page.goto(f"{server.base_url}/docs")
        page.wait_for_selector(".opblock-summary-path", timeout=15000)
        paths = set(page.locator(".opblock-summary-path").all_inner_texts())
        assert {"/v1/tokens", "/v1/payments", "/v1/payments/{payment_id}/capture"} <= {p.strip() for p in paths}
        assert page.locator("button.authorize").count() == 1
        page.screenshot(path=str(tmp_path / "docs.png"), full_page=False)
        assert outside == []  # Swagger UI and its assets come from Tessera, not a CDN
        page.goto(f"{server.base_url}/redoc")
        page.locator("h2", has_text="Create a payment with a token or full card data").wait_for(timeout=15000)
    # ReDoc's bundle links its "powered by" logo to its CDN: cosmetic, and the page works without it.
    assert [url for url in outside if not url.endswith("cdn.redoc.ly/redoc/logo-mini.svg")] == []
