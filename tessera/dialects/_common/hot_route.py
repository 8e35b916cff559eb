"""A hand-written handler in front of FastAPI's for the busiest routes, falling back to FastAPI's.

FastAPI's per-request work (reading the body through its content-type rules, solving the dependency tree
(services, bearer scheme, merchant context, secret-key rule, idempotency header) and validating the body
against the route's model) costs about a tenth of a one-call payment's server CPU. A route whose endpoint
is marked with `@hot(handler)` runs `handler(request)` first. The handler takes only requests it can
answer exactly as the endpoint would (a JSON body the route's model accepts, a well-formed bearer key, a
well-formed idempotency key) and returns None for anything else, so FastAPI's own handler runs and every
refusal keeps its one code path and its exact error. The route is still declared to FastAPI as before, so
the OpenAPI document does not change, and a hot handler's exceptions go to the same exception handlers.
With `TESSERA_HOT_HANDLERS=false` every request takes FastAPI's handler (the tests compare the two).

Everything it does after parsing is the endpoint's own code: `hot_request` authenticates with the
function the dependencies call (`deps.authenticate`), and the handler then runs the endpoint's body.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import orjson
from fastapi import Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from tessera.core.idempotency import KEY_PATTERN
from tessera.core.merchants import MerchantContext, require_secret
from tessera.core.services import Services
from tessera.dialects._common.deps import authenticate, get_services

HotHandler = Callable[[Request], Awaitable[Response | None]]
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
_MARK = "__tessera_hot__"
Model = TypeVar("Model", bound=BaseModel)


def hot(handler: HotHandler) -> Callable[[Endpoint], Endpoint]:
    """Mark an endpoint: `handler` answers the requests it can, FastAPI's handler the rest."""

    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _MARK, handler)
        return endpoint

    return mark


class HotRoute(APIRoute):
    """An APIRoute that runs its endpoint's hot handler (if marked) before FastAPI's."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        standard = super().get_route_handler()
        fast: HotHandler | None = getattr(self.endpoint, _MARK, None)
        if fast is None:
            return standard

        async def handler(request: Request) -> Response:
            # Read per request, not when the route is built: routers are module-level, shared by every app.
            if request.app.state.hot_handlers and (response := await fast(request)) is not None:
                return response
            return await standard(request)

        return handler


def bearer_key(request: Request) -> str | None:
    """The key of a well-formed `Authorization: Bearer <key>` (as FastAPI's HTTPBearer reads it), else None."""
    scheme, _, key = (request.headers.get("authorization") or "").partition(" ")
    key = key.strip()
    return key if key and scheme.lower() == "bearer" else None


def idempotency_key_ok(request: Request) -> bool:
    """No Idempotency-Key, or one the header's declared pattern accepts."""
    key = request.headers.get("idempotency-key")
    return key is None or KEY_PATTERN.fullmatch(key) is not None


async def hot_request(request: Request, model: type[Model]) -> tuple[Model, MerchantContext, Services] | None:
    """The body as `model`, the caller's merchant context and the services, when the request is one a hot
    handler takes (a bearer key, a well-formed or absent Idempotency-Key, a JSON body the model accepts);
    else None. The key is authenticated as `deps.bearer_context` does it, raising the same errors."""
    key = bearer_key(request)
    if key is None or not idempotency_key_ok(request):
        return None
    body = await json_body(request, model)
    if body is None:
        return None
    svc = await get_services(request)
    return body, await authenticate(request, svc, key), svc


async def secret_caller(request: Request) -> tuple[MerchantContext, Services] | None:
    """The caller's merchant context and the services, for a route whose dependencies are only those
    (`deps.SecretCtx`, `deps.ServicesDep`) and which reads its body itself: None without a well-formed
    bearer key; else the key authenticated and held to the secret-key rule as `deps.secret_context` does
    it, raising the same errors."""
    key = bearer_key(request)
    if key is None:
        return None
    svc = await get_services(request)
    return require_secret(await authenticate(request, svc, key)), svc


async def json_body(request: Request, model: type[Model]) -> Model | None:
    """The body as `model`, when it is `application/json` that the model accepts; else None.

    orjson is stricter than the standard library's parser FastAPI uses (no NaN, no integers beyond 64
    bits, no invalid UTF-8), so whatever it refuses falls back to FastAPI, which accepts or refuses it
    with its own error. The model validates Python objects, as FastAPI does, not JSON text (whose lax
    rules differ in places)."""
    if request.headers.get("content-type") != "application/json":
        return None
    raw = await request.body()
    try:
        data = orjson.loads(raw)
        return model.model_validate(data)
    except (orjson.JSONDecodeError, ValidationError):
        return None
