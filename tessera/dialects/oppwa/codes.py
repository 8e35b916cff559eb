"""OPPWA's result codes (oppwa.md section 4): each code's description, its HTTP status, and how each of
Tessera's ErrorCodes and outcomes is said as one.

Clients branch on `result.code` (by the published regular expressions), so each outcome has the code
OPPWA itself uses for it. An attempt whose acquirer answered with an OPPWA code (the sandbox's
holder-as-rejection-code convention, `RESULT_CODE`) is answered with that very code.
"""

from __future__ import annotations

import re

from tessera.core.errors import ErrorCode

RESULT_CODE = re.compile(r"^\d{3}\.\d{3}\.\d{3}$")

SUCCESS_TEST = "000.100.110"
SUCCESS_LIVE = "000.000.000"
PENDING = "000.200.000"
QUERY_OK = "000.000.100"
INVALID_PARAMETER = "200.300.404"
INVALID_METHOD = "200.300.403"
AUTH_INVALID = "800.900.300"
AUTH_NO_RIGHTS = "800.900.301"
THROTTLED = "800.120.100"
TIMED_OUT = "100.396.103"
UNCERTAIN = "900.100.300"

# Validation (format) codes for fields oppwa.md names one for.
INVALID_CARD = "100.100.101"
CARD_EXPIRED = "100.100.303"
INVALID_MONTH = "100.100.201"
INVALID_YEAR = "100.100.301"
INVALID_HOLDER = "100.100.401"
INVALID_BRAND = "100.100.501"
CVV_MISSING = "100.100.600"
INVALID_CVV = "100.100.601"
BRAND_MISMATCH = "100.100.700"
AMOUNT_MISSING = "100.550.300"
AMOUNT_TOO_LARGE = "100.550.301"
AMOUNT_FORMAT = "100.550.303"
CURRENCY_MISSING = "100.550.400"
CURRENCY_INVALID = "100.550.401"
PAYMENT_TYPE_INVALID = "100.500.201"
ID_TOO_LONG = "100.300.200"
EMAIL_INVALID = "100.900.101"
IP_INVALID = "100.900.401"
RESULT_URL_NOT_ALLOWED = "600.300.211"
REGISTRATION_MISSING = "100.150.200"
REGISTRATION_DELETED = "100.150.202"

# Reference (back-office) codes.
REF_UNKNOWN = "700.100.100"
REF_CURRENCY = "700.100.500"
REF_TYPE = "700.100.700"
REF_NO_ACCOUNT = "700.100.701"
REF_REJECTED = "700.300.200"
REF_ALREADY_DONE = "700.300.300"
REF_MULTIPLE_CB = "700.300.500"
REF_CHARGED_BACK = "700.300.600"
REF_NOT_REVERSIBLE = "700.300.700"
CAPTURE_REFUSED = "700.400.100"
REFUND_REFUSED = "700.400.200"
REVERSAL_REFUSED = "700.400.300"
CHARGEBACK_REFUSED = "700.400.400"
CHARGEBACK_INTERNAL = "700.400.402"
CR_ALREADY = "700.400.410"
CR_NO_CHARGEBACK = "700.400.420"
CAPTURE_NEEDS_PA = "700.400.510"
REFUND_NEEDS_CAPTURE = "700.400.520"
CHARGEBACK_NEEDS_CAPTURE = "700.400.550"
RECEIPT_NEEDS_PA = "700.400.560"
RECEIPT_INTERNAL = "700.400.562"
REF_PENDING = "700.400.570"
NOT_FOUND = "700.400.580"

DESCRIPTIONS: dict[str, str] = {
    SUCCESS_LIVE: "Transaction succeeded",
    QUERY_OK: "successful request",
    SUCCESS_TEST: "Request successfully processed in 'Merchant in Integrator Test Mode'",
    PENDING: "transaction pending",
    INVALID_PARAMETER: "invalid or missing parameter",
    INVALID_METHOD: "Invalid HTTP method",
    AUTH_INVALID: "invalid authentication information",
    AUTH_NO_RIGHTS: "user authorization failed, user has no sufficient rights to process transaction",
    THROTTLED: "Rejected by Throttling.",
    TIMED_OUT: "Previously pending transaction timed out",
    UNCERTAIN: "timeout, uncertain result",
    "900.100.300": "timeout, uncertain result",
    "900.100.600": "connector/acquirer currently down",
    "999.999.999": "UNDEFINED CONNECTOR/ACQUIRER ERROR",
    INVALID_CARD: "invalid creditcard, bank account number or bank name",
    CARD_EXPIRED: "card expired",
    INVALID_MONTH: "invalid month",
    INVALID_YEAR: "invalid year",
    INVALID_HOLDER: "cc/bank account holder too short or too long",
    INVALID_BRAND: "invalid credit card brand",
    CVV_MISSING: "empty CVV for VISA,MASTER, AMEX not allowed",
    INVALID_CVV: "invalid CVV/brand combination",
    BRAND_MISMATCH: "invalid cc number/brand combination",
    AMOUNT_MISSING: "request contains no amount or too low amount",
    AMOUNT_TOO_LARGE: "amount too large",
    AMOUNT_FORMAT: "amount format invalid (only two decimals allowed).",
    CURRENCY_MISSING: "request contains no currency",
    CURRENCY_INVALID: "invalid currency",
    PAYMENT_TYPE_INVALID: "payment type invalid",
    ID_TOO_LONG: "transaction id too long",
    EMAIL_INVALID: "invalid email address (probably invalid syntax)",
    IP_INVALID: "invalid ip number",
    RESULT_URL_NOT_ALLOWED: "shopperResultUrl not whitelisted",
    REGISTRATION_MISSING: "registration does not exist",
    REGISTRATION_DELETED: "registration is already deregistered",
    "100.380.401": "User Authentication Failed",
    "100.390.112": "Technical Error in 3D system",
    "800.100.100": "transaction declined for unknown reason",
    "800.100.151": "transaction declined (invalid card)",
    "800.100.152": "transaction declined by authorization system",
    "800.100.153": "transaction declined (invalid CVV)",
    "800.100.155": "transaction declined (amount exceeds credit)",
    "800.100.157": "transaction declined (wrong expiry date)",
    "900.100.301": "Transaction timed out without response from connector/acquirer. It was reversed.",
    "800.100.159": "transaction declined (stolen card)",
    "800.100.160": "transaction declined (card blocked)",
    "800.100.162": "transaction declined (limit exceeded)",
    "800.100.165": "transaction declined (card lost)",
    "800.100.171": "transaction declined (pick up card)",
    "800.110.100": "duplicate transaction",
    "800.120.101": "maximum number of transactions per account already exceeded",
    "800.300.101": "account or user is blacklisted",
    "800.300.200": "email is blacklisted",
    "800.300.301": "ip blacklisted",
    "800.300.401": "bin blacklisted",
    "800.900.401": "Invalid IP number",
    "500.100.201": "Channel/Merchant is disabled (no processing possible)",
    "600.200.500": "Invalid payment data. You are not configured for this currency or sub type (country or brand)",
    "600.200.400": "Unsupported Payment Type",
    "600.300.200": "merchant source IP address not whitelisted",
    "100.900.401": "invalid ip number",
    REF_UNKNOWN: "reference id not existing",
    REF_CURRENCY: "referenced payment currency does not match with requested payment currency",
    REF_TYPE: "referenced transaction is of inappropriate type",
    REF_NO_ACCOUNT: "referenced a DB transaction without explicitly providing an account. Not allowed to used "
    "referenced account.",
    REF_REJECTED: "referenced tx was rejected",
    REF_ALREADY_DONE: "referenced tx can not be refunded, captured or reversed "
    "(already refunded, captured or reversed)",
    REF_MULTIPLE_CB: "chargeback error (multiple chargebacks)",
    REF_CHARGED_BACK: "referenced tx can not be refunded or reversed (was chargebacked)",
    REF_NOT_REVERSIBLE: "referenced tx can not be reversed (reversal not possible anymore)",
    CAPTURE_REFUSED: "cannot capture (PA value exceeded, PA reverted or invalid workflow?)",
    REFUND_REFUSED: "cannot refund (refund volume exceeded or tx reversed or invalid workflow?)",
    REVERSAL_REFUSED: "cannot reverse (already refunded|reversed, invalid workflow or amount exceeded)",
    CHARGEBACK_REFUSED: "cannot chargeback (already chargebacked or invalid workflow?)",
    CHARGEBACK_INTERNAL: "chargeback can only be generated internally by the payment system",
    CR_ALREADY: "cannot reversal chargeback (chargeback is already reversaled or invalid workflow?)",
    CR_NO_CHARGEBACK: "cannot reversal chargeback (no chargeback existing or invalid workflow?)",
    CAPTURE_NEEDS_PA: "capture needs at least one successful transaction of type (PA)",
    REFUND_NEEDS_CAPTURE: "refund needs at least one successful transaction of type (CP or DB or RB or RC)",
    CHARGEBACK_NEEDS_CAPTURE: "chargeback needs at least one successful transaction of type (CP or DB or RB)",
    RECEIPT_NEEDS_PA: "receipt needs at least one successful transaction of type (PA or CP or DB or RB)",
    RECEIPT_INTERNAL: "receipts are configured to be generated only internally by the payment system",
    REF_PENDING: "cannot reference a waiting/pending transaction",
    NOT_FOUND: "cannot find transaction",
}

# How each Tessera ErrorCode is said: (HTTP status, result code). Declines are those of a payment that
# exists (HTTP 400 with the payment object); the rest are refusals of a request.
ERRORS: dict[ErrorCode, tuple[int, str]] = {
    ErrorCode.CARD_DECLINED: (400, "800.100.152"),
    ErrorCode.INSUFFICIENT_FUNDS: (400, "800.100.155"),
    ErrorCode.EXPIRED_CARD: (400, "800.100.157"),  # the issuer's; before the acquirer it is 100.100.303
    ErrorCode.INVALID_CVV: (400, "800.100.153"),
    ErrorCode.THREEDS_FAILED: (400, "100.380.401"),
    ErrorCode.NETWORK_ERROR: (400, "900.100.600"),
    ErrorCode.CARD_BLOCKED: (400, "800.300.101"),
    ErrorCode.CUSTOMER_BLOCKED: (400, "800.300.200"),
    ErrorCode.RISK_DECLINED: (400, "800.120.101"),
    ErrorCode.PARAMETER_INVALID: (400, INVALID_PARAMETER),
    ErrorCode.PARAMETER_MISSING: (400, INVALID_PARAMETER),
    ErrorCode.AUTHENTICATION_REQUIRED: (401, AUTH_INVALID),
    ErrorCode.INVALID_API_KEY: (401, AUTH_INVALID),
    ErrorCode.PERMISSION_DENIED: (403, AUTH_NO_RIGHTS),
    ErrorCode.MERCHANT_INACTIVE: (403, "500.100.201"),
    ErrorCode.RESOURCE_MISSING: (404, NOT_FOUND),
    ErrorCode.TOKEN_ALREADY_USED: (400, REGISTRATION_DELETED),
    ErrorCode.TOKEN_EXPIRED: (400, REGISTRATION_MISSING),
    ErrorCode.INVALID_STATE: (400, REF_TYPE),
    ErrorCode.AMOUNT_TOO_LARGE: (400, AMOUNT_TOO_LARGE),
    ErrorCode.IDEMPOTENCY_KEY_IN_USE: (400, "800.110.100"),
    ErrorCode.IDEMPOTENCY_KEY_REUSED: (400, "800.110.100"),
    ErrorCode.RETURN_URL_NOT_ALLOWED: (400, RESULT_URL_NOT_ALLOWED),
    ErrorCode.CARD_ALREADY_SAVED: (400, "800.110.100"),
    ErrorCode.DUPLICATE_REFERENCE: (400, "800.110.100"),
    ErrorCode.PROCESSOR_UNAVAILABLE: (400, "900.100.600"),
    ErrorCode.OPERATION_NOT_SUPPORTED: (400, "600.200.400"),
    ErrorCode.IP_NOT_ALLOWED: (403, "600.300.200"),
    ErrorCode.CHARGES_INCOMPLETE: (400, "600.200.500"),
    ErrorCode.SHOPPER_IP_IS_CALLER: (400, IP_INVALID),
    ErrorCode.ATTEMPTS_EXHAUSTED: (400, REF_ALREADY_DONE),
}

# The blocklist entry that refused a payment, said more exactly than CARD_BLOCKED (oppwa.md 4.2).
BLOCKED_BY: dict[str, str] = {
    "card": "800.300.101",
    "bin": "800.300.401",
    "email": "800.300.200",
    "customer": "800.300.101",
    "ip": "800.300.301",
}


def describe(code: str) -> str:
    return DESCRIPTIONS.get(code, "transaction declined" if code.startswith("800.") else "request refused")


def success(mode: str) -> str:
    """Test mode is OPPWA's integrator test (its simulator); live is the real thing."""
    return SUCCESS_TEST if mode == "test" else SUCCESS_LIVE


def is_success(code: str) -> bool:
    return re.match(r"^(000\.000\.|000\.100\.1|000\.[36])", code) is not None


def markdown_table() -> str:
    """The README's table: each Tessera ErrorCode, its HTTP status and result code."""
    lines = ["| Tessera error | HTTP | result.code | description |", "|---|---|---|---|"]
    for error, (status, code) in ERRORS.items():
        lines.append(f"| `{error.value}` | {status} | `{code}` | {describe(code)} |")
    return "\n".join(lines)
