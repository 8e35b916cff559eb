"""The demo shop's web app: the checkout page, its backend calling Tessera, and its request log.

The log keeps, in memory, every request the shop received (method, path, query and body), so that
anyone (and the tests) can see that no card number ever reached the merchant's server: the page sends
the token only. It is shown at `/requests.json`, which a real shop would of course not have.
"""

from __future__ import annotations

import html
import json
import secrets
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_STATIC = Path(__file__).parent / "static"
PRODUCT_NAME, PRODUCT_PRICE = "Tessera mug", "12.50 EUR"
AMOUNT, CURRENCY = 1250, "EUR"  # minor units: the shop's backend decides what is charged, never the page


@dataclass(frozen=True, slots=True)
class ShopConfig:
    tessera_url: str  # where browsers and this backend reach Tessera
    publishable_key: str
    secret_key: str = field(repr=False)


class RequestLog:
    """The last requests the shop received, as it received them."""

    def __init__(self, size: int = 1000) -> None:
        self.entries: deque[dict[str, str]] = deque(maxlen=size)

    def middleware(self, app: ASGIApp) -> ASGIApp:
        async def logged(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            entry = {
                "method": scope["method"],
                "path": scope["path"],
                "query": scope.get("query_string", b"").decode("latin-1"),
                "body": "",
            }
            self.entries.append(entry)

            async def recorded() -> Message:
                message = await receive()
                entry["body"] += message.get("body", b"").decode("utf-8", "replace")
                return message

            await app(scope, recorded, send)

        return logged


def _page(name: str, **values: str) -> HTMLResponse:
    text = Template((_STATIC / name).read_text()).substitute({k: html.escape(v) for k, v in values.items()})
    return HTMLResponse(text, headers={"Cache-Control": "no-store", "Referrer-Policy": "origin"})


def create_shop_app(config: ShopConfig, log: RequestLog | None = None) -> ASGIApp:
    log = log or RequestLog()
    api = config.tessera_url.rstrip("/")
    secret = {"Authorization": f"Bearer {config.secret_key}"}

    async def checkout(request: Request) -> Response:
        return _page(
            "checkout.html",
            tessera_url=api,
            publishable_key=config.publishable_key,
            product=PRODUCT_NAME,
            price=PRODUCT_PRICE,
        )

    async def returned(request: Request) -> Response:
        return _page("return.html")

    async def pay(request: Request) -> Response:
        """The shop's own endpoint: a token and the browser's details in, a payment out. The amount is
        the shop's to decide, never the page's."""
        body = await request.json()
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token.startswith("tok_"):
            return JSONResponse({"error": {"code": "token_missing", "message": "no card token was sent"}}, 400)
        page_browser = body.get("browser") if isinstance(body.get("browser"), dict) else {}
        browser = {
            key: page_browser[key]
            for key in ("color_depth", "screen_height", "screen_width", "timezone_offset", "java_enabled")
            if key in page_browser
        }
        browser |= {
            "ip": request.client.host if request.client else "127.0.0.1",
            "user_agent": request.headers.get("user-agent", "unknown"),
            "accept_header": request.headers.get("accept", "*/*"),
            "javascript_enabled": True,
        }
        if (language := request.headers.get("accept-language", "").split(",")[0].split(";")[0].strip()) != "":
            browser["language"] = language
        payment = {
            "amount": AMOUNT,
            "currency": CURRENCY,
            "token": token,
            "reference": f"order_{secrets.token_hex(6)}",
            "return_url": str(request.base_url).rstrip("/") + "/3ds-return",
            "browser": browser,
        }
        async with httpx.AsyncClient(timeout=30) as http:
            answer = await http.post(
                f"{api}/v1/payments",
                json=payment,
                headers={**secret, "Idempotency-Key": secrets.token_hex(16)},
            )
        return JSONResponse(_summary(answer.json()), status_code=200 if answer.status_code < 500 else 502)

    async def status(request: Request) -> Response:
        """The truth about a payment, read with the secret key (the 3-D Secure helper's answer is a hint)."""
        payment_id = request.path_params["payment_id"]
        async with httpx.AsyncClient(timeout=30) as http:
            answer = await http.get(f"{api}/v1/payments/{payment_id}", headers=secret)
        return JSONResponse(_summary(answer.json()), status_code=200 if answer.status_code < 500 else 502)

    async def requests_log(request: Request) -> Response:
        return Response(json.dumps(list(log.entries)), media_type="application/json")

    app = Starlette(
        routes=[
            Route("/", checkout),
            Route("/3ds-return", returned),
            Route("/api/pay", pay, methods=["POST"]),
            Route("/api/payments/{payment_id}", status),
            Route("/requests.json", requests_log),
        ]
    )
    return log.middleware(app)


def _summary(payment: dict[str, Any]) -> dict[str, Any]:
    """What the page needs of a payment (or of an API error)."""
    if "id" not in payment:
        return {"status": "failed", "error": payment.get("error", {"message": "the payment could not be made"})}
    keys = ("id", "status", "amount", "currency", "redirect_url")
    found: dict[str, Any] = {k: payment[k] for k in keys if k in payment}
    if payment.get("error"):
        found["error"] = payment["error"]
    if payment.get("card"):
        found["card"] = {"brand": payment["card"].get("brand"), "last4": payment["card"].get("last4")}
    return found
