"""The native API's request and response models (seed 002, extended with seed 003's operations).

Card fields arrive as plain strings and are turned into `PAN`/`CVV` values by `translate`, which
names the field on failure; pydantic errors never echo input back (see `errors`).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, field_validator, model_validator

from tessera.core.money import MAX_AMOUNT, card_currencies

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

    number: Annotated[str, Field(min_length=1, max_length=40, description="The card number (PAN)")]
    exp_month: Annotated[int | str, Field(description="1-12")]
    exp_year: Annotated[int | str, Field(description="Four digits (two are read as 20xx)")]
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

    ip: Annotated[str | None, Field(max_length=45)] = None
    user_agent: Annotated[str | None, Field(max_length=2048)] = None
    accept_header: Annotated[str | None, Field(max_length=2048)] = None
    language: Annotated[str | None, Field(max_length=35, pattern=r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")] = None
    color_depth: Literal[1, 4, 8, 15, 16, 24, 30, 32, 48] | None = None
    screen_height: Annotated[int | None, Field(ge=0, le=999999)] = None
    screen_width: Annotated[int | None, Field(ge=0, le=999999)] = None
    timezone_offset: Annotated[int | None, Field(ge=-840, le=720, description="minutes, as getTimezoneOffset()")] = None
    java_enabled: bool | None = None
    javascript_enabled: bool | None = None

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
    email: Annotated[str | None, Field(max_length=254)] = None
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
    save_card: Annotated[bool, Field(description="Save the card for `identifier` if the payment succeeds")] = False
    card_type: Literal["CREDIT", "DEBIT", "PREPAID"] | None = None
    nickname: Annotated[str | None, Field(max_length=200)] = None
    browser: BrowserIn | None = None  # the shopper's, for 3-D Secure and fraud checks

    def sources(self) -> int:
        return sum(x is not None for x in (self.token, self.card, self.saved_card))


class PaymentCreate(CardSourceIn):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "amount": 1000,
                "currency": "INR",
                "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
                "capture_method": "automatic",
                "reference": "order-1001",
                "return_url": "https://yoursite.com/payment/return",
                "browser": {"ip": "203.0.113.7", "user_agent": "Mozilla/5.0"},
            }
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
    return_url: Annotated[str | None, Field(max_length=2048)] = None
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
            "example": {
                "token": "tok_...",
                "browser": {"ip": "203.0.113.7", "user_agent": "Mozilla/5.0"},
            }
        }
    )

    return_url: Annotated[str | None, Field(max_length=2048)] = None

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


class AttemptOut(BaseModel):
    card: AttemptCardOut
    status: str = Field(description="requires_action, processing, succeeded, failed or expired")
    error_code: str | None
    created_at: str
    updated_at: str


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
        bool,
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
