"""Pure translations between the native wire format and core commands and results."""

from __future__ import annotations

from typing import Any

from tessera.core.clock import iso_utc, utcnow
from tessera.core.errors import ErrorCode, TesseraError, ValidationError
from tessera.core.merchants import MerchantContext
from tessera.core.payments.commands import (
    CardSource,
    ConfirmPayment,
    CreatePayment,
    PaymentSource,
    SaveCardOnSuccess,
    SavedCardSource,
    TokenSource,
)
from tessera.core.payments.model import CaptureMethod, Payment, PaymentStatus
from tessera.core.vault.cards import CardType, SavedCard
from tessera.core.vault.pan import CVV, PAN, CardData, Expiry
from tessera.core.vault.service import SaveCard
from tessera.core.vault.tokens import CardToken
from tessera.dialects.native.schemas import CardCreate, CardIn, CardSourceIn, PaymentConfirm, PaymentCreate

CHANNEL = "native"

STATUS: dict[PaymentStatus, str] = {
    PaymentStatus.REQUIRES_PAYMENT_METHOD: "requires_payment_method",
    PaymentStatus.PROCESSING: "processing",
    PaymentStatus.REQUIRES_ACTION: "requires_action",
    PaymentStatus.AUTHORIZED: "authorized",
    PaymentStatus.CAPTURED: "completed",
    PaymentStatus.PARTIALLY_REFUNDED: "partially_refunded",
    PaymentStatus.REFUNDED: "refunded",
    PaymentStatus.VOIDED: "voided",
    PaymentStatus.CHARGED_BACK: "charged_back",
    PaymentStatus.FAILED: "failed",
    PaymentStatus.EXPIRED: "expired",
    PaymentStatus.CANCELED: "canceled",
}
# HTTP status of a confirmation: a declined card that leaves attempts answers 402 with the intent, as
# Stripe's card errors do; one that ends the payment is the one-call payment's 400.
CONFIRMED_HTTP: dict[PaymentStatus, int] = {
    PaymentStatus.REQUIRES_PAYMENT_METHOD: 402,
    PaymentStatus.REQUIRES_ACTION: 202,
    PaymentStatus.PROCESSING: 202,
    PaymentStatus.FAILED: 400,
}
STATUS_FROM_WIRE: dict[str, PaymentStatus] = {wire: status for status, wire in STATUS.items()}

# HTTP status of a freshly created payment, by its state (seed 002's table).
CREATED_HTTP: dict[PaymentStatus, int] = {
    PaymentStatus.REQUIRES_PAYMENT_METHOD: 201,
    PaymentStatus.CAPTURED: 201,
    PaymentStatus.AUTHORIZED: 201,
    PaymentStatus.REQUIRES_ACTION: 202,
    PaymentStatus.PROCESSING: 202,
    PaymentStatus.FAILED: 400,
}

# HTTP status and Stripe-style error type of each error code; card errors are 400, as seed 002's failed.
ERRORS: dict[ErrorCode, tuple[int, str]] = {
    ErrorCode.CARD_DECLINED: (400, "card_error"),
    ErrorCode.INSUFFICIENT_FUNDS: (400, "card_error"),
    ErrorCode.EXPIRED_CARD: (400, "card_error"),
    ErrorCode.INVALID_CVV: (400, "card_error"),
    ErrorCode.THREEDS_FAILED: (400, "card_error"),
    ErrorCode.NETWORK_ERROR: (400, "card_error"),
    ErrorCode.CARD_BLOCKED: (400, "card_error"),
    ErrorCode.CUSTOMER_BLOCKED: (400, "card_error"),
    ErrorCode.RISK_DECLINED: (400, "card_error"),
    ErrorCode.IP_NOT_ALLOWED: (403, "permission_error"),
    ErrorCode.CHARGES_INCOMPLETE: (400, "invalid_request_error"),
    ErrorCode.SHOPPER_IP_IS_CALLER: (400, "invalid_request_error"),
    ErrorCode.ATTEMPTS_EXHAUSTED: (409, "invalid_request_error"),
    ErrorCode.PARAMETER_INVALID: (400, "invalid_request_error"),
    ErrorCode.PARAMETER_MISSING: (400, "invalid_request_error"),
    ErrorCode.AUTHENTICATION_REQUIRED: (401, "authentication_error"),
    ErrorCode.INVALID_API_KEY: (401, "authentication_error"),
    ErrorCode.PERMISSION_DENIED: (403, "permission_error"),
    ErrorCode.MERCHANT_INACTIVE: (403, "permission_error"),
    ErrorCode.RESOURCE_MISSING: (404, "invalid_request_error"),
    ErrorCode.TOKEN_ALREADY_USED: (400, "invalid_request_error"),
    ErrorCode.TOKEN_EXPIRED: (400, "invalid_request_error"),
    ErrorCode.INVALID_STATE: (409, "invalid_request_error"),
    ErrorCode.AMOUNT_TOO_LARGE: (409, "invalid_request_error"),
    ErrorCode.IDEMPOTENCY_KEY_IN_USE: (409, "idempotency_error"),
    ErrorCode.IDEMPOTENCY_KEY_REUSED: (422, "idempotency_error"),
    ErrorCode.RETURN_URL_NOT_ALLOWED: (400, "invalid_request_error"),
    ErrorCode.PROCESSOR_UNAVAILABLE: (503, "api_error"),
    ErrorCode.OPERATION_NOT_SUPPORTED: (400, "invalid_request_error"),
    ErrorCode.CARD_ALREADY_SAVED: (409, "invalid_request_error"),
    ErrorCode.DUPLICATE_REFERENCE: (409, "invalid_request_error"),
}


def card_data(card: CardIn, *, prefix: str = "card") -> CardData:
    pan = PAN.parse(card.number, field=f"{prefix}.number")
    expiry = Expiry.parse(
        card.exp_month, card.exp_year, month_field=f"{prefix}.exp_month", year_field=f"{prefix}.exp_year", now=utcnow()
    )
    cvv = CVV.parse(card.cvc, pan.brand, field=f"{prefix}.cvc") if card.cvc is not None else None
    name = card.name.strip() if card.name and card.name.strip() else None
    return CardData(pan=pan, expiry=expiry, cvv=cvv, holder_name=name)


def _source(body: CardSourceIn) -> PaymentSource | None:
    if body.card is not None:
        return CardSource(card_data(body.card))
    if body.token is not None:
        return TokenSource(body.token)
    if body.saved_card is not None:
        if not body.identifier:
            raise ValidationError("identifier (the card owner's) is required with saved_card", field="identifier")
        return SavedCardSource(body.saved_card, body.identifier)
    return None


def _save(body: CardSourceIn, ctx: MerchantContext) -> SaveCardOnSuccess | None:
    if not body.save_card:
        return None
    if not body.identifier:
        raise ValidationError("identifier is required to save the card", field="identifier")
    return SaveCardOnSuccess(
        identifier=body.identifier,
        credential=ctx.client_id,
        consent_ip=body.browser.ip if body.browser else None,
        card_type=CardType(body.card_type) if body.card_type else None,
        nickname=body.nickname,
    )


def create_command(body: PaymentCreate, ctx: MerchantContext) -> CreatePayment:
    return CreatePayment(
        merchant_id=ctx.merchant_id,
        mode=ctx.mode,
        amount=body.amount,
        currency=body.currency,
        source=_source(body),
        capture_method=CaptureMethod(body.capture_method),
        reference=body.reference,
        description=body.description,
        return_url=body.return_url,
        customer=body.customer.model_dump(exclude_none=True) if body.customer else None,
        browser=body.browser.model_dump(exclude_none=True) if body.browser else None,
        metadata=body.metadata,
        save_card=_save(body, ctx),
        channel=CHANNEL,
    )


def confirm_command(payment_id: str, body: PaymentConfirm, ctx: MerchantContext) -> ConfirmPayment:
    source = _source(body)
    assert source is not None  # the schema requires one
    return ConfirmPayment(
        merchant_id=ctx.merchant_id,
        mode=ctx.mode,
        payment_id=payment_id,
        source=source,
        browser=body.browser.model_dump(exclude_none=True) if body.browser else None,
        return_url=body.return_url,
        save_card=_save(body, ctx),
    )


def _error(p: Payment) -> dict[str, Any] | None:
    if p.error_code is None:
        return None
    return {"code": p.error_code.value, "message": p.error_message or "", "type": ERRORS[p.error_code][1]}


def render_payment(p: Payment, base_url: str = "") -> dict[str, Any]:
    """`base_url` is where shoppers' browsers reach Tessera, for `redirect_url`."""
    return {
        "id": p.id,
        "object": "payment",
        "status": STATUS[p.status],
        "amount": p.amount,
        "currency": p.currency,
        "capture_method": p.capture_method.value,
        "amount_authorized": p.amount_authorized,
        "amount_captured": p.amount_captured,
        "amount_refunded": p.amount_refunded,
        "amount_charged_back": p.amount_charged_back,
        "reference": p.reference,
        "description": p.description,
        "card": (
            {
                "bin": p.card.bin,
                "last4": p.card.last4,
                "brand": p.card.brand,
                "exp_month": p.card.exp_month,
                "exp_year": p.card.exp_year,
                "card_token": p.card_token,
            }
            if p.card
            else None
        ),
        "customer": p.customer,
        "browser": p.browser,
        "metadata": p.metadata,
        "return_url": p.return_url,
        "authentication": (
            {
                "status": p.authentication.status,
                "eci": p.authentication.eci,
                "version": p.authentication.version,
                "liability_shift": p.authentication.liability_shift,
            }
            if p.authentication
            else None
        ),
        "error": _error(p) if p.status is PaymentStatus.FAILED or p.status is PaymentStatus.EXPIRED else None,
        "last_error": _error(p),
        "redirect_url": (
            f"{base_url}/shopper/payments/{p.id}/authenticate" if p.status is PaymentStatus.REQUIRES_ACTION else None
        ),
        "operations": [
            {
                "id": op.id,
                "type": op.type.value,
                "amount": op.amount,
                "status": op.status.value,
                "error_code": op.error_code.value if op.error_code else None,
                "reason_code": op.reason_code,
                "created_at": iso_utc(op.created_at),
            }
            for op in p.operations
        ],
        "original_payment_id": p.original_payment_id,
        "attempts": [
            {
                "card": {
                    "bin": a.card.bin,
                    "last4": a.card.last4,
                    "brand": a.card.brand,
                    "exp_month": a.card.exp_month,
                    "exp_year": a.card.exp_year,
                },
                "status": a.status.value,
                "error_code": a.error_code.value if a.error_code else None,
                "created_at": iso_utc(a.created_at),
                "updated_at": iso_utc(a.updated_at),
                "risk": a.risk,
            }
            for a in p.attempts
        ],
        "fee": p.fee,
        "risk": p.risk,
        "attempts_remaining": p.attempts_left if p.status is PaymentStatus.REQUIRES_PAYMENT_METHOD else 0,
        "livemode": p.mode == "live",
        "created_at": iso_utc(p.created_at),
        "updated_at": iso_utc(p.updated_at),
    }


def render_token(token: CardToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "object": "token",
        "card": {
            "bin": token.bin,
            "last4": token.last4,
            "brand": token.brand,
            "exp_month": token.exp_month,
            "exp_year": token.exp_year,
            "name": token.holder_name,
        },
        "livemode": token.mode == "live",
        "used": token.used_at is not None,
        "created_at": iso_utc(token.created_at),
        "expires_at": iso_utc(token.expires_at),
    }


def render_error(exc: TesseraError) -> tuple[int, dict[str, Any]]:
    status, kind = ERRORS.get(exc.code, (400, "invalid_request_error"))
    error: dict[str, Any] = {"code": exc.code.value, "message": exc.message, "type": kind}
    if exc.field:
        error["param"] = exc.field
    return status, {"error": error}


_MISSING = frozenset({"missing"})


def render_validation(errors: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    """The first pydantic error as a native error naming the field; never the input value."""
    first = errors[0] if errors else {"loc": (), "type": "value_error", "msg": "invalid request"}
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path", "header")]
    param = ".".join(loc) or None
    kind = str(first.get("type", ""))
    if kind == "json_invalid":
        code, message, param = ErrorCode.PARAMETER_INVALID, "the request body is not valid JSON", None
    elif not loc and kind in ("model_attributes_type", "dict_type", "missing"):
        code = ErrorCode.PARAMETER_INVALID
        message = "the request body must be a JSON object, sent with Content-Type: application/json"
    elif kind in _MISSING:
        code, message = ErrorCode.PARAMETER_MISSING, f"{param or 'a parameter'} is required"
    else:
        code = ErrorCode.PARAMETER_INVALID
        message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        if param:
            message = f"{param}: {message}"
    error: dict[str, Any] = {"code": code.value, "message": message, "type": "invalid_request_error"}
    if param:
        error["param"] = param
    return 400, {"error": error}


def save_command(body: CardCreate, ctx: MerchantContext, client_ip: str | None) -> SaveCard:
    card = card_data(body.card)
    return SaveCard(
        merchant_id=ctx.merchant_id,
        mode=ctx.mode,
        identifier=body.identifier,
        card=card,
        card_type=CardType(body.card_type),
        consent=body.consent,
        consent_ip=client_ip,
        credential=ctx.client_id,
        nickname=body.nickname,
    )


def render_card(card: SavedCard) -> dict[str, Any]:
    return {
        "card_token": card.card_token,
        "object": "card",
        "identifier": card.identifier,
        "brand": card.brand.value,
        "card_type": card.card_type.value if card.card_type else None,
        "bin": card.bin,
        "last4": card.last4,
        "exp_month": card.exp_month,
        "exp_year": card.exp_year,
        "name": card.holder_name,
        "nickname": card.nickname,
        "label": card.label,
        "network_token": card.network_token,
        "issuer_token": None,
        "livemode": card.mode == "live",
        "created_at": iso_utc(card.created_at),
    }
