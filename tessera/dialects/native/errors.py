"""The native error body, `{"error": {"code", "message", "param", "type"}}`, for every failure."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from tessera.core.errors import TesseraError
from tessera.dialects.native import translate

_HTTP_CODES = {
    400: "parameter_invalid",
    404: "resource_missing",
    405: "method_not_allowed",
    413: "request_too_large",
    500: "internal_error",
}
_MESSAGES = {
    400: "the request body could not be read as JSON",
    404: "no such endpoint",
    413: "the request body is too large",
    500: "an internal error occurred; nothing about it is shown here, but it is logged with the request id",
}


def error_response(exc: TesseraError) -> JSONResponse:
    status, body = translate.render_error(exc)
    return JSONResponse(body, status_code=status)


def validation_response(errors: list[dict[str, Any]]) -> JSONResponse:
    status, body = translate.render_validation(errors)
    return JSONResponse(body, status_code=status)


def http_response(status: int, detail: str) -> JSONResponse:
    code = _HTTP_CODES.get(status, "invalid_request_error")
    message = _MESSAGES.get(status, detail)
    kind = "api_error" if status >= 500 else "invalid_request_error"
    return JSONResponse({"error": {"code": code, "message": message, "type": kind}}, status_code=status)
