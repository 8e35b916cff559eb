"""Seed 000's order request and answers (EximPe's wire format), for OpenAPI.

The request is checked by `order_translate.order_command`, which reports every bad field at once;
these models document exactly what it accepts (issue 11: the fuzz suite holds the two to each other),
leaving out only what no schema can hold: a card number's check digit and brand, the CVV length of that
brand, an expiry relative to today, the merchant's return-URL domains, a saved card's existence. Card
fields are plain strings on the wire and become `PAN`/`CVV` values there.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tessera.core.money import MAX_AMOUNT, card_currencies, exponent
from tessera.dialects._common.patterns import py_ws


def words(*options: str) -> str:
    """A pattern for one of `options` in any ASCII letter case, with white space around it, as
    `order_translate` and `translate` read such words (stripped, upper-cased)."""
    spelt = ("".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in o) for o in options)
    return py_ws(rf"^\s*(?:{'|'.join(spelt)})\s*$")


def text(max_length: int) -> dict[str, Any]:
    """An optional text field: blank or null is as good as absent."""
    return {"anyOf": [{"type": "string", "maxLength": max_length}, {"type": "null"}]}


def filled(max_length: int) -> dict[str, Any]:
    """A required text field: a string that is not blank (white space around it is dropped)."""
    return {"type": "string", "maxLength": max_length, "pattern": py_ws(r"\S")}


def present(name: str) -> dict[str, Any]:
    """JSON Schema for "`name` is given and not null"."""
    return {"required": [name], "properties": {name: {"not": {"type": "null"}}}}


# A card number as `PAN.parse` reads it once white space around it is dropped: 12 to 19 ASCII digits,
# spaces and dashes anywhere. Its Luhn check digit and its brand's lengths are beyond any schema.
CARD_NUMBER_SCHEMA: dict[str, Any] = {
    "type": "string",
    "maxLength": 40,
    "pattern": py_ws(r"^\s*[ -]*([0-9][ -]*){12,19}\s*$"),
}
NETWORK_WORDS = ("visa", "mastercard", "amex", "discover", "rupay")

# The currencies the core takes (active ISO 4217 codes with a minor unit), in upper case or lower
# case; the request is still checked by `order_translate`, which answers in seed 004's words.
CURRENCY_SCHEMA: dict[str, Any] = {"enum": [*card_currencies(), *(c.lower() for c in card_currencies())]}


def _amount_pattern(digits: int) -> str:
    """A decimal string with exactly `digits` decimals and at most 12 digits before the point, worth
    more than zero and at most MAX_AMOUNT minor units (`order_translate._amount`, `money.to_minor`)."""
    significant = len(str(MAX_AMOUNT)) - digits  # MAX_AMOUNT is all nines: any number this long fits
    whole = "|".join(f"0{{0,{12 - k}}}[1-9][0-9]{{{k - 1}}}" for k in range(1, significant + 1))
    if not digits:
        return rf"^(?:{whole})$"
    fraction = "|".join(f"0{{{i}}}[1-9][0-9]{{{digits - 1 - i}}}" for i in range(digits))
    return rf"^(?:(?:{whole})\.[0-9]{{{digits}}}|0{{1,12}}\.(?:{fraction}))$"


def _amount_rules() -> list[Any]:
    """The amount's pattern for each number of decimals a currency has."""
    by_digits: dict[int, list[str]] = {}
    for code in card_currencies():
        by_digits.setdefault(exponent(code), []).extend((code, code.lower()))
    return [
        {
            "if": {"required": ["currency"], "properties": {"currency": {"enum": codes}}},
            "then": {"properties": {"amount": {"pattern": _amount_pattern(digits)}}},
        }
        for digits, codes in sorted(by_digits.items())
    ]


_SEED_EXAMPLE: dict[str, Any] = {
    "amount": "1000.00",
    "currency": "INR",
    "reference_id": "CARD_13MYHALESH7",
    "return_url": "https://yoursite.com/payment/callback/",
    "collection_mode": "s2s",
    "mop_type": "debit_card",
    "card_details": {
        "nickname": "VISA Debit",
        "number": "4895380110000003",
        "cardholder_name": "John Doe",
        "expiry_month": "05",
        "expiry_year": "2030",
        "cvv": "123",
        "network": "visa",
        "identifier": "EX0001",
        "save_card": True,
    },
    "buyer": {
        "name": "John Doe",
        "email": "john.doe@example.com",
        "phone": "+919876543210",
        "address": {
            "line_1": "123 Main Street",
            "line_2": "Apt 4B",
            "city": "City",
            "state": "State",
            "postal_code": "123456",
        },
        "ip_address": "192.168.1.100",
        "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36",
    },
    "product": {
        "name": "Sample Product",
        "description": "This is a sample product description",
        "hs_code": "98051000",
        "hs_code_description": "Portable automatic data processing machines",
        "type_of_goods": "physical_goods",
    },
    "invoice": {"number": "INV_0HOZ0C", "date": "2025-09-04"},
}


# Seed 000's card_details: a saved card (`token`, with its owner's `identifier`) or a new card. The
# server reads a new card's fields only without a token, so their rules are the `else` of that choice.
_NEW_CARD: dict[str, Any] = {
    "required": ["number", "cardholder_name", "expiry_month", "expiry_year", "cvv"],
    "properties": {
        "number": CARD_NUMBER_SCHEMA,
        "cardholder_name": filled(200),
        # A whole number of at most four digits (`_Check.whole`), 1-12.
        "expiry_month": {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": 12},
                {"type": "string", "pattern": py_ws(r"^\s*(0{0,3}[1-9]|0{0,2}1[0-2])\s*$")},
            ]
        },
        # At most four digits: two are read as 20xx, four from 2000 (`Expiry.parse`); how far ahead is
        # relative to today, beyond any schema.
        "expiry_year": {
            "anyOf": [
                {"type": "integer", "minimum": 0, "maximum": 99},
                {"type": "integer", "minimum": 2000, "maximum": 9999},
                {"type": "string", "pattern": py_ws(r"^\s*(0{0,2}[0-9]{1,2}|[2-9][0-9]{3})\s*$")},
            ]
        },
        # 3 or 4 digits; which of the two is the card brand's rule, beyond any schema.
        "cvv": {"type": "string", "pattern": py_ws(r"^\s*[0-9]{3,4}\s*$")},
        "nickname": text(200),
        "save_card": {"anyOf": [{"type": "boolean"}, {"type": "null"}]},
    },
    "if": {"required": ["save_card"], "properties": {"save_card": {"const": True}}},
    "then": {"required": ["identifier"], "properties": {"identifier": filled(200)}},
}
_SAVED_CARD: dict[str, Any] = {
    "required": ["token", "identifier"],
    "properties": {"token": filled(64), "identifier": filled(200), "number": {"type": "null"}},
}
CARD_DETAILS_RULES: dict[str, Any] = {"if": present("token"), "then": _SAVED_CARD, "else": _NEW_CARD}


class CardDetailsIn(BaseModel):
    """Either a new card (`number`, `cardholder_name`, expiry, `cvv`) or a saved card (`token`, with
    `identifier`); a new card's fields are not read with a token."""

    model_config = ConfigDict(json_schema_extra=CARD_DETAILS_RULES)

    number: Annotated[
        Any,
        Field(
            description="The card number (new card): 12 to 19 digits, spaces and dashes "
            "ignored, with a valid Luhn check digit, of a supported brand and length"
        ),
    ] = None
    cardholder_name: Annotated[Any, Field(description="Required with a new card")] = None
    expiry_month: Annotated[Any, Field(description='1-12, as a number or a string ("05")')] = None
    expiry_year: Annotated[
        Any,
        Field(
            description="Four digits (two are read as 20xx), as a number or a string, at most 30 years "
            "ahead; a past month is refused as EXPIRED_CARD"
        ),
    ] = None
    cvv: Annotated[Any, Field(description="3 digits, 4 for Amex, as a string; never stored")] = None
    network: Annotated[
        str | None,
        Field(
            max_length=20,
            description="visa, mastercard, amex, discover or rupay (any case); must be the card number's brand",
            json_schema_extra={"pattern": py_ws(r"^\s*$|") + words(*NETWORK_WORDS)},
        ),
    ] = None
    nickname: Annotated[Any, Field(description="Text of at most 200 characters (new card)")] = None
    identifier: Annotated[
        str | None, Field(max_length=200, description="The card owner: required with token and save_card")
    ] = None
    save_card: Annotated[
        Any, Field(description="true or false: save the card for `identifier` if the payment succeeds (new card)")
    ] = None
    token: Annotated[
        Any, Field(description="A saved card's card_token (saved card payment): then `number` is not sent")
    ] = None


class AddressIn(BaseModel):
    line_1: Annotated[str | None, Field(max_length=200)] = None
    line_2: Annotated[str | None, Field(max_length=200)] = None
    city: Annotated[str | None, Field(max_length=200)] = None
    state: Annotated[str | None, Field(max_length=200)] = None
    postal_code: Annotated[str | None, Field(max_length=200)] = None
    country: Annotated[str | None, Field(max_length=200)] = None


class BuyerIn(BaseModel):
    name: Annotated[str | None, Field(max_length=200)] = None
    email: Annotated[str | None, Field(max_length=254, pattern=py_ws(r"^\s*([^@\s]+@[^@\s]+\.[^@\s]+)?\s*$"))] = None
    phone: Annotated[
        str | None,
        Field(
            max_length=40,
            pattern=py_ws(r"^\s*(\+?[0-9][0-9 ()-]{4,18}[0-9()-])?\s*$"),
            description="An optional +, a digit, then 5 to 19 digits, spaces, brackets or dashes",
        ),
    ] = None
    address: AddressIn | None = None
    ip_address: Annotated[
        str,
        Field(
            max_length=45,
            description="The shopper's IP address (required)",
            json_schema_extra={"anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]},
        ),
    ]
    user_agent: Annotated[
        str, Field(max_length=2048, pattern=py_ws(r"\S"), description="The shopper's browser user agent (required)")
    ]


class ProductIn(BaseModel):
    name: Annotated[str | None, Field(max_length=200)] = None
    description: Annotated[str | None, Field(max_length=1000)] = None
    hs_code: Annotated[str | None, Field(max_length=10, pattern=py_ws(r"^\s*([0-9]{4,10})?\s*$"))] = None
    hs_code_description: Annotated[str | None, Field(max_length=500)] = None
    type_of_goods: Annotated[str | None, Field(max_length=50)] = None


class InvoiceIn(BaseModel):
    number: Annotated[str | None, Field(max_length=100)] = None
    date: (
        Annotated[
            str, Field(max_length=10, json_schema_extra={"anyOf": [{"format": "date"}, {"pattern": py_ws(r"^\s*$")}]})
        ]
        | None
    ) = Field(default=None, description="YYYY-MM-DD")


# An absolute http(s) URL with a host, once white space around it is dropped (`order_translate._return_url`,
# `rules.check_return_url`: no user name); which hosts are the merchant's is beyond any schema.
RETURN_URL_PATTERN = py_ws(r"^\s*[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#@:\[\]][^\s/?#@\[\]]*([/?#]|\s*$)")


class OrderIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": _SEED_EXAMPLE, "allOf": _amount_rules()})

    amount: Annotated[
        str,
        Field(
            description='A decimal string with exactly the currency\'s decimals ("1000.00" in INR, "1000" in JPY), '
            f"more than zero and at most {MAX_AMOUNT} minor units",
            pattern=r"^[0-9]{1,12}(\.[0-9]{1,4})?$",
        ),
    ]
    currency: Annotated[
        str,
        Field(
            description="ISO 4217 code of a currency with a minor unit, in upper or lower case",
            json_schema_extra=CURRENCY_SCHEMA,
        ),
    ]
    reference_id: Annotated[
        str,
        Field(max_length=200, pattern=py_ws(r"\S"), description="Your order reference: unique; a repeat answers 409"),
    ]
    return_url: Annotated[
        str,
        Field(
            max_length=2048,
            pattern=RETURN_URL_PATTERN,
            description="Where the shopper returns: an absolute http or https URL without a user name, on a "
            "whitelisted domain",
        ),
    ]
    collection_mode: Annotated[str, Field(max_length=40, pattern=words("s2s"), description='"s2s" (any case)')]
    mop_type: Annotated[
        str,
        Field(
            max_length=40,
            pattern=words("credit_card", "debit_card"),
            description="credit_card or debit_card, in either letter case",
        ),
    ]
    card_details: CardDetailsIn
    buyer: BuyerIn
    product: ProductIn | None = None
    invoice: InvoiceIn | None = None


class OrderCreatedData(BaseModel):
    order_id: str
    reference_id: str | None = None
    status: str
    acs_template: Annotated[
        str | None, Field(description="Base64 HTML page to render in the shopper's browser (3-D Secure)")
    ] = None


class OrderCreatedOut(BaseModel):
    success: Literal[True]
    message: str
    data: OrderCreatedData


class OrderCardOut(BaseModel):
    masked_card_number: str
    card_bin: str
    card_last4: str
    network: str | None
    cardholder_name: str | None
    expiry_month: int
    expiry_year: int
    card_token: str | None


class OrderStatusData(BaseModel):
    order_id: str
    reference_id: str | None
    status: Annotated[str, Field(description="payment_pending, payment_successful or failed")]
    amount: str
    currency: str
    mop_type: str | None
    payment_id: str | None
    bank_ref_num: str | None
    error_code: Annotated[
        str | None,
        Field(description="CARD_DECLINED, INSUFFICIENT_FUNDS, EXPIRED_CARD, INVALID_CVV, 3DS_FAILED or NETWORK_ERROR"),
    ]
    error_message: str | None
    card: OrderCardOut
    updated_at: str


class OrderStatusOut(BaseModel):
    success: Literal[True]
    message: str
    data: OrderStatusData


class OrderOut(BaseModel):
    success: Literal[True]
    message: str
    data: OrderStatusData
