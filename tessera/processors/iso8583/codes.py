"""The one table from an ISO 8583 response code (DE39) to the core's outcome and error code.

An approval is only ever `00`. A code the table does not hold, or a response whose DE39 cannot be read,
is UNKNOWN: the core then reverses the authorisation (or asks the host again for a capture or refund),
so a code we never heard of can neither approve a payment nor lose money.
"""

from __future__ import annotations

from tessera.core.errors import ErrorCode
from tessera.core.ports import Outcome

_DECLINED = Outcome.DECLINED
_CARD = ErrorCode.CARD_DECLINED
_NET = ErrorCode.NETWORK_ERROR

RESPONSE_CODES: dict[str, tuple[Outcome, ErrorCode | None]] = {
    "00": (Outcome.APPROVED, None),
    "01": (_DECLINED, _CARD),  # refer to card issuer
    "02": (_DECLINED, _CARD),  # refer to card issuer, special condition
    "03": (_DECLINED, _CARD),  # invalid merchant: our configuration
    "04": (_DECLINED, _CARD),  # pick up card
    "05": (_DECLINED, _CARD),  # do not honour
    "07": (_DECLINED, _CARD),  # pick up card, special condition
    "12": (_DECLINED, _CARD),  # invalid transaction
    "13": (_DECLINED, _CARD),  # invalid amount
    "14": (_DECLINED, _CARD),  # invalid card number
    "15": (_DECLINED, _CARD),  # no such issuer
    "19": (_DECLINED, _NET),  # re-enter transaction
    "25": (_DECLINED, _CARD),  # unable to locate the original (a follow-up of something the host never held)
    "30": (_DECLINED, _CARD),  # format error: our message is wrong
    "41": (_DECLINED, _CARD),  # lost card
    "43": (_DECLINED, _CARD),  # stolen card
    "51": (_DECLINED, ErrorCode.INSUFFICIENT_FUNDS),
    "54": (_DECLINED, ErrorCode.EXPIRED_CARD),
    "55": (_DECLINED, _CARD),  # incorrect PIN
    "57": (_DECLINED, _CARD),  # not permitted to cardholder
    "58": (_DECLINED, _CARD),  # not permitted to terminal
    "59": (_DECLINED, _CARD),  # suspected fraud
    "61": (_DECLINED, _CARD),  # exceeds amount limit
    "62": (_DECLINED, _CARD),  # restricted card
    "63": (_DECLINED, _CARD),  # security violation
    "65": (_DECLINED, _CARD),  # exceeds frequency limit (or a soft decline asking for SCA)
    "82": (_DECLINED, ErrorCode.INVALID_CVV),  # negative CVV / CAVV result
    "N7": (_DECLINED, ErrorCode.INVALID_CVV),  # CVV2 failure
    "91": (_DECLINED, _NET),  # issuer or switch inoperative: answered, nothing held
    "92": (_DECLINED, _NET),  # unable to route
    "96": (_DECLINED, _NET),  # system malfunction
    # "68" (answer received too late) and "94" (duplicate transmission) are deliberately absent: the
    # host does not say whether it holds the money, so they are UNKNOWN and the core reverses.
}


def outcome_of(code: object) -> tuple[Outcome, ErrorCode | None]:
    """The outcome of a DE39 value as it came off the wire (any type): UNKNOWN unless the table has it."""
    if not isinstance(code, str):
        return Outcome.UNKNOWN, None
    return RESPONSE_CODES.get(code, (Outcome.UNKNOWN, None))
