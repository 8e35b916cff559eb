"""Dependencies every dialect shares: the services facade, and who is calling."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tessera.core.errors import AuthenticationError, ErrorCode
from tessera.core.idempotency import KEY_PATTERN, KEY_RULE
from tessera.core.merchants import KeyKind, MerchantContext, require_secret
from tessera.core.risk.caller import caller_address, check_allowlist, set_caller
from tessera.core.services import Services


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


# Declared for OpenAPI (Swagger's "Authorize" button); errors are raised below in each dialect's format.
_bearer = HTTPBearer(auto_error=False, description="`sk_test_...` / `sk_live_...`; `pk_...` for tokens only")


async def bearer_context(
    request: Request,
    svc: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> MerchantContext:
    if credentials is None:
        message = (
            "the Authorization header must be 'Bearer <key>'"
            if request.headers.get("authorization")
            else "no API key given: send Authorization: Bearer <secret key>"
        )
        raise AuthenticationError(message, code=ErrorCode.AUTHENTICATION_REQUIRED)
    return await authenticate(request, svc, credentials.credentials.strip())


async def authenticate(request: Request, svc: Services, key: str) -> MerchantContext:
    """The merchant context of a bearer key, checked against the caller's address (`check_caller`)."""
    return check_caller(request, svc, await svc.merchants.authenticate_key(key))


def check_caller(request: Request, svc: Services, ctx: MerchantContext) -> MerchantContext:
    """Work out the caller's address (believing X-Forwarded-For only from a trusted proxy) for the core's
    rules, and refuse a secret key used from outside its merchant's API IP allowlist (IP_NOT_ALLOWED).
    A publishable key is used by shoppers' browsers, from anywhere: the allowlist is not for it."""
    peer = request.client.host if request.client else None
    caller = caller_address(peer, request.headers.get("x-forwarded-for"), svc.trusted_proxies)
    set_caller(caller)
    if ctx.kind is KeyKind.SECRET:
        check_allowlist(ctx.merchant.allowed_ips.get(ctx.mode, ()), caller)
    return ctx


async def secret_context(ctx: Annotated[MerchantContext, Depends(bearer_context)]) -> MerchantContext:
    return require_secret(ctx)


AnyKeyCtx = Annotated[MerchantContext, Depends(bearer_context)]
SecretCtx = Annotated[MerchantContext, Depends(secret_context)]


async def idempotency_key_header(
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            pattern=KEY_PATTERN.pattern.join("^$"),
            description=f"{KEY_RULE}. Makes a POST safe to retry: the same key and body "
            "within 24 hours returns the first response; a different body is refused (422); a concurrent "
            "duplicate gets 409.",
        ),
    ] = None,
) -> None:
    """Documents the header; `idempotent()` reads it from the request."""
