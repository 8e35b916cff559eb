"""Paysecure's words: its statuses, its error codes and messages (seed 001's word for word), and how
each core error code is said.

Every error is `{"message", "code"}` with HTTP 400, 401, 404, 405 or 415, as seed 001 says. The
messages of seed 001's list are quoted exactly (typos included: clients match on them).
"""

from __future__ import annotations

from tessera.core.errors import ErrorCode
from tessera.core.payments.model import PaymentStatus

# Seed 001's list of S2S error messages.
CLIENT_IP = "Client Ip could not be matched with Merchant Ip"
INVALID_CARD = "Invalid Card Information"
CARD_BLOCKED = "Card is Blocked"
KEY_TYPE = "Different Type of key used to create purchase and payment"
CHARGES = "You charges setting is incomplete. Please Contact to administrator"
ATTEMPTS = "Allowed Attempt for this Transaction has been consumed"
EXPIRY = "Invalid Card Expiry(Valid Format:MM/YY) must be greater than current month/year"
CUSTOMER_BLOCKED = "Customer profile is Blocked"
NOT_ALLOWED = "Customer/Card not allowed for transaction"

# paysecure.md's other messages.
AUTH_MISSING = "Authorization header missing"
AUTH_WRONG = "Incorrect secret_key"
NOT_FOUND = "PurchaseId Not found."
NOT_PAYABLE = "Only purchases that can be paid for can be initiated for payment."
NOT_CANCELLABLE = "Only purchases that can be paid for can be cancelled."
NOT_REFUNDABLE = "Only Purchases with `status == (paid)` can be refunded."
FULLY_REFUNDED = "This Purchase was already fully refunded."
BAD_JSON = "Request Body Not Found/MalFormed"
DUPLICATE_REF = "Duplicate merchantRef Found!"
BRAND_MISSING = "brand_id is missing"
BRAND_UNKNOWN = "Brand not found!"
CARD_MISSING = "Card Detail is missing"
TOKEN_INVALID = "token_reference is invalid"
TOKEN_DELETED = "Token deleted successfully"
LIVE_NOT_ALLOWED = "You are not Allowed for Live Transaction"
IN_PROCESS = "Some Processing is running on this purchaseId"

# Codes.
AUTH_FAILED = "authentication_failed"
TRANSACTION_ERROR = "transaction_error"
PARAMETER_MISSING = "parameter_missing"
INVALID_PARAMETER = "Invalid_Parameter"
INVALID_JSON = "invalid_json"
INVALID_AMOUNT = "invalid_amount"
MEDIA_TYPE = "unsupported_media_type"
TOKEN_CODE = "token_reference_invalid"
NOT_WHITELISTED = "IP_not_whitelisted"

# How each core error is said when a request is refused: (HTTP status, code, message). A message of
# None means the core's own (it names the field in this dialect's words, see `errors`).
ERRORS: dict[ErrorCode, tuple[int, str, str | None]] = {
    ErrorCode.CARD_DECLINED: (400, TRANSACTION_ERROR, "Transaction declined - try again"),
    ErrorCode.INSUFFICIENT_FUNDS: (400, TRANSACTION_ERROR, "Insufficient fund"),
    ErrorCode.EXPIRED_CARD: (400, TRANSACTION_ERROR, EXPIRY),
    ErrorCode.INVALID_CVV: (400, TRANSACTION_ERROR, "Cvv_error"),
    ErrorCode.THREEDS_FAILED: (400, TRANSACTION_ERROR, "3DS authentication failed"),
    ErrorCode.NETWORK_ERROR: (400, TRANSACTION_ERROR, "Temp error - try again"),
    ErrorCode.CARD_BLOCKED: (400, TRANSACTION_ERROR, CARD_BLOCKED),
    ErrorCode.CUSTOMER_BLOCKED: (400, TRANSACTION_ERROR, CUSTOMER_BLOCKED),
    ErrorCode.RISK_DECLINED: (400, TRANSACTION_ERROR, NOT_ALLOWED),
    ErrorCode.PARAMETER_INVALID: (400, TRANSACTION_ERROR, None),
    ErrorCode.PARAMETER_MISSING: (400, PARAMETER_MISSING, None),
    ErrorCode.AUTHENTICATION_REQUIRED: (401, AUTH_FAILED, AUTH_MISSING),
    ErrorCode.INVALID_API_KEY: (401, AUTH_FAILED, AUTH_WRONG),
    ErrorCode.PERMISSION_DENIED: (401, AUTH_FAILED, AUTH_WRONG),  # a publishable key is no secret key
    ErrorCode.MERCHANT_INACTIVE: (401, AUTH_FAILED, "Merchant account is not active"),
    ErrorCode.RESOURCE_MISSING: (404, TRANSACTION_ERROR, NOT_FOUND),
    ErrorCode.TOKEN_ALREADY_USED: (400, TOKEN_CODE, TOKEN_INVALID),
    ErrorCode.TOKEN_EXPIRED: (400, TOKEN_CODE, TOKEN_INVALID),
    ErrorCode.INVALID_STATE: (400, TRANSACTION_ERROR, None),
    ErrorCode.AMOUNT_TOO_LARGE: (400, INVALID_AMOUNT, None),
    ErrorCode.IDEMPOTENCY_KEY_IN_USE: (400, "already_in_process", IN_PROCESS),
    ErrorCode.IDEMPOTENCY_KEY_REUSED: (400, TRANSACTION_ERROR, None),
    ErrorCode.RETURN_URL_NOT_ALLOWED: (
        400,
        TRANSACTION_ERROR,
        "success_redirect and failure_redirect must be on one of the merchant's allowed domains",
    ),
    ErrorCode.CARD_ALREADY_SAVED: (400, TRANSACTION_ERROR, None),
    ErrorCode.DUPLICATE_REFERENCE: (400, TRANSACTION_ERROR, DUPLICATE_REF),
    ErrorCode.PROCESSOR_UNAVAILABLE: (400, TRANSACTION_ERROR, LIVE_NOT_ALLOWED),
    ErrorCode.OPERATION_NOT_SUPPORTED: (400, "payment_can_not_be_refunded", None),
    ErrorCode.IP_NOT_ALLOWED: (401, NOT_WHITELISTED, "IP is not whitelisted"),
    ErrorCode.CHARGES_INCOMPLETE: (400, TRANSACTION_ERROR, CHARGES),
    ErrorCode.SHOPPER_IP_IS_CALLER: (400, TRANSACTION_ERROR, CLIENT_IP),
    ErrorCode.ATTEMPTS_EXHAUSTED: (400, TRANSACTION_ERROR, ATTEMPTS),
}

# A failed attempt's reason, as `errorMsg` and the attempt's `error` say it (P1's after-callback texts).
DECLINES: dict[ErrorCode, tuple[str, str]] = {
    ErrorCode.CARD_DECLINED: ("Transaction declined - try again", "do_not_honour"),
    ErrorCode.INSUFFICIENT_FUNDS: ("Insufficient fund", "insufficient_funds"),
    ErrorCode.EXPIRED_CARD: ("Expired card", "expired_card"),
    ErrorCode.INVALID_CVV: ("Cvv_error", "validation_cvc_invalid"),
    ErrorCode.THREEDS_FAILED: ("3DS authentication failed", "3ds_authentication_failed"),
    ErrorCode.NETWORK_ERROR: ("Temp error - try again", "timeout"),
    ErrorCode.CARD_BLOCKED: (CARD_BLOCKED, "card_blocked"),
    ErrorCode.CUSTOMER_BLOCKED: (CUSTOMER_BLOCKED, "customer_blocked"),
    ErrorCode.RISK_DECLINED: (NOT_ALLOWED, "suspected_fraud"),
}
# Risk decisions are made before 3-D Secure and the acquirer: the S2S call itself is refused with them.
RISK_CODES = frozenset({ErrorCode.CARD_BLOCKED, ErrorCode.CUSTOMER_BLOCKED, ErrorCode.RISK_DECLINED})

# The purchase's status (upper case in the object, lower case in status_history).
STATUS: dict[PaymentStatus, str] = {
    PaymentStatus.REQUIRES_PAYMENT_METHOD: "CREATED",
    PaymentStatus.PROCESSING: "PAYMENT_IN_PROCESS",
    PaymentStatus.REQUIRES_ACTION: "PENDING_EXECUTE",
    PaymentStatus.AUTHORIZED: "HOLD",
    PaymentStatus.CAPTURED: "PAID",
    PaymentStatus.PARTIALLY_REFUNDED: "PARTIAL_REFUNDED",
    PaymentStatus.REFUNDED: "REFUNDED",
    PaymentStatus.VOIDED: "CANCELLED",
    PaymentStatus.CHARGED_BACK: "CHARGEBACK",
    PaymentStatus.FAILED: "ERROR",
    PaymentStatus.EXPIRED: "EXPIRED",
    PaymentStatus.CANCELED: "CANCELLED",
}
