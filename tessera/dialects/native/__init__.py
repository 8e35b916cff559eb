"""The native dialect: seed 002's tokens and payments under /v1, with seed 003's operations."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import Response

from tessera.core.errors import TesseraError
from tessera.dialects.native import errors


class NativeDialect:
    prefix = "/v1"

    def mount(self, app: FastAPI) -> None:
        from tessera.dialects.native.router import router

        app.include_router(router)

    def render_error(self, exc: TesseraError) -> Response:
        return errors.error_response(exc)

    def render_validation(self, errors_: list[dict[str, Any]]) -> Response:
        return errors.validation_response(errors_)

    def render_http(self, status: int, detail: str) -> Response:
        return errors.http_response(status, detail)
