"""Seed 000's order request and answers (EximPe's wire format), for OpenAPI.

The request is checked by `order_translate.order_command`, which reports every bad field at once;
these models document it. Card fields are plain strings on the wire and become `PAN`/`CVV` values
there.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tessera.core.money import MAX_AMOUNT, card_currencies

# The currencies the core takes (active ISO 4217 codes with a minor unit), documented as an enum; the
# request is still checked by `order_translate`, which answers in seed 004's words.
CURRENCY_SCHEMA: dict[str, Any] = {"enum": list(card_currencies())}

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


class CardDetailsIn(BaseModel):
    """Either a new card (`number`, `cardholder_name`, expiry, `cvv`) or a saved card (`token`)."""

    number: Annotated[str | None, Field(description="The card number (new card)")] = None
    cardholder_name: str | None = None
    expiry_month: Annotated[str | int | None, Field(description='1-12, as a number or a string ("05")')] = None
    expiry_year: Annotated[str | int | None, Field(description="Four digits, as a number or a string")] = None
    cvv: Annotated[str | None, Field(description="3 digits, 4 for Amex; never stored")] = None
    network: Annotated[str | None, Field(description="visa, mastercard, amex, discover or rupay (any case)")] = None
    nickname: str | None = None
    identifier: Annotated[str | None, Field(description="The card owner: required with token and save_card")] = None
    save_card: Annotated[bool | None, Field(description="Save the card for `identifier` if the payment succeeds")] = (
        None
    )
    token: Annotated[str | None, Field(description="A saved card's card_token (saved card payment)")] = None


class AddressIn(BaseModel):
    line_1: str | None = None
    line_2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None


class BuyerIn(BaseModel):
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: AddressIn | None = None
    ip_address: Annotated[str, Field(description="The shopper's IP address (required)")]
    user_agent: Annotated[str, Field(description="The shopper's browser user agent (required)")]


class ProductIn(BaseModel):
    name: str | None = None
    description: str | None = None
    hs_code: str | None = None
    hs_code_description: str | None = None
    type_of_goods: str | None = None


class InvoiceIn(BaseModel):
    number: str | None = None
    date: Annotated[str | None, Field(description="YYYY-MM-DD")] = None


class OrderIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": _SEED_EXAMPLE})

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
            description="ISO 4217 code of a currency with a minor unit, in upper case (lower case is read too)",
            json_schema_extra=CURRENCY_SCHEMA,
        ),
    ]
    reference_id: Annotated[str, Field(description="Your order reference: unique; a repeat answers 409")]
    return_url: Annotated[str, Field(description="Where the shopper returns; its domain must be whitelisted")]
    collection_mode: Literal["s2s"]
    mop_type: Annotated[str, Field(description="credit_card or debit_card, in either letter case")]
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
