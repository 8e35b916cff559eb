"""EximPe's error bodies (`{"success": false, "error": {...}}`) for every failure under /eximpe."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from tessera.core.errors import TesseraError, ValidationError
from tessera.dialects.eximpe import translate

_HTTP = {
    400: ("ERR_VALIDATION", "The request body could not be read as JSON."),
    404: ("ERR_NOT_FOUND", "No such endpoint."),
    405: ("ERR_METHOD_NOT_ALLOWED", "Method not allowed."),
    413: ("ERR_REQUEST_TOO_LARGE", "The request body is too large."),
    500: ("ERR_INTERNAL_000", "An internal error occurred."),
}


def error_response(exc: TesseraError) -> JSONResponse:
    status, body = translate.error_body(exc)
    return JSONResponse(body, status_code=status)


def validation_response(errors: list[dict[str, Any]]) -> JSONResponse:
    """FastAPI's own validation (a body that is not JSON, a bad query) in seed 004's list shape."""
    found = []
    for error in errors:
        loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "header")]
        if error.get("type") == "json_invalid":
            message = "The request body is not valid JSON."
        elif error.get("type") == "missing":
            message = translate.REQUIRED
        else:
            message = str(error.get("msg", "Invalid value.")).removeprefix("Value error, ")
        found.append(ValidationError(message, field=".".join(loc) or None))
    return JSONResponse(translate.validation_body(found), status_code=400)


def http_response(status: int, detail: str) -> JSONResponse:
    code, message = _HTTP.get(status, ("ERR_HTTP", detail))
    return JSONResponse({"success": False, "error": {"code": code, "message": message}}, status_code=status)
