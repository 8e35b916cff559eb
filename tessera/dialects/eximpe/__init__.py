"""The EximPe dialect: seeds 000 and 004 under /eximpe (Save Card API and token management)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import Response

from tessera.core.errors import TesseraError
from tessera.dialects.eximpe import errors


class EximpeDialect:
    prefix = "/eximpe"

    def mount(self, app: FastAPI) -> None:
        from tessera.dialects.eximpe.router import router

        app.include_router(router)

    def render_error(self, exc: TesseraError) -> Response:
        return errors.error_response(exc)

    def render_validation(self, errors_: list[dict[str, Any]]) -> Response:
        return errors.validation_response(errors_)

    def render_http(self, status: int, detail: str) -> Response:
        return errors.http_response(status, detail)
