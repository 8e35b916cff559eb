"""Rejection codes in the cardholder's name: OPPWA's test-system convention, kept by the sandbox acquirer.

On OPPWA's test system (seed 003's vendor; `docs/vendors/oppwa.md` 5.3) a rejection result code such as
`800.100.152` written as the card holder makes the acquirer simulator answer with that code. The
sandbox does the same in test mode, for every dialect: it declines with the code as its response code
and the core `ErrorCode` of the code's class (oppwa.md 4.1), so an OPPWA client's negative tests run
unchanged and other dialects see a fitting error. Success, review, pending and chargeback-notice codes
cannot be forced (as on OPPWA); nor can a code of no known class. This module knows codes by shape and
class only; it imports no dialect, and the dialect's own table of codes and descriptions stays there.
"""

from __future__ import annotations

import re

from tessera.core.errors import ErrorCode

RESULT_CODE = re.compile(r"\d{3}\.\d{3}\.\d{3}", re.ASCII)  # matched whole

# Codes that say something went well or is still going on: never a rejection (oppwa.md 4.1: success,
# success with review, pending, long pending, chargeback notices, frictionless authentication).
_NOT_REJECTIONS = re.compile(
    r"^(000\.000\.|000\.100\.1|000\.[36]|000\.400\.[1][12]0|000\.400\.0[^3]|000\.400\.100|000\.200"
    r"|800\.400\.5|100\.400\.500|000\.100\.2)"
)

# Single codes whose meaning is narrower than their class's.
_CODES: dict[str, ErrorCode] = {
    "800.100.153": ErrorCode.INVALID_CVV,  # transaction declined (invalid CVV)
    "800.100.192": ErrorCode.INVALID_CVV,  # invalid CVV, amount still reserved
    "100.100.600": ErrorCode.INVALID_CVV,  # empty CVV for VISA, MASTER, AMEX not allowed
    "100.100.601": ErrorCode.INVALID_CVV,  # invalid CVV/brand combination
    "800.100.157": ErrorCode.EXPIRED_CARD,  # transaction declined (wrong expiry date)
    "100.100.303": ErrorCode.EXPIRED_CARD,  # card expired
    "800.100.155": ErrorCode.INSUFFICIENT_FUNDS,  # amount exceeds credit
    "800.100.203": ErrorCode.INSUFFICIENT_FUNDS,  # Insufficient Funds (direct-debit return)
    "100.550.311": ErrorCode.INSUFFICIENT_FUNDS,  # exceeding account balance
    "100.400.121": ErrorCode.CARD_BLOCKED,  # account blacklisted
    "800.300.200": ErrorCode.CUSTOMER_BLOCKED,  # email is blacklisted
    "800.300.301": ErrorCode.RISK_DECLINED,  # ip blacklisted
    "800.300.302": ErrorCode.RISK_DECLINED,  # ip is anonymous proxy
}

# The rejection classes of oppwa.md 4.1, most specific first (3-D Secure's 100.380.4 before external
# risk's 100.38), each with the core error it means.
_CLASSES: tuple[tuple[re.Pattern[str], ErrorCode], ...] = tuple(
    (re.compile(pattern), code)
    for pattern, code in (
        (r"^(000\.400\.[1][0-9][1-9]|800\.400\.2|100\.380\.4|100\.390)", ErrorCode.THREEDS_FAILED),
        (r"^000\.400\.2", ErrorCode.RISK_DECLINED),  # risk management check communication error
        (r"^(900\.[1234]00|000\.400\.030)", ErrorCode.NETWORK_ERROR),  # communication with the acquirer
        (r"^(800\.[56]|999\.|600\.1|800\.800\.[84])", ErrorCode.NETWORK_ERROR),  # the acquirer's systems
        (r"^100\.39[765]", ErrorCode.CARD_DECLINED),  # asynchronous workflow (cancelled, timed out)
        (r"^300\.100\.100", ErrorCode.CARD_DECLINED),  # soft decline: the issuer wants authentication
        (r"^(100\.400\.[0-3]|100\.38|100\.370\.100|100\.370\.11)", ErrorCode.RISK_DECLINED),  # external risk
        (r"^800\.400\.1", ErrorCode.CARD_DECLINED),  # address verification failed
        (r"^(100\.100\.701|800\.[32])", ErrorCode.CARD_BLOCKED),  # blacklists
        (r"^800\.1[123456]0", ErrorCode.RISK_DECLINED),  # risk validation (duplicates, velocity, throttling)
        (r"^(600\.[23]|500\.[12]|800\.121)", ErrorCode.CARD_DECLINED),  # configuration
        (r"^(100\.[13]50|100\.250|100\.360)", ErrorCode.CARD_DECLINED),  # registrations and schedules
        (r"^700\.", ErrorCode.CARD_DECLINED),  # reference validation
        (r"^(200\.[123]|100\.[53][07]|800\.900|100\.[69]00\.500)", ErrorCode.CARD_DECLINED),  # format
        (r"^(100\.800|100\.[97]00|100\.100|100\.2[01]|100\.55)", ErrorCode.CARD_DECLINED),  # field validation
        (r"^(800\.[17]00|800\.800\.[123])", ErrorCode.CARD_DECLINED),  # declined by the bank
    )
)


def rejection(holder: str | None) -> ErrorCode | None:
    """The core error a rejection code written as the card holder means, or None when the holder is not
    one (a name, a success or pending code, or a code of no rejection class)."""
    if holder is None or not RESULT_CODE.fullmatch(holder) or _NOT_REJECTIONS.match(holder):
        return None
    code = holder
    if code in _CODES:
        return _CODES[code]
    for pattern, error in _CLASSES:
        if pattern.match(code):
            return error
    return None
