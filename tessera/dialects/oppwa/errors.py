"""OPPWA's error answers for everything under /oppwa: `{"result": {"code", "description",
"parameterErrors"?}, "buildNumber", "timestamp", "ndc"}` with the HTTP status of oppwa.md section 0.

Messages name fields, never the values sent; a parameter error's `value` never carries a card number or
CVV (`forms.shown`).
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from tessera.core.errors import TesseraError, ValidationErrors
from tessera.dialects.oppwa import codes as c
from tessera.dialects.oppwa.forms import OppwaRefusal
from tessera.dialects.oppwa.render import envelope

# The core names fields in the native API's words; an error says them in OPPWA's.
FIELDS: dict[str, str] = {
    "browser.ip": "customer.ip",
    "browser.user_agent": "customer.browser.userAgent",
    "browser.accept_header": "customer.browser.acceptHeader",
    "browser.language": "customer.browser.language",
    "browser.timezone_offset": "customer.browser.timezone",
    "browser.color_depth": "customer.browser.screenColorDepth",
    "browser.screen_height": "customer.browser.screenHeight",
    "browser.screen_width": "customer.browser.screenWidth",
    "return_url": "shopperResultUrl",
    "card.cvc": "card.cvv",
    "reference": "merchantTransactionId",
}


def body(result_code: str, parameter_errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    out = envelope(result_code)
    if parameter_errors:
        out["result"]["parameterErrors"] = parameter_errors
    return out


def error_response(exc: TesseraError) -> JSONResponse:
    if isinstance(exc, OppwaRefusal):
        return JSONResponse(body(exc.result_code, exc.parameter_errors), status_code=exc.status)
    status, code = c.ERRORS[exc.code]
    errors = exc.errors if isinstance(exc, ValidationErrors) else [exc] if exc.field else []
    params = [
        {"name": FIELDS.get(e.field or "", e.field or ""), "value": "", "message": _said(e.message)} for e in errors
    ]
    return JSONResponse(body(code, params), status_code=status)


def _said(message: str) -> str:
    for ours, theirs in FIELDS.items():
        message = message.replace(ours, theirs)
    return message


def validation_response(errors: list[dict[str, Any]]) -> JSONResponse:
    """FastAPI's own validation (a query or path parameter): every fault, naming its field."""
    params = []
    for error in errors:
        name = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "header"))
        message = "is required" if error.get("type") == "missing" else str(error.get("msg", "is invalid"))
        params.append({"name": name, "value": "", "message": message.removeprefix("Value error, ")})
    return JSONResponse(body(c.INVALID_PARAMETER, params), status_code=400)


def http_response(status: int, detail: str) -> JSONResponse:
    code = {
        401: c.AUTH_INVALID,
        403: c.AUTH_NO_RIGHTS,
        404: c.NOT_FOUND,
        405: c.INVALID_METHOD,
        413: c.INVALID_PARAMETER,
        429: c.THROTTLED,
    }.get(status, "900.100.203" if status >= 500 else c.INVALID_PARAMETER)
    return JSONResponse(body(code), status_code=status)
