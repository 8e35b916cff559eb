"""Every error the core raises, and the codes that name them.

    TesseraError(code, message, field=None)
    ├── ValidationError        bad input; names the field, never its value
    │   └── ValidationErrors   several at once
    ├── AuthenticationError    no credential, or an unknown one
    ├── PermissionDeniedError  a credential that may not do this
    ├── NotFoundError          no such resource for this merchant and mode
    ├── ConflictError          illegal transition, amount limit, idempotency key clash
    │   └── DuplicateReferenceError  a unique reference already used; names the existing payment
    ├── PaymentError           refused before any payment exists (an expired card)
    └── ProcessorError
        ├── ProcessorUnavailableError  no processor for this mode
        └── NotSupportedError          the processor cannot do this operation (checked before anything is committed)

Messages name fields and rules; they never carry a card number, a CVV or a secret.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    # Payment outcomes, in seed 000's words; every dialect maps these.
    CARD_DECLINED = "CARD_DECLINED"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    EXPIRED_CARD = "EXPIRED_CARD"
    INVALID_CVV = "INVALID_CVV"
    THREEDS_FAILED = "3DS_FAILED"
    NETWORK_ERROR = "NETWORK_ERROR"
    # Risk decisions (core.risk), made before 3-D Secure and the processor; an attempt that fails on one
    # is kept on the payment with the rule or list entry that decided it.
    CARD_BLOCKED = "card_blocked"  # the card, or its BIN, is on the merchant's blocklist
    CUSTOMER_BLOCKED = "customer_blocked"  # the customer's e-mail or identifier is on the blocklist
    RISK_DECLINED = "risk_declined"  # the shopper's IP is on the blocklist, or a velocity rule is exceeded
    # Refusals of a request.
    PARAMETER_INVALID = "parameter_invalid"
    PARAMETER_MISSING = "parameter_missing"
    AUTHENTICATION_REQUIRED = "authentication_required"
    INVALID_API_KEY = "invalid_api_key"
    PERMISSION_DENIED = "permission_denied"
    MERCHANT_INACTIVE = "merchant_inactive"
    RESOURCE_MISSING = "resource_missing"
    TOKEN_ALREADY_USED = "token_already_used"
    TOKEN_EXPIRED = "token_expired"
    INVALID_STATE = "invalid_state"
    AMOUNT_TOO_LARGE = "amount_too_large"
    IDEMPOTENCY_KEY_IN_USE = "idempotency_key_in_use"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    RETURN_URL_NOT_ALLOWED = "return_url_not_allowed"
    CARD_ALREADY_SAVED = "card_already_saved"
    DUPLICATE_REFERENCE = "duplicate_reference"
    PROCESSOR_UNAVAILABLE = "processor_unavailable"
    OPERATION_NOT_SUPPORTED = "operation_not_supported"
    # Refusals that risk controls bring (core.risk).
    IP_NOT_ALLOWED = "ip_not_allowed"  # a secret-key call from outside the merchant's API IP allowlist
    CHARGES_INCOMPLETE = "charges_incomplete"  # a live payment with no fee set for its brand and currency
    SHOPPER_IP_IS_CALLER = "shopper_ip_is_caller"  # the shopper's IP is the calling server's own address
    ATTEMPTS_EXHAUSTED = "attempts_exhausted"  # a card for a payment whose attempt budget is spent (it failed)


PAYMENT_ERROR_CODES: frozenset[ErrorCode] = frozenset(
    {
        ErrorCode.CARD_DECLINED,
        ErrorCode.INSUFFICIENT_FUNDS,
        ErrorCode.EXPIRED_CARD,
        ErrorCode.INVALID_CVV,
        ErrorCode.THREEDS_FAILED,
        ErrorCode.NETWORK_ERROR,
        ErrorCode.CARD_BLOCKED,
        ErrorCode.CUSTOMER_BLOCKED,
        ErrorCode.RISK_DECLINED,
    }
)


class TesseraError(Exception):
    """Base of every error the core raises on purpose."""

    default_code: ErrorCode = ErrorCode.PARAMETER_INVALID

    def __init__(self, message: str, *, code: ErrorCode | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code or self.default_code
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code.value!r}, field={self.field!r})"


class ValidationError(TesseraError):
    default_code = ErrorCode.PARAMETER_INVALID


class ValidationErrors(ValidationError):
    """Several fields at fault at once, for dialects that report every one (seed 004)."""

    def __init__(self, errors: list[ValidationError]) -> None:
        first = errors[0]
        super().__init__(first.message, code=first.code, field=first.field)
        self.errors = errors


class AuthenticationError(TesseraError):
    default_code = ErrorCode.INVALID_API_KEY


class PermissionDeniedError(TesseraError):
    default_code = ErrorCode.PERMISSION_DENIED


class NotFoundError(TesseraError):
    default_code = ErrorCode.RESOURCE_MISSING


class ConflictError(TesseraError):
    default_code = ErrorCode.INVALID_STATE


class DuplicateReferenceError(ConflictError):
    """A payment's unique reference is already taken by `existing_id` (which may be None if it could not be
    read back); nothing was charged for the repeat."""

    default_code = ErrorCode.DUPLICATE_REFERENCE

    def __init__(self, message: str, *, existing_id: str | None, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.existing_id = existing_id


class PaymentError(TesseraError):
    default_code = ErrorCode.CARD_DECLINED


class ProcessorError(TesseraError):
    default_code = ErrorCode.PROCESSOR_UNAVAILABLE


class ProcessorUnavailableError(ProcessorError):
    """No processor is configured for the credential's mode."""

    default_code = ErrorCode.PROCESSOR_UNAVAILABLE


class NotSupportedError(ProcessorError):
    """The payment's processor does not offer the operation asked for (its declared capabilities)."""

    default_code = ErrorCode.OPERATION_NOT_SUPPORTED
