"""The ASGI application: every dialect, health, metrics and OpenAPI on one FastAPI app.

`create_app(settings)` builds it; the lifespan runs recovery once at start-up and, unless told not
to, the background worker beside the server. Errors are rendered by the dialect whose path was hit.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tessera import __version__, browser, dashboard, logs, nul, shopper, worker
from tessera.bootstrap import Container, build
from tessera.core.errors import TesseraError
from tessera.core.ids import new_id
from tessera.dialects import DIALECTS, Dialect, dialect_for
from tessera.dialects._common.hot_route import HotPaths
from tessera.metrics import CONTENT_TYPE
from tessera.sandbox import acs
from tessera.settings import Settings

logger = logging.getLogger("tessera.http")

# A payment request is a few kilobytes; anything near this is a mistake or an attack (413).
MAX_BODY_BYTES = 256 * 1024


class BodyTooLargeError(Exception):
    """A chunked request body grew past MAX_BODY_BYTES while being read."""


class RequestContextMiddleware:
    """Request ids, one access-log line and metrics per request, in plain ASGI (no body buffering)."""

    def __init__(self, app: ASGIApp, container: Container) -> None:
        self.app = app
        self.container = container

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if 0 < len(incoming) <= 64 and incoming.replace("-", "").replace("_", "").isalnum() else None
        rid = rid or new_id("req")
        token = logs.request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        received = 0
        scanner = nul.BodyScanner()

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > MAX_BODY_BYTES:
                raise BodyTooLargeError
            scanner.feed(chunk)
            if not message.get("more_body") and (refused := scanner.check()) is not None:
                raise refused
            return message

        try:
            length = dict(scope["headers"]).get(b"content-length", b"0")
            if length.isdigit() and int(length) > MAX_BODY_BYTES:  # refuse before reading a byte
                response = dialect_for(scope["path"]).render_http(413, "the request body is too large")
                await response(scope, receive, send_with_id)
            elif (refused := nul.in_path_or_query(scope)) is not None:
                await dialect_for(scope["path"]).render_error(refused)(scope, receive, send_with_id)
            else:
                await self.app(scope, counted_receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or (
                "/docs-assets" if scope["path"].startswith("/docs-assets") else "unmatched"
            )
            self.container.metrics.observe_request(scope["method"], route, status, elapsed)
            if route not in ("/metrics", "/healthz", "/readyz"):
                logger.info(
                    "%s %s %d",
                    scope["method"],
                    route,
                    status,
                    extra={
                        "method": scope["method"],
                        "route": route,
                        "status": status,
                        "latency_ms": round(elapsed * 1000, 2),
                    },
                )
            logs.request_id.reset(token)


def create_app(settings: Settings, *, container: Container | None = None, embedded_worker: bool = True) -> FastAPI:
    container = container or build(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task: asyncio.Task[None] | None = None
        await container.start()
        try:
            await worker.run_once(container)  # recovery at start-up, before taking traffic
        except Exception:
            logger.exception("start-up recovery failed")
        if embedded_worker:
            task = asyncio.create_task(worker.run_forever(container, stop))
        # What start-up made (modules, the app, prebuilt statements) lives as long as the process. Frozen,
        # it is out of the cyclic collector's way: a full collection walks only what was made since, where
        # it walked some 150,000 objects (50-60 ms, py-spy found it on a request's path every few thousand
        # payments).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                await task
            await container.close()

    app = FastAPI(
        docs_url=None,  # served below from packaged assets: a self-hosted gateway may have no internet
        redoc_url=None,
        title="Tessera",
        version=__version__,
        summary="A self-hosted server-to-server card payment gateway",
        description=(
            "Tessera speaks several vendors' wire formats (dialects). The native API lives under `/v1`; "
            "authenticate with `Authorization: Bearer sk_test_...` (or the publishable key for tokens)."
        ),
        lifespan=lifespan,
    )
    app.state.container = container
    app.state.services = container.services
    app.state.hot_handlers = settings.hot_handlers

    for dialect in DIALECTS:
        dialect.mount(app)
    app.include_router(browser.cors_router)
    app.include_router(browser.sdk_router)
    app.include_router(shopper.router)
    app.include_router(acs.router)
    dashboard.mount(app)
    _add_docs(app)
    _add_operational_routes(app, container)
    _add_error_handlers(app)
    _hoist_schema_defs(app)
    app.add_middleware(HotPaths)  # innermost: the token CORS and the request context wrap it
    app.add_middleware(browser.TokenCorsMiddleware, services=container.services)
    app.add_middleware(RequestContextMiddleware, container=container)
    return app


def _hoist_schema_defs(app: FastAPI) -> None:
    """A body documented by hand (`openapi_extra`, for routes that validate it themselves and report
    every bad field at once) carries its nested models under `$defs`, which FastAPI leaves where they
    are: the models are generated with refs to `#/components/schemas/...`, and this hook moves them there."""
    build_document = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build_document()
        components = document.setdefault("components", {}).setdefault("schemas", {})
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                content = operation.get("requestBody", {}).get("content", {}) if isinstance(operation, dict) else {}
                for media in content.values():
                    for name, schema in media.get("schema", {}).pop("$defs", {}).items():
                        if components.setdefault(name, schema) != schema:
                            raise RuntimeError(f"two different schemas are both named {name} in the OpenAPI document")
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _add_operational_routes(app: FastAPI, container: Container) -> None:
    @app.get("/healthz", tags=["operations"], summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], summary="The database answers", responses={503: {}})
    async def readyz() -> Response:
        try:
            async with container.db.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            logger.exception("readiness check failed")
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(container.metrics.render(), media_type=CONTENT_TYPE)


def _add_docs(app: FastAPI) -> None:
    """Swagger UI and ReDoc from the assets packaged with fastapi-offline, not a CDN."""
    assets = Path(fastapi_offline.__file__).parent / "static"
    app.mount("/docs-assets", StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Tessera API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title="Tessera API",
            redoc_js_url="/docs-assets/redoc.standalone.js",
            redoc_favicon_url="/docs-assets/favicon.png",
            with_google_fonts=False,
        )


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route takes on this path (asked of each route, as the router itself does)."""
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    ]


def _dialect(request: Request) -> Dialect:
    return dialect_for(request.url.path)


def _add_error_handlers(app: FastAPI) -> None:
    async def on_tessera_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, TesseraError)
        return _dialect(request).render_error(exc)

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return _dialect(request).render_validation(list(exc.errors()))

    async def on_too_large(request: Request, exc: Exception) -> Response:
        return _dialect(request).render_http(413, "the request body is too large")

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if isinstance(exc.__cause__, BodyTooLargeError):  # FastAPI wraps body-reading errors in a 400
            return await on_too_large(request, exc.__cause__)
        if isinstance(exc.__cause__, TesseraError):  # a NUL character found while the body was read
            return _dialect(request).render_error(exc.__cause__)
        response = _dialect(request).render_http(exc.status_code, str(exc.detail))
        for name, value in (exc.headers or {}).items():  # a 401's WWW-Authenticate, say
            response.headers[name] = value
        if exc.status_code == 405:
            # Starlette names only the first route on the path; a path's methods are spread over routes.
            response.headers["Allow"] = ", ".join(_allowed_methods(request))
        return response

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        logger.error("unhandled error", exc_info=exc)
        return _dialect(request).render_http(500, "An internal error occurred.")

    handlers: dict[Any, Any] = {
        TesseraError: on_tessera_error,
        RequestValidationError: on_validation_error,
        StarletteHTTPException: on_http_error,
        BodyTooLargeError: on_too_large,
        Exception: on_unexpected,
    }
    for kind, handler in handlers.items():
        app.add_exception_handler(kind, handler)


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (several worker processes): settings from the environment."""
    import os

    settings = Settings()
    logs.configure(settings.log_level, settings.log_format)
    return create_app(settings, embedded_worker=os.environ.get("TESSERA_EMBEDDED_WORKER", "1") == "1")
