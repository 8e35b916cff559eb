"""Seed 004's Save Card request and responses (EximPe's wire format), for validation and OpenAPI."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tessera.dialects._common.patterns import py_ws
from tessera.dialects.eximpe.order_schemas import CARD_NUMBER_SCHEMA, NETWORK_WORDS, words
from tessera.dialects.eximpe.translate import MIN_EXPIRY_YEAR


def _digits(value: str) -> dict[str, Any]:
    """A string of ASCII digits worth `value` (leading zeros and white space around it are read)."""
    return {"type": "string", "pattern": py_ws(rf"^\s*0*{value}\s*$")}


_FROM_MIN_YEAR = "(202[4-9]|20[3-9][0-9]|2[1-9][0-9]{2}|[3-9][0-9]{3}|[1-9][0-9]{4,})"  # MIN_EXPIRY_YEAR or later
# The card number is `card_number`, or `number` when `card_number` is not sent at all (`translate.save_command`).
_NUMBER_FIELD: dict[str, Any] = {
    "if": {"required": ["card_number"]},
    "else": {"required": ["number"], "properties": {"number": CARD_NUMBER_SCHEMA}},
}
# RuPay and Amex cards come with an authorization reference; any other card without the field at all.
_AUTH_REF: list[dict[str, Any]] = [
    {
        "if": {"required": ["network"], "properties": {"network": {"pattern": words("rupay", "amex")}}},
        "then": {
            "required": ["authorization_reference_number"],
            "properties": {"authorization_reference_number": {"type": "string", "pattern": py_ws(r"\S")}},
        },
    },
    {
        "if": {
            "required": ["network"],
            "properties": {"network": {"pattern": words("visa", "mastercard", "discover")}},
        },
        "then": {"not": {"required": ["authorization_reference_number"]}},
    },
]


_SEED_EXAMPLE: dict[str, Any] = {
    "identifier": "USER_PS_001",
    "card_number": "5506900480000008",
    "nickname": "HDFC Regalia Credit Card",
    "cardholder_name": "Priya Sharma",
    "expiry_month": 5,
    "expiry_year": 2030,
    "network": "MASTERCARD",
    "card_type": "CREDIT",
    "card_holder_consent": True,
}


def _save_card_rules(schema: dict[str, Any]) -> None:
    schema["required"].remove("card_number")  # `number` may stand in for it
    schema.update(_NUMBER_FIELD, allOf=_AUTH_REF, example=_SEED_EXAMPLE)


class SaveCardIn(BaseModel):
    """Documents the request; `translate.save_command` validates it, reporting every bad field."""

    model_config = ConfigDict(json_schema_extra=_save_card_rules)

    identifier: Annotated[
        str, Field(max_length=200, pattern=py_ws(r"\S"), description="Unique identifier for the card owner")
    ]
    card_number: Annotated[
        str, Field(description="Card number (`number` is accepted too)", json_schema_extra=CARD_NUMBER_SCHEMA)
    ]
    number: Annotated[Any, Field(description="The card number, read only when `card_number` is not sent")] = None
    cardholder_name: Annotated[str, Field(max_length=200, pattern=py_ws(r"\S"))]
    expiry_month: Annotated[
        int | str,
        Field(
            description="1-12, as a number or a string of digits",
            json_schema_extra={"anyOf": [{"type": "integer", "minimum": 1, "maximum": 12}, _digits("([1-9]|1[0-2])")]},
        ),
    ]
    expiry_year: Annotated[
        int | str,
        Field(
            description=f"From {MIN_EXPIRY_YEAR}, as a number or a string of digits, at most 30 years ahead; a card "
            "past its month is refused",
            json_schema_extra={"anyOf": [{"type": "integer", "minimum": MIN_EXPIRY_YEAR}, _digits(_FROM_MIN_YEAR)]},
        ),
    ]
    network: Annotated[
        str,
        Field(
            max_length=200,
            pattern=words(*NETWORK_WORDS),
            description="VISA, MASTERCARD, AMEX, DISCOVER or RUPAY (any case); must be the card number's brand",
        ),
    ]
    card_type: Annotated[
        str, Field(max_length=200, pattern=words("credit", "debit", "prepaid"), description="CREDIT, DEBIT or PREPAID")
    ]
    card_holder_consent: Annotated[bool, Field(description="Must be true", json_schema_extra={"const": True})]
    nickname: Annotated[str | None, Field(max_length=200)] = None
    authorization_reference_number: Annotated[
        str | None,
        Field(
            max_length=100,
            description="Required for RUPAY (authorization reference) and AMEX (AEVV); not sent for other networks",
        ),
    ] = None


class SavedCardData(BaseModel):
    card_label: str
    card_token: str
    issuer_token: None
    network_token: str


class SaveCardOut(BaseModel):
    success: Literal[True]
    message: str
    data: SavedCardData


class FieldError(BaseModel):
    code: str
    detail: str
    attr: str | None


class ValidationErrorBody(BaseModel):
    type: Literal["validation_error"]
    errors: list[FieldError]


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any] | None = None


class ErrorOut(BaseModel):
    success: Literal[False]
    error: ValidationErrorBody | ErrorDetail
