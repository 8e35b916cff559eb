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

`HotPaths`, an ASGI layer in front of FastAPI's router, also skips the routing and the exception middleware
for the hot routes whose path is literal (no path parameters): it remembers which hot route FastAPI's
router chose for a method and path, and sends the next request for the same method and path straight to
that route's hot handler.

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
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tessera.core.idempotency import KEY_PATTERN
from tessera.core.merchants import MerchantContext, require_secret
from tessera.core.services import Services
from tessera.dialects._common.deps import authenticate, get_services

HotHandler = Callable[[Request], Awaitable[Response | None]]
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
_MARK = "__tessera_hot__"
_DECLINED = "tessera.hot_declined"  # the scope key saying a hot handler has already declined the request
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
            if (
                request.app.state.hot_handlers
                and _DECLINED not in request.scope
                and (response := await fast(request)) is not None
            ):
                return response
            return await standard(request)

        return handler


class HotPaths:
    """Sends a request for a hot route with a literal path straight to its hot handler, past FastAPI's
    routing, its exception middleware and its request-response wrapper (about 7% of a one-call payment's
    CPU in py-spy: matching the dialects' routers, scope bookkeeping, two exception-catching wrappers).

    It does not decide routes: after FastAPI's router has handled a request, the layer notes the route it
    chose (`scope["route"]`) when that route has a hot handler and no path parameters, keyed by method,
    root path and path. The next request with the same key goes to that route. So the precedence between
    routes stays the router's, and the table holds at most one entry per such route.

    What the router would have done around the handler is done here the same way:
    - the route is put in the scope (the metrics and access log name it);
    - an exception the app has a handler for (a `TesseraError`, a body too large, an HTTP error) is
      rendered by that handler, as the exception middleware would; any other goes on up to the server-error
      middleware, as it would;
    - a request the hot handler declines goes through the whole stack, its body replayed, and the route's
      handler skips the hot handler that has already declined it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._known: dict[tuple[str, str, str], tuple[APIRoute, HotHandler]] = {}

    @property
    def known_paths(self) -> set[tuple[str, str]]:
        """The (method, path) pairs sent straight to their hot handler."""
        return {(method, path) for method, _root, path in self._known}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["app"].state.hot_handlers:
            await self.app(scope, receive, send)
            return
        key = (scope["method"], scope.get("root_path", ""), scope["path"])
        known = self._known.get(key)
        if known is not None:
            await self._straight(scope, receive, send, *known)
            return
        await self.app(scope, receive, send)
        route = scope.get("route")
        handler = getattr(getattr(route, "endpoint", None), _MARK, None)
        # The router names the route it tried even when only the path matched (a 405): the method must too.
        if (
            isinstance(route, APIRoute)
            and handler is not None
            and not route.param_convertors
            and scope["method"] in (route.methods or ())
        ):
            self._known[key] = (route, handler)

    async def _straight(self, scope: Scope, receive: Receive, send: Send, route: APIRoute, fast: HotHandler) -> None:
        scope["route"], scope["endpoint"], scope["path_params"] = route, route.endpoint, {}
        recorded = _RecordedReceive(receive)
        request = Request(scope, recorded)
        try:
            response = await fast(request)
        except Exception as exc:
            rendering = _exception_handler(request, exc)
            if rendering is None:
                raise
            response = await rendering(request, exc)
        if response is None:
            scope[_DECLINED] = True
            await self.app(scope, recorded.replay, send)
            return
        await response(scope, recorded, send)


def _exception_handler(request: Request, exc: Exception) -> Callable[[Request, Exception], Awaitable[Response]] | None:
    """The app's handler for `exc`, looked up as Starlette's exception middleware does (the first class of
    the exception's MRO with one); None for the catch-all (`Exception`, status 500), which the server-error
    middleware outside renders."""
    handlers = request.app.exception_handlers
    for kind in type(exc).__mro__:
        if kind is Exception:
            return None
        if kind in handlers:
            handler: Callable[[Request, Exception], Awaitable[Response]] = handlers[kind]
            return handler
    return None


class _RecordedReceive:
    """`receive`, keeping what it returned so that a declined request's body can be read again."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._messages: list[Message] = []
        self._replayed = 0

    async def __call__(self) -> Message:
        message = await self._receive()
        self._messages.append(message)
        return message

    async def replay(self) -> Message:
        if self._replayed < len(self._messages):
            self._replayed += 1
            return self._messages[self._replayed - 1]
        return await self._receive()


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
