"""Pure translations between EximPe's wire format (seeds 000 and 004) and core commands and results.

Seed 004 reports every failing field in one response, so the Save Card request is checked field by
field here, collecting errors, rather than stopping at the first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tessera.core.clock import iso_utc, utcnow
from tessera.core.errors import (
    DuplicateReferenceError,
    ErrorCode,
    PaymentError,
    TesseraError,
    ValidationError,
    ValidationErrors,
)
from tessera.core.merchants import MerchantContext
from tessera.core.vault.brands import Brand
from tessera.core.vault.cards import CardType, SavedCard
from tessera.core.vault.pan import PAN, CardData, Expiry
from tessera.core.vault.service import SaveCard

NETWORKS: dict[str, Brand] = {
    "VISA": Brand.VISA,
    "MASTERCARD": Brand.MASTERCARD,
    "AMEX": Brand.AMEX,
    "DISCOVER": Brand.DISCOVER,
    "RUPAY": Brand.RUPAY,
}
NETWORK_NAMES: dict[Brand, str] = {brand: name for name, brand in NETWORKS.items()}
_NEEDS_AUTH_REF = {Brand.RUPAY: "Rupay", Brand.AMEX: "AMEX"}
REQUIRED = "This field is required."
MIN_EXPIRY_YEAR = 2024

# HTTP status and EximPe error code of each core error code outside validation.
ERRORS: dict[ErrorCode, tuple[int, str]] = {
    ErrorCode.AUTHENTICATION_REQUIRED: (401, "ERR_AUTH_000"),
    ErrorCode.INVALID_API_KEY: (401, "ERR_AUTH_000"),
    ErrorCode.PERMISSION_DENIED: (403, "ERR_AUTH_001"),
    ErrorCode.MERCHANT_INACTIVE: (403, "ERR_AUTH_002"),
    ErrorCode.RESOURCE_MISSING: (404, "ERR_NOT_FOUND"),
    ErrorCode.CARD_ALREADY_SAVED: (409, "ERR_CARD_EXISTS"),
    ErrorCode.DUPLICATE_REFERENCE: (409, "ERR_DUPLICATE_REFERENCE"),
    ErrorCode.INVALID_STATE: (409, "ERR_CONFLICT"),
    ErrorCode.AMOUNT_TOO_LARGE: (409, "ERR_CONFLICT"),
    ErrorCode.IDEMPOTENCY_KEY_IN_USE: (409, "ERR_IDEMPOTENCY"),
    ErrorCode.IDEMPOTENCY_KEY_REUSED: (422, "ERR_IDEMPOTENCY"),
    ErrorCode.PROCESSOR_UNAVAILABLE: (503, "ERR_UNAVAILABLE"),
    ErrorCode.OPERATION_NOT_SUPPORTED: (400, "ERR_NOT_SUPPORTED"),
    ErrorCode.CARD_DECLINED: (400, "CARD_DECLINED"),
    ErrorCode.INSUFFICIENT_FUNDS: (400, "INSUFFICIENT_FUNDS"),
    ErrorCode.EXPIRED_CARD: (400, "EXPIRED_CARD"),
    ErrorCode.INVALID_CVV: (400, "INVALID_CVV"),
    ErrorCode.THREEDS_FAILED: (400, "3DS_FAILED"),
    ErrorCode.NETWORK_ERROR: (400, "NETWORK_ERROR"),
    ErrorCode.CARD_BLOCKED: (400, "CARD_BLOCKED"),
    ErrorCode.CUSTOMER_BLOCKED: (400, "CUSTOMER_BLOCKED"),
    ErrorCode.RISK_DECLINED: (400, "RISK_DECLINED"),
    ErrorCode.IP_NOT_ALLOWED: (403, "ERR_IP_NOT_WHITELISTED"),
    ErrorCode.CHARGES_INCOMPLETE: (400, "ERR_CHARGES_INCOMPLETE"),
    ErrorCode.SHOPPER_IP_IS_CALLER: (400, "ERR_VALIDATION"),
    ErrorCode.ATTEMPTS_EXHAUSTED: (409, "ERR_CONFLICT"),
    ErrorCode.TOKEN_ALREADY_USED: (400, "ERR_VALIDATION"),
    ErrorCode.TOKEN_EXPIRED: (400, "ERR_VALIDATION"),
    ErrorCode.RETURN_URL_NOT_ALLOWED: (400, "ERR_DOMAIN_NOT_WHITELISTED"),
    ErrorCode.PARAMETER_INVALID: (400, "ERR_VALIDATION"),
    ErrorCode.PARAMETER_MISSING: (400, "ERR_VALIDATION"),
}


class Collector:
    def __init__(self) -> None:
        self.errors: list[ValidationError] = []

    def add(self, field: str, message: str) -> None:
        self.errors.append(ValidationError(message, field=field))

    def text(self, raw: dict[str, Any], field: str, *, required: bool = True, max_length: int = 200) -> str | None:
        value = raw.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add(field, REQUIRED)
            return None
        if not isinstance(value, str):
            self.add(field, "Not a valid string.")
            return None
        if len(value) > max_length:
            self.add(field, f"Ensure this field has no more than {max_length} characters.")
            return None
        return value.strip()

    def integer(self, raw: dict[str, Any], field: str) -> int | None:
        value = raw.get(field)
        if value is None or value == "":
            self.add(field, REQUIRED)
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON Schema's "integer" admits 5.0, a number with no fractional part
        if isinstance(value, bool) or not isinstance(value, int | str):
            self.add(field, "A valid integer is required.")
            return None
        text = str(value).strip()
        if not (text.isascii() and text.isdigit()):
            self.add(field, "A valid integer is required.")
            return None
        return int(text)

    def choice(self, raw: dict[str, Any], field: str, options: list[str]) -> str | None:
        value = self.text(raw, field)
        if value is None:
            return None
        upper = value.upper()
        if not value.isascii() or upper not in options:  # "vıSA" upper-cases to VISA
            self.add(field, f'"{value}" is not a valid choice. Choose one of {", ".join(options)}.')
            return None
        return upper


def save_command(raw: Any, ctx: MerchantContext, client_ip: str | None, *, now: datetime | None = None) -> SaveCard:
    """Seed 004's Save Card request as a core command; ValidationErrors lists every bad field."""
    if not isinstance(raw, dict):
        raise ValidationErrors([ValidationError("The request body must be a JSON object.", field=None)])
    now = now or utcnow()
    check = Collector()
    identifier = check.text(raw, "identifier")
    number_field = "card_number" if "card_number" in raw or "number" not in raw else "number"
    number = check.text(raw, number_field, max_length=40)
    holder = check.text(raw, "cardholder_name")
    nickname = check.text(raw, "nickname", required=False)
    month = check.integer(raw, "expiry_month")
    year = check.integer(raw, "expiry_year")
    network = check.choice(raw, "network", list(NETWORKS))
    card_type = check.choice(raw, "card_type", [t.value for t in CardType])
    consent = raw.get("card_holder_consent")
    if consent is None:
        check.add("card_holder_consent", REQUIRED)
    elif consent is not True:
        check.add("card_holder_consent", "Consent must be true to save card details.")
    auth_ref = check.text(raw, "authorization_reference_number", required=False, max_length=100)

    pan = None
    if number is not None:
        try:
            pan = PAN.parse(number, field=number_field)
        except ValidationError:
            check.add(number_field, "Invalid card number format.")
    if month is not None and not 1 <= month <= 12:
        check.add("expiry_month", "Ensure this value is between 1 and 12.")
        month = None
    if year is not None and year < MIN_EXPIRY_YEAR:
        check.add("expiry_year", f"Ensure this value is greater than or equal to {MIN_EXPIRY_YEAR}.")
        year = None
    expiry = None
    if month is not None and year is not None:
        try:
            expiry = Expiry.parse(month, year, month_field="expiry_month", year_field="expiry_year", now=now)
        except PaymentError:
            check.add("expiry_year", "The card has expired.")
        except ValidationError as exc:
            check.add(exc.field or "expiry_year", "Ensure this value is a valid card expiry year.")
    brand = NETWORKS.get(network) if network else None
    if pan is not None and brand is not None and pan.brand is not brand:
        check.add("network", f"The card number is not a {network} card.")
    if brand is not None:
        if brand in _NEEDS_AUTH_REF and auth_ref is None:
            check.add(
                "authorization_reference_number",
                f"Authorization reference number is required for {_NEEDS_AUTH_REF[brand]} cards.",
            )
        elif brand not in _NEEDS_AUTH_REF and "authorization_reference_number" in raw:
            check.add(
                "authorization_reference_number",
                f"Authorization reference number must not be sent for {network} cards.",
            )
    if check.errors:
        raise ValidationErrors(check.errors)
    assert identifier and pan and expiry and card_type and brand
    return SaveCard(
        merchant_id=ctx.merchant_id,
        mode=ctx.mode,
        identifier=identifier,
        card=CardData(pan=pan, expiry=expiry, cvv=None, holder_name=holder),
        card_type=CardType(card_type),
        consent=True,
        consent_ip=client_ip,
        credential=ctx.client_id,
        nickname=nickname,
        network=brand,
    )


def render_saved(card: SavedCard) -> dict[str, Any]:
    return {
        "card_label": card.label,
        "card_token": card.card_token,
        "issuer_token": None,
        "network_token": card.network_token,
    }


def render_card(card: SavedCard) -> dict[str, Any]:
    """A saved card in token management's answers: never more than BIN and last 4 of the number."""
    return {
        **render_saved(card),
        "identifier": card.identifier,
        "network": NETWORK_NAMES.get(card.brand, card.brand.value.upper()),
        "card_type": card.card_type.value if card.card_type else None,
        "card_bin": card.bin,
        "card_last4": card.last4,
        # BIN and last 4 with the brand's usual length between them (16, Amex 15): the vault keeps no PAN
        # length, and a network token has the brand's usual length (cards.new_network_token).
        "masked_card_number": f"{card.bin}{'X' * (len(card.network_token) - 10)}{card.last4}",
        "cardholder_name": card.holder_name,
        "nickname": card.nickname,
        "expiry_month": card.exp_month,
        "expiry_year": card.exp_year,
        "created_at": iso_utc(card.created_at),
    }


def validation_body(errors: list[ValidationError]) -> dict[str, Any]:
    return {
        "success": False,
        "error": {
            "type": "validation_error",
            "errors": [{"code": "invalid", "detail": e.message, "attr": e.field} for e in errors],
        },
    }


# The core names fields in its own (the native API's) terms; seed 000/004 name them so.
FIELDS: dict[str, str] = {
    "unique_reference": "reference_id",
    "browser.ip": "buyer.ip_address",
    "browser.user_agent": "buyer.user_agent",
    "card.cvc": "card_details.cvv",
}


def _renamed(exc: ValidationError) -> ValidationError:
    if exc.field not in FIELDS:
        return exc
    return ValidationError(exc.message.replace(exc.field, FIELDS[exc.field]), code=exc.code, field=FIELDS[exc.field])


def error_body(exc: TesseraError) -> tuple[int, dict[str, Any]]:
    if isinstance(exc, ValidationErrors):
        return 400, validation_body([_renamed(e) for e in exc.errors])
    if isinstance(exc, ValidationError) and exc.code in (ErrorCode.PARAMETER_INVALID, ErrorCode.PARAMETER_MISSING):
        return 400, validation_body([_renamed(exc)])
    field = FIELDS.get(exc.field, exc.field) if exc.field else None
    status, code = ERRORS.get(exc.code, (400, "ERR_VALIDATION"))
    if status == 401:
        message = "Missing credentials" if exc.code is ErrorCode.AUTHENTICATION_REQUIRED else "Invalid credentials"
        return status, {
            "success": False,
            "error": {"code": code, "message": message, "details": {"authentication": message + "."}},
        }
    error: dict[str, Any] = {"code": code, "message": exc.message}
    if isinstance(exc, DuplicateReferenceError):
        error["details"] = {field or "reference_id": exc.message, "order_id": exc.existing_id}
    elif field:
        error["details"] = {field: exc.message}
    return status, {"success": False, "error": error}
