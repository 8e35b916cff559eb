"""CORS on exactly what a browser needs: `POST /v1/tokens` with a publishable key, and its preflight.

A preflight (`OPTIONS /v1/tokens`) carries no key by the Fetch standard, so it cannot be asked which
merchant it is for. It is granted to an origin that *some* merchant allows (in a mode it has keys for),
and refused to every other origin: the grant only lets the browser send the request. What the page may
read is decided on the request itself: the `POST`'s `Access-Control-Allow-Origin` is given only when its
key is a publishable key whose merchant allows the origin in the key's mode. A secret key sent from a
browser never gets one, so a page can never read what a secret key did; every other route sends no CORS
header at all (the browser's default: no cross-origin reads). No credentials mode (cookies) is granted:
the key travels in the Authorization header.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tessera.core.browser_origins import origin_allowed
from tessera.core.errors import TesseraError
from tessera.core.merchants import KeyKind
from tessera.core.services import Services
from tessera.dialects._common.deps import ServicesDep

TOKENS_PATH = "/v1/tokens"
ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key"
MAX_AGE_SECONDS = 600  # browsers cap it lower (Chromium: 2 hours); a domain removed stops granting within it

router = APIRouter(tags=["browser"])

_GRANT_HEADERS = {
    "Access-Control-Allow-Origin": {"description": "the page's origin, when granted", "schema": {"type": "string"}},
    "Access-Control-Allow-Methods": {"description": "`POST`, when granted", "schema": {"type": "string"}},
    "Access-Control-Allow-Headers": {"description": ALLOWED_HEADERS + ", when granted", "schema": {"type": "string"}},
    "Access-Control-Max-Age": {"description": "how long a browser may keep the grant", "schema": {"type": "string"}},
}


@router.options(
    TOKENS_PATH,
    status_code=204,
    summary="CORS preflight of token creation from a merchant's checkout page (no key)",
    description=(
        "Granted (the `Access-Control-Allow-*` headers) when `Origin` is an origin some merchant allows: one "
        "of its allowed domains or their subdomains, http or https in test mode, https only in live mode, "
        "and the request asked for is a `POST`. Otherwise answered without them, which the browser takes "
        "as a refusal. The `POST` that follows carries `Access-Control-Allow-Origin` only when its "
        "publishable key's merchant allows the origin."
    ),
    responses={204: {"description": "no body; the grant is in the headers", "headers": _GRANT_HEADERS}},
)
async def preflight_tokens(
    svc: ServicesDep,
    origin: Annotated[str | None, Header(description="the page's origin, as the browser sends it")] = None,
    access_control_request_method: Annotated[
        str | None, Header(description="the method the page wants to use (`POST`)")
    ] = None,
    access_control_request_headers: Annotated[
        str | None, Header(description="the headers the page wants to send")
    ] = None,
) -> Response:
    headers = {"Allow": "OPTIONS, POST", "Vary": "Origin, Access-Control-Request-Method"}
    if origin and access_control_request_method == "POST" and await svc.merchants.origin_allowed_by_any(origin):
        headers |= {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": "POST",
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": str(MAX_AGE_SECONDS),
        }
    return Response(status_code=204, headers=headers)


class TokenCorsMiddleware:
    """Adds `Access-Control-Allow-Origin` to a browser's `POST /v1/tokens` (whatever its status, so the
    page can read a refusal's error) when the publishable key's merchant allows the page's origin.

    The key is looked up again here rather than taken from the route: validation errors and refusals
    are rendered by exception handlers that never see the route's context, and the look-up is one
    indexed read, made only for requests that carry an `Origin`."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != TOKENS_PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        origin = headers.get(b"origin", b"").decode("latin-1")
        granted = bool(origin) and await self._granted(origin, headers.get(b"authorization", b"").decode("latin-1"))

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start" and origin:
                extra = [(b"vary", b"Origin")]
                if granted:
                    extra.append((b"access-control-allow-origin", origin.encode("latin-1")))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _granted(self, origin: str, authorization: str) -> bool:
        scheme, _, key = authorization.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key.startswith(("pk_test_", "pk_live_")):
            return False  # a secret key (or none) from a browser: the page reads nothing
        try:
            ctx = await self.services.merchants.authenticate_key(key)
        except TesseraError:
            return False
        return ctx.kind is KeyKind.PUBLISHABLE and origin_allowed(ctx.merchant, ctx.mode, origin)
