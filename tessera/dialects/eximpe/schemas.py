"""Seed 004's Save Card request and responses (EximPe's wire format), for validation and OpenAPI."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class SaveCardIn(BaseModel):
    """Documents the request; `translate.save_command` validates it, reporting every bad field."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
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
        }
    )

    identifier: Annotated[str, Field(description="Unique identifier for the card owner")]
    card_number: Annotated[str, Field(description="Card number (`number` is accepted too)")]
    cardholder_name: str
    expiry_month: Annotated[int, Field(ge=1, le=12)]
    expiry_year: Annotated[int, Field(ge=2024)]
    network: Literal["VISA", "MASTERCARD", "AMEX", "DISCOVER", "RUPAY"]
    card_type: Literal["CREDIT", "DEBIT", "PREPAID"]
    card_holder_consent: Annotated[bool, Field(description="Must be true", json_schema_extra={"const": True})]
    nickname: str | None = None
    authorization_reference_number: Annotated[
        str | None, Field(description="Required for RUPAY (authorization reference) and AMEX (AEVV) only")
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
