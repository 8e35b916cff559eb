"""Paysecure's request and response shapes, for the OpenAPI document (the routes read their bodies
themselves, field by field, in `requests`). Vendor words stay here."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tessera.dialects._common.patterns import py_ws
from tessera.dialects.paysecure import requests as req

S2SFlag = Literal["true"]


def json_body(schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    """`openapi_extra` documenting a JSON body for a route that reads its body itself."""
    return {"requestBody": {"required": required, "content": {"application/json": {"schema": schema}}}}


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["message", "code"],
    "properties": {"message": {"type": "string"}, "code": {"type": "string"}},
}


class PaysecureErrorOut(BaseModel):
    message: str
    code: str


# The document says what `requests` accepts, field by field, with its own patterns (`py_ws` spells out the
# white space Python strips, for every regular expression engine).
_NOT_BLANK = py_ws(r"\S")


def _text(limit: int, *, required: bool = True) -> dict[str, Any]:
    """Text of at most `limit` characters; a required one is not blank (an optional blank one is ignored)."""
    if required:
        return {"type": "string", "maxLength": limit, "pattern": _NOT_BLANK}
    return {"anyOf": [{"type": "null"}, {"type": "string", "maxLength": limit}]}


def _url(*, required: bool) -> dict[str, Any]:
    url = {"type": "string", "maxLength": 2048, "pattern": py_ws(req.URL)}
    if required:
        return url
    blank = {"type": "string", "maxLength": 2048, "pattern": py_ws(r"^\s*$")}
    return {"anyOf": [{"type": "null"}, url, blank]}


def _amount(*, text: bool = True) -> dict[str, Any]:
    number = {"type": "number", "exclusiveMinimum": 0, "maximum": req.MAX_MAJOR}
    if not text:
        return number
    return {"anyOf": [number, {"type": "string", "maxLength": 12, "pattern": py_ws(req.DECIMAL)}]}


def _flag() -> dict[str, Any]:
    return {"anyOf": [{"type": "null"}, {"type": "boolean"}]}


_CLIENT: dict[str, Any] = {
    "type": "object",
    "required": ["email", "country", "stateCode", "street_address", "city", "zip_code"],
    "properties": {
        "email": {"type": "string", "maxLength": 254, "pattern": py_ws(req.EMAIL), "examples": ["user@example.com"]},
        "country": {"type": "string", "pattern": "^[A-Z]{2}$", "maxLength": 2, "examples": ["GB"]},
        "stateCode": _text(10) | {"examples": ["LO"]},
        "street_address": _text(200),
        "city": _text(200),
        "zip_code": _text(200),
        **{k: _text(200, required=False) for k in req.CLIENT_OPTIONAL},
    },
}
_PRODUCT: dict[str, Any] = {
    "type": "object",
    "required": ["name", "price"],
    "properties": {
        "name": _text(200),
        "price": _amount() | {"description": "major units, e.g. 20.00 (the currency's decimals at most)"},
        "quantity": {"anyOf": [{"type": "null"}, _amount(text=False)]},
    },
}
PURCHASE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "PaysecurePurchaseIn",
    "required": ["client", "purchase", "brand_id", "success_redirect", "failure_redirect"],
    "properties": {
        "client": _CLIENT,
        "purchase": {
            "type": "object",
            "required": ["currency", "products"],
            "properties": {
                "currency": {"enum": sorted(req.CURRENCIES), "examples": ["EUR"]},
                "products": {"type": "array", "minItems": 1, "maxItems": 100, "items": _PRODUCT},
                "language": _text(35, required=False),
                "notes": _text(1000, required=False),
            },
        },
        "brand_id": {
            "type": "string",
            "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
            "description": "the merchant's brand_id for the key's mode (`tessera merchant create --json`)",
        },
        "success_redirect": _url(required=True),
        "failure_redirect": _url(required=True),
        "pending_redirect": _url(required=False),
        "cancel_redirect": _url(required=False),
        "success_callback": _url(required=False),
        "failure_callback": _url(required=False),
        "merchantRef": _text(100, required=False),
        "skip_capture": _flag(),
        "send_receipt": _flag(),
    },
}
_IP = {"type": "string", "maxLength": 45, "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}
_SCREEN = {
    "anyOf": [
        {"type": "null"},
        {"type": "integer", "minimum": 0, "maximum": 999999},
        {"type": "string", "pattern": req.SCREEN},
    ]
}
S2S_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "PaysecureS2SIn",
    "required": ["cvc", "remote_ip", "user_agent", "accept_header"],
    "anyOf": [
        {"required": ["token_reference"], "properties": {"token_reference": _text(64)}},
        {
            "required": ["cardholder_name", "card_number", "expires"],
            "properties": {
                "cardholder_name": _text(100),
                "card_number": {"type": "string"},
                "expires": {"type": "string"},
            },
        },
    ],
    "properties": {
        "cardholder_name": _text(100, required=False) | {"examples": ["dk"]},
        "card_number": {"type": "string", "pattern": req.CARD_NUMBER, "examples": ["4444333322221111"]},
        "expires": {"type": "string", "pattern": req.EXPIRES, "examples": ["10/39"]},
        "cvc": {"type": "string", "pattern": req.CVC, "examples": ["345"]},
        "remember_card": {"anyOf": [{"type": "null"}, {"type": "string"}], "examples": ["on"]},
        "token_reference": _text(64, required=False),
        "remote_ip": _IP,
        "user_agent": _text(2048),
        "accept_header": _text(2048),
        "language": {
            "anyOf": [
                {"type": "null"},
                {"type": "string", "maxLength": 35, "pattern": "^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$"},
            ]
        },
        "java_enabled": _flag(),
        "javascript_enabled": _flag(),
        "color_depth": {"anyOf": [{"type": "null"}, {"enum": [1, 4, 8, 15, 16, 24, 30, 32, 48]}]},
        "utc_offset": {"anyOf": [{"type": "null"}, {"type": "integer", "minimum": -840, "maximum": 720}]},
        "screen_width": _SCREEN,
        "screen_height": _SCREEN,
    },
}
CAPTURE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "PaysecureCaptureIn",
    "properties": {"amount": {"anyOf": [{"type": "null"}, _amount()], "description": "major units; all when left out"}},
}
REFUND_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "PaysecureRefundIn",
    "required": ["amount", "reason"],
    "properties": {"amount": _amount() | {"description": "major units"}, "reason": _text(500)},
}
REFUND_STATUS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "PaysecureRefundStatusIn",
    "required": ["refundId"],
    "properties": {"refundId": {"type": "string", "minLength": 1}},
}


class PaysecureS2SOut(BaseModel):
    status: Literal["pending"]
    callback_url: str
    method: Literal["GET"]


class PaysecurePurchaseOut(BaseModel):
    """The purchase object (paysecure.md section 3); every field listed there is present."""

    model_config = ConfigDict(extra="allow")
    purchaseId: str = Field(pattern="^[0-9a-f]{24}$")  # noqa: N815
    status: str
    status_history: list[dict[str, Any]]
    amountUnit: Literal["MAJOR"]  # noqa: N815
    is_test: bool
    direct_post_url: str
    checkout_url: str


class PaysecureCaptureIn(BaseModel):
    amount: float | str | None = Field(None, description="major units; the whole hold when left out")


class PaysecureCaptureOut(BaseModel):
    purchaseId: str  # noqa: N815
    status: Literal["PAID", "PARTIALLY_CAPTURED"]
    captured_amount: float
    released_amount: float
    payment: dict[str, Any] | None


class PaysecureRefundIn(BaseModel):
    amount: float | str = Field(description="major units")
    reason: str = Field(min_length=1, max_length=500)


class PaysecureRefundStatusIn(BaseModel):
    refundId: str = Field(min_length=1)  # noqa: N815


class PaysecureRefundOut(BaseModel):
    refundId: str  # noqa: N815
    purchaseId: str  # noqa: N815
    amount: float
    currency: str
    status: str
    reason: str | None
    createdOn: int  # noqa: N815
    refundOn: int  # noqa: N815


class PaysecureSavedCardOut(BaseModel):
    card_last_four: str
    token_reference: str


class PaysecureMessageOut(BaseModel):
    message: str
