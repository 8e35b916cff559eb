"""Paysecure's request and response shapes, for the OpenAPI document (the routes read their bodies
themselves, field by field, in `requests`). Vendor words stay here."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

S2SFlag = Literal["true"]


def json_body(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    """`openapi_extra` documenting a JSON body of `model` for a route that reads its body itself."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    return {"requestBody": {"required": required, "content": {"application/json": {"schema": schema}}}}


class PaysecureErrorOut(BaseModel):
    message: str
    code: str


class PaysecureClientIn(BaseModel):
    email: str = Field(max_length=254, examples=["user@example.com"])
    full_name: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=200)
    country: str = Field(pattern="^[A-Z]{2}$", examples=["GB"])
    stateCode: str = Field(min_length=1, max_length=10, examples=["LO"])  # noqa: N815
    street_address: str = Field(min_length=1, max_length=200)
    city: str = Field(min_length=1, max_length=200)
    zip_code: str = Field(min_length=1, max_length=200)
    customerId: str | None = Field(None, max_length=200)  # noqa: N815


class PaysecureProductIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    price: float | str = Field(description="major units, e.g. 20.00", examples=[20.0])
    quantity: float | str | None = None


class PaysecurePurchaseDetailsIn(BaseModel):
    currency: str = Field(examples=["EUR"])
    products: list[PaysecureProductIn] = Field(min_length=1, max_length=100)
    language: str | None = Field(None, max_length=35)
    notes: str | None = Field(None, max_length=1000)


class PaysecurePurchaseIn(BaseModel):
    client: PaysecureClientIn
    purchase: PaysecurePurchaseDetailsIn
    brand_id: str = Field(description="the merchant's brand_id (tessera merchant create --json)", max_length=64)
    success_redirect: str = Field(max_length=2048)
    failure_redirect: str = Field(max_length=2048)
    pending_redirect: str | None = Field(None, max_length=2048)
    cancel_redirect: str | None = Field(None, max_length=2048)
    success_callback: str | None = Field(None, max_length=2048)
    failure_callback: str | None = Field(None, max_length=2048)
    merchantRef: str | None = Field(None, max_length=100)  # noqa: N815
    skip_capture: bool = False
    send_receipt: bool = False


class PaysecureS2SIn(BaseModel):
    cardholder_name: str | None = Field(None, max_length=100, examples=["dk"])
    card_number: str | None = Field(None, min_length=10, max_length=20, examples=["4444333322221111"])
    expires: str | None = Field(None, pattern="^[0-9]{2}/[0-9]{2}$", examples=["10/30"])
    cvc: str = Field(pattern="^[0-9]{3,4}$", examples=["345"])
    remember_card: str | None = Field(None, examples=["on"])
    token_reference: str | None = Field(None, max_length=64, description="a saved card, instead of card fields")
    remote_ip: str = Field(max_length=45, examples=["157.38.242.7"])
    user_agent: str = Field(min_length=1, max_length=2048)
    accept_header: str = Field(min_length=1, max_length=2048)
    language: str | None = None
    java_enabled: bool | None = None
    javascript_enabled: bool | None = None
    color_depth: int | None = None
    utc_offset: int | None = None
    screen_width: int | str | None = None
    screen_height: int | str | None = None


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
