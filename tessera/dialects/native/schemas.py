"""The native API's request and response models (seed 002, extended with seed 003's operations).

Card fields arrive as plain strings and are turned into `PAN`/`CVV` values by `translate`, which
names the field on failure; pydantic errors never echo input back (see `errors`).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from tessera.core.money import MAX_AMOUNT, card_currencies
from tessera.core.webhooks.endpoints import EVENT_TYPES
from tessera.dialects._common.patterns import py_ws

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# What the document promises, as the core checks it (`core.money`): the server stays the judge and
# answers in its own words, so these constraints are documented without pydantic enforcing them.
AMOUNT_SCHEMA: dict[str, Any] = {"exclusiveMinimum": 0, "maximum": MAX_AMOUNT}
# The active ISO 4217 codes that have a minor unit (funds, metals and test codes are refused).
CURRENCIES: list[str] = list(card_currencies())
CURRENCY_SCHEMA: dict[str, Any] = {"enum": CURRENCIES}


def _whole(value: Any) -> Any:
    # JSON Schema's "integer" admits 5.0 (a number with no fractional part): the server reads it as 5,
    # as the document says. Strings and 5.5 are still refused.
    return int(value) if isinstance(value, float) and value.is_integer() else value


Amount = Annotated[StrictInt, BeforeValidator(_whole)]
# An event type as GET /v1/events filters by it (`Services.list_events` refuses any other).
KnownEventType = Annotated[str, Field(json_schema_extra={"enum": sorted(EVENT_TYPES)})]
WholeNumber = Annotated[StrictInt, BeforeValidator(_whole)]

# A card number as the core reads it (`PAN.parse`): 12 to 19 ASCII digits, spaces and dashes anywhere.
# Its Luhn check digit and its brand's lengths are beyond any schema; the core names the field.
CARD_NUMBER_SCHEMA: dict[str, Any] = {"pattern": r"^[ -]*([0-9][ -]*){12,19}$"}
# An expiry month or year as a number, or as text of at most four digits (`Expiry.parse`).
EXP_MONTH_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "integer", "minimum": 1, "maximum": 12},
        {"type": "string", "pattern": py_ws(r"^\s*(0{0,3}[1-9]|0{0,2}1[0-2])\s*$")},
    ]
}
EXP_YEAR_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "integer", "minimum": 0, "maximum": 99},
        {"type": "integer", "minimum": 2000},
        {"type": "string", "pattern": py_ws(r"^\s*[0-9]{1,4}\s*$")},
    ]
}


# An absolute http(s) URL with a host and no credentials, as `urlsplit` reads one; which hosts are
# allowed (the merchant's domains, or where a webhook may go) is beyond any schema. A return URL's host
# is a name (a merchant's domain); a webhook's may also be an IPv6 literal such as [::1], whose validity
# (`urlsplit` refuses a malformed one) is beyond a pattern. A stray bracket is refused by both.
_URL_SCHEME = r"^\s*[Hh][Tt][Tt][Pp][Ss]?://"
_URL_REST = r"[^\s/?#@\[\]]*([/?#]|\s*$)"
HTTP_URL_PATTERN = py_ws(_URL_SCHEME + r"[^\s/?#@:\[\]]" + _URL_REST)
WEBHOOK_URL_PATTERN = py_ws(_URL_SCHEME + r"(\[[0-9A-Fa-f:.]+\]|[^\s/?#@:\[\]])" + _URL_REST)
RETURN_URL_SCHEMA: dict[str, Any] = {
    "pattern": HTTP_URL_PATTERN,
    "description": "Where the shopper comes back to after 3-D Secure: an absolute http or https URL without "
    "credentials, on one of the merchant's allowed domains",
}


# Not blank as Python's `str.strip` reads it (py_ws spells its white space out for every engine).
_NOT_BLANK = py_ws(r"\S")


def present(name: str) -> dict[str, Any]:
    """JSON Schema for "`name` is given and not null"."""
    return {"required": [name], "properties": {name: {"not": {"type": "null"}}}}


# The core's rule for a card the shopper enters, in full or as a token (`rules.check_source`): its
# CVV, and the shopper's browser (an IP address and a user agent that is not blank).
SHOPPER_PRESENT: dict[str, Any] = {
    "if": {"anyOf": [present("card"), present("token")]},
    "then": {
        "required": ["browser"],
        "properties": {
            "browser": {
                "type": "object",
                "required": ["ip", "user_agent"],
                "properties": {"ip": {"type": "string"}, "user_agent": {"type": "string", "pattern": _NOT_BLANK}},
            },
            "card": {"anyOf": [{"type": "null"}, {"required": ["cvc"], "properties": {"cvc": {"type": "string"}}}]},
        },
    },
}
# Whose card: a saved card is named with its owner, and a card is saved for one (`translate._source`,
# `rules._check_save`).
SAVED_CARD_OWNER: dict[str, Any] = {
    "if": present("saved_card"),
    "then": {"required": ["identifier"], "properties": {"identifier": {"type": "string", "minLength": 1}}},
}
SAVE_CARD_OWNER: dict[str, Any] = {
    "if": {"required": ["save_card"], "properties": {"save_card": {"const": True}}},
    "then": {"required": ["identifier"], "properties": {"identifier": {"type": "string", "pattern": _NOT_BLANK}}},
}
CARD_SOURCE_RULES: list[Any] = [SHOPPER_PRESENT, SAVED_CARD_OWNER, SAVE_CARD_OWNER]
# A token is made in the shopper's browser, so its card comes with its CVV.
TOKEN_CARD_CVC: dict[str, Any] = {
    "allOf": [{"properties": {"card": {"required": ["cvc"], "properties": {"cvc": {"type": "string"}}}}}]
}
SOURCES = ("token", "card", "saved_card")
AT_MOST_ONE_SOURCE: dict[str, Any] = {
    "not": {"anyOf": [{"allOf": [present(a), present(b)]} for i, a in enumerate(SOURCES) for b in SOURCES[i + 1 :]]}
}
EXACTLY_ONE_SOURCE: dict[str, Any] = {"oneOf": [present(name) for name in SOURCES]}


class CardIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "number": "4242424242424242",
                "exp_month": 12,
                "exp_year": 2030,
                "cvc": "123",
                "name": "Jane Doe",
            }
        }
    )

    number: Annotated[
        str,
        Field(
            min_length=1,
            max_length=40,
            description="The card number (PAN): 12 to 19 digits (spaces and dashes are ignored) with a valid "
            "Luhn check digit, of a supported brand and a length that brand issues",
            json_schema_extra=CARD_NUMBER_SCHEMA,
        ),
    ]
    exp_month: Annotated[
        WholeNumber | str, Field(description="1-12, as a number or text", json_schema_extra=EXP_MONTH_SCHEMA)
    ]
    exp_year: Annotated[
        WholeNumber | str,
        Field(
            description="Four digits (two are read as 20xx), at most 30 years ahead; a past month is refused "
            "as an expired card",
            json_schema_extra=EXP_YEAR_SCHEMA,
        ),
    ]
    cvc: Annotated[
        str | None,
        Field(
            max_length=8,
            description="3 digits, 4 for Amex. Required for tokens and for card data a shopper enters; "
            "only saving a card in the vault (POST /v1/cards) goes without it",
        ),
    ] = None
    name: Annotated[str | None, Field(max_length=200)] = None


class TokenCreate(BaseModel):
    model_config = ConfigDict(json_schema_extra=TOKEN_CARD_CVC)

    card: CardIn


class TokenCardOut(BaseModel):
    bin: str
    last4: str
    brand: str
    exp_month: int
    exp_year: int
    name: str | None = None


class TokenOut(BaseModel):
    id: str
    object: Literal["token"] = "token"
    card: TokenCardOut
    livemode: bool
    used: bool
    created_at: str
    expires_at: str


class BrowserIn(BaseModel):
    """The shopper's browser, as a 3-D Secure authentication request needs it."""

    ip: (
        Annotated[str, Field(max_length=45, json_schema_extra={"anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]})]
        | None
    ) = None
    user_agent: Annotated[str | None, Field(max_length=2048)] = None
    accept_header: Annotated[str | None, Field(max_length=2048)] = None
    language: Annotated[str | None, Field(max_length=35, pattern=r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")] = None
    color_depth: Literal[1, 4, 8, 15, 16, 24, 30, 32, 48] | None = None
    # The bounds come before the whole-number reader, so that pydantic documents them as JSON Schema's own.
    screen_height: Annotated[StrictInt, Field(ge=0, le=999999), BeforeValidator(_whole)] | None = None
    screen_width: Annotated[StrictInt, Field(ge=0, le=999999), BeforeValidator(_whole)] | None = None
    timezone_offset: Annotated[
        Annotated[StrictInt, Field(ge=-840, le=720), BeforeValidator(_whole)] | None,
        Field(description="minutes, as getTimezoneOffset()"),
    ] = None
    java_enabled: StrictBool | None = None
    javascript_enabled: StrictBool | None = None

    @field_validator("ip")
    @classmethod
    def _ip(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ipaddress.ip_address(value)
            except ValueError:
                raise ValueError("must be an IPv4 or IPv6 address") from None
        return value


class CustomerIn(BaseModel):
    id: Annotated[str | None, Field(max_length=200)] = None
    name: Annotated[str | None, Field(max_length=200)] = None
    email: Annotated[str, Field(max_length=254, json_schema_extra={"pattern": py_ws(_EMAIL.pattern)})] | None = None
    phone: Annotated[str | None, Field(max_length=40)] = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError("must be an email address")
        return value


class CardSourceIn(BaseModel):
    """Where a payment's card comes from (one of token, card, saved_card), and whether to save it."""

    token: Annotated[str | None, Field(max_length=64, description="A tok_ from POST /v1/tokens")] = None
    card: CardIn | None = None
    saved_card: Annotated[str | None, Field(max_length=40, description="A card_token from the vault")] = None
    identifier: Annotated[
        str | None, Field(max_length=200, description="The card owner: required with saved_card and save_card")
    ] = None
    save_card: Annotated[StrictBool, Field(description="Save the card for `identifier` if the payment succeeds")] = (
        False
    )
    card_type: Literal["CREDIT", "DEBIT", "PREPAID"] | None = None
    nickname: Annotated[str | None, Field(max_length=200)] = None
    browser: BrowserIn | None = None  # the shopper's, for 3-D Secure and fraud checks

    def sources(self) -> int:
        return sum(x is not None for x in (self.token, self.card, self.saved_card))


class PaymentCreate(CardSourceIn):
    model_config = ConfigDict(
        json_schema_extra={
            **AT_MOST_ONE_SOURCE,
            "allOf": CARD_SOURCE_RULES,
            "example": {
                "amount": 1000,
                "currency": "INR",
                "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
                "capture_method": "automatic",
                "reference": "order-1001",
                "return_url": "https://yoursite.com/payment/return",
                "browser": {"ip": "203.0.113.7", "user_agent": "Mozilla/5.0"},
            },
        }
    )

    amount: Annotated[
        Amount, Field(description="In the currency's minor unit (paise, cents)", json_schema_extra=AMOUNT_SCHEMA)
    ]
    currency: Annotated[
        str,
        Field(
            min_length=3,
            max_length=3,
            description="ISO 4217 code of a currency with a minor unit, in upper case (lower case is read too)",
            json_schema_extra=CURRENCY_SCHEMA,
        ),
    ]
    capture_method: Literal["automatic", "manual"] = "automatic"
    return_url: Annotated[str | None, Field(max_length=2048, json_schema_extra=RETURN_URL_SCHEMA)] = None
    reference: Annotated[str | None, Field(max_length=200)] = None
    description: Annotated[str | None, Field(max_length=1000)] = None
    customer: CustomerIn | None = None
    metadata: dict[str, Annotated[str, Field(max_length=500)]] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> PaymentCreate:
        if self.sources() > 1:
            raise ValueError("give at most one of token, card or saved_card (none makes an intent to confirm later)")
        return self


class PaymentConfirm(CardSourceIn):
    """The card for an intent (a payment made without one), and the shopper's browser."""

    model_config = ConfigDict(
        json_schema_extra={
            **EXACTLY_ONE_SOURCE,
            "allOf": CARD_SOURCE_RULES,
            "example": {
                "token": "tok_...",
                "browser": {"ip": "203.0.113.7", "user_agent": "Mozilla/5.0"},
            },
        }
    )

    return_url: Annotated[str | None, Field(max_length=2048, json_schema_extra=RETURN_URL_SCHEMA)] = None

    @model_validator(mode="after")
    def _one_source(self) -> PaymentConfirm:
        if self.sources() != 1:
            raise ValueError("give exactly one of token, card or saved_card")
        return self


class CaptureIn(BaseModel):
    amount: Annotated[
        Amount | None, Field(json_schema_extra=AMOUNT_SCHEMA, description="Part to capture; default all")
    ] = None


class RefundIn(BaseModel):
    amount: Annotated[
        Amount | None, Field(json_schema_extra=AMOUNT_SCHEMA, description="Part to refund; default all that is left")
    ] = None
    reason: Annotated[str | None, Field(max_length=200)] = None


class PaymentCardOut(BaseModel):
    bin: str
    last4: str
    brand: str
    exp_month: int
    exp_year: int
    card_token: str | None = None


class ErrorOut(BaseModel):
    code: str
    message: str
    param: str | None = None
    type: str | None = None


class ErrorBody(BaseModel):
    error: ErrorOut


class OperationOut(BaseModel):
    id: str
    type: str = Field(description="PA, DB, CP, RV, RF, RB, RC, CB or CR (seed 003)")
    amount: int
    status: str
    error_code: str | None
    reason_code: str | None
    created_at: str


class AttemptCardOut(BaseModel):
    bin: str
    last4: str
    brand: str
    exp_month: int
    exp_year: int


class RiskDecisionOut(BaseModel):
    code: str = Field(description="card_blocked, customer_blocked or risk_declined")
    rule_type: str = Field(description="blocklist or velocity_rule")
    rule_id: str = Field(description="the blocklist entry (blk_...) or velocity rule (rrl_...) that decided")
    reason: str


class AttemptOut(BaseModel):
    card: AttemptCardOut
    status: str = Field(description="requires_action, processing, succeeded, failed or expired")
    error_code: str | None
    created_at: str
    updated_at: str
    risk: RiskDecisionOut | None = Field(None, description="why the risk controls refused this attempt, if they did")


class AuthenticationOut(BaseModel):
    status: str | None = None
    eci: str | None = None
    version: str | None = None
    liability_shift: bool | None = None


class PaymentOut(BaseModel):
    id: str
    object: Literal["payment"] = "payment"
    status: str
    amount: int
    currency: str
    capture_method: str
    amount_authorized: int
    amount_captured: int
    amount_refunded: int
    amount_charged_back: int
    reference: str | None
    description: str | None
    card: PaymentCardOut | None = Field(description="null while an intent waits for its card")
    customer: dict[str, Any] | None
    browser: dict[str, Any] | None
    metadata: dict[str, Any] | None
    return_url: str | None
    authentication: AuthenticationOut | None
    error: ErrorOut | None
    redirect_url: str | None
    operations: list[OperationOut]
    original_payment_id: str | None
    livemode: bool
    created_at: str
    updated_at: str
    last_error: ErrorOut | None = Field(None, description="why the last attempt failed")
    attempts: list[AttemptOut] = Field(default_factory=list, description="every card tried, oldest first")
    attempts_remaining: int = Field(0, description="how many more cards an intent may try")
    fee: int | None = Field(
        None, description="the merchant's charge for this payment, in minor units of its currency (rounded half up)"
    )
    risk: RiskDecisionOut | None = Field(None, description="why the risk controls refused the last attempt, if so")


class PaymentList(BaseModel):
    object: Literal["list"] = "list"
    data: list[PaymentOut]
    has_more: bool
    next_cursor: str | None


class CardCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "card": {"number": "5506900480000008", "exp_month": 5, "exp_year": 2030, "name": "Priya Sharma"},
                "identifier": "USER_PS_001",
                "card_type": "CREDIT",
                "nickname": "HDFC Regalia Credit Card",
                "consent": True,
            }
        }
    )

    card: CardIn
    identifier: Annotated[str, Field(min_length=1, max_length=200, description="The card owner (your customer id)")]
    card_type: Literal["CREDIT", "DEBIT", "PREPAID"]
    nickname: Annotated[str | None, Field(max_length=200)] = None
    consent: Annotated[
        StrictBool,
        Field(description="The cardholder agreed to saving the card: must be true", json_schema_extra={"const": True}),
    ]


class CardOut(BaseModel):
    card_token: str
    object: Literal["card"] = "card"
    identifier: str
    brand: str
    card_type: str | None
    bin: str
    last4: str
    exp_month: int
    exp_year: int
    name: str | None
    nickname: str | None
    label: str
    network_token: str
    issuer_token: None
    livemode: bool
    created_at: str


class CardList(BaseModel):
    object: Literal["list"] = "list"
    data: list[CardOut]


class RebillIn(BaseModel):
    amount: Annotated[
        Amount, Field(json_schema_extra=AMOUNT_SCHEMA, description="In the original payment's currency, minor units")
    ]
    reference: Annotated[str | None, Field(max_length=200)] = None


class ChargebackIn(BaseModel):
    amount: Annotated[
        Amount | None,
        Field(json_schema_extra=AMOUNT_SCHEMA, description="Part charged back; default all that can be"),
    ] = None
    reason_code: Annotated[str | None, Field(max_length=40, description="The network's reason code, e.g. 10.4")] = None


class ReversalIn(BaseModel):
    amount: Annotated[
        Amount | None,
        Field(json_schema_extra=AMOUNT_SCHEMA, description="Part given back; default all charged back"),
    ] = None
