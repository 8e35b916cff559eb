"""Paysecure's error body, `{"message": "...", "code": "..."}`, for every failure under /paysecure.

Messages name fields, never the values sent: a card number or CVV never comes back in an answer.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from tessera.core.errors import NotFoundError, TesseraError
from tessera.dialects.paysecure import messages as m

_HTTP = {
    400: (m.INVALID_JSON, m.BAD_JSON),
    401: (m.AUTH_FAILED, m.AUTH_MISSING),
    404: ("not_found", "No such endpoint."),
    405: ("method_not_allowed", "Method not allowed."),
    413: ("request_too_large", "The request body is too large."),
    415: (m.MEDIA_TYPE, "Unsupported media type in request; send application/json."),
    500: ("exception", "something went wrong"),
}


class MediaTypeError(TesseraError):
    """A body sent as something other than application/json (Paysecure answers 415)."""


class RefundNotFoundError(NotFoundError):
    """A refundId the purchase has no refund of."""


class MalformedJsonError(TesseraError):
    """A body that is not JSON (Paysecure's `invalid_json`)."""


# The core names fields in the native API's words; a message says them in Paysecure's.
_FIELDS = (("browser.ip", "remote_ip"), ("browser.timezone_offset", "utc_offset"), ("browser.", ""))


def body(message: str, code: str) -> dict[str, str]:
    return {"message": message, "code": code}


def error_response(exc: TesseraError) -> JSONResponse:
    if isinstance(exc, MediaTypeError):
        return JSONResponse(body(exc.message, m.MEDIA_TYPE), status_code=415)
    if isinstance(exc, RefundNotFoundError):
        return JSONResponse(body(exc.message, m.TRANSACTION_ERROR), status_code=404)
    if isinstance(exc, MalformedJsonError):
        return JSONResponse(body(m.BAD_JSON, m.INVALID_JSON), status_code=400)
    status, code, message = m.ERRORS[exc.code]
    if message is None:
        message = exc.message
        for ours, theirs in _FIELDS:
            message = message.replace(ours, theirs)
    return JSONResponse(body(message, code), status_code=status)


def validation_response(errors: list[dict[str, Any]]) -> JSONResponse:
    """FastAPI's own validation (a query or path parameter): the first fault, naming its field."""
    error = errors[0] if errors else {}
    if error.get("type") == "json_invalid":
        return JSONResponse(body(m.BAD_JSON, m.INVALID_JSON), status_code=400)
    field = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "header"))
    if error.get("type") == "missing":
        return JSONResponse(body(f"{field} is missing", m.PARAMETER_MISSING), status_code=400)
    reason = str(error.get("msg", "Invalid value")).removeprefix("Value error, ")
    return JSONResponse(body(f"Invalid {field}: {reason}", m.INVALID_PARAMETER), status_code=400)


def http_response(status: int, detail: str) -> JSONResponse:
    code, message = _HTTP.get(status, ("http_error", detail))
    return JSONResponse(body(message, code), status_code=status)
