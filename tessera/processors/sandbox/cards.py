"""The sandbox's test cards: the one table that decides what every test card does.

The authorisation column is what the sandbox acquirer and issuer answer; the 3-D Secure column is
what the sandbox directory server and ACS do with the card. Any other valid card is approved with a
frictionless authentication. README's test-card table is printed from this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tessera.core.errors import ErrorCode


class Behaviour(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    REFUSE_CONNECTION = "refuse_connection"  # nothing reaches the acquirer
    NO_ANSWER = "no_answer"  # the acquirer takes the request and never answers


class ThreeDS(StrEnum):
    FRICTIONLESS = "Y"
    CHALLENGE = "C"
    REJECTED = "N"
    ATTEMPTED = "A"
    UNAVAILABLE = "U"


@dataclass(frozen=True, slots=True)
class TestCard:
    number: str
    behaviour: Behaviour
    description: str
    threeds: ThreeDS = ThreeDS.FRICTIONLESS
    error: ErrorCode | None = None
    response_code: str = "00"
    # Whether the card's range takes part in 3-D Secure; under the "auto" policy only these authenticate.
    enrolled: bool = True


_A = Behaviour.APPROVE
_D = Behaviour.DECLINE

TEST_CARDS: dict[str, TestCard] = {
    card.number: card
    for card in (
        TestCard("4242424242424242", _A, "Visa: approved; 3-D Secure frictionless (Y, ECI 05)"),
        TestCard("4111111111111111", _A, "Visa: approved; frictionless"),
        TestCard("4444333322221111", _A, "Visa: approved; frictionless (seed 001's sample)"),
        TestCard("5555555555554444", _A, "Mastercard: approved; frictionless (ECI 02)"),
        TestCard("2223003122003222", _A, "Mastercard (2-series): approved", enrolled=False),
        TestCard("5506900480000008", _A, "Mastercard: approved (seed 004's sample)", enrolled=False),
        TestCard("378282246310005", _A, "Amex: approved", enrolled=False),
        TestCard("6011111111111117", _A, "Discover: approved", enrolled=False),
        TestCard("3530111333300000", _A, "JCB: approved", enrolled=False),
        TestCard("36227206271667", _A, "Diners Club: approved", enrolled=False),
        TestCard("6521123456789012", _A, "RuPay: approved (seed 004's sample)", enrolled=False),
        TestCard("4000002500003155", _A, "challenge; approved after the one-time password", ThreeDS.CHALLENGE),
        TestCard(
            "4895380110000003", _A, "challenge; approved after the one-time password (seed 000)", ThreeDS.CHALLENGE
        ),
        TestCard(
            "4000008400001629",
            _D,
            "challenge; then the issuer declines",
            ThreeDS.CHALLENGE,
            ErrorCode.CARD_DECLINED,
            "05",
        ),
        TestCard("4000000000003089", _A, "frictionless rejection (N): 3DS_FAILED", ThreeDS.REJECTED),
        TestCard("4000000000003097", _A, "attempted (A): approved with ECI 06", ThreeDS.ATTEMPTED),
        TestCard(
            "4000000000003105", _A, "authentication unavailable (U): ECI 07, no liability shift", ThreeDS.UNAVAILABLE
        ),
        TestCard("4000000000000002", _D, "declined: CARD_DECLINED", error=ErrorCode.CARD_DECLINED, response_code="05"),
        TestCard(
            "4000000000009995",
            _D,
            "declined: INSUFFICIENT_FUNDS",
            error=ErrorCode.INSUFFICIENT_FUNDS,
            response_code="51",
        ),
        TestCard(
            "4000000000000069",
            _D,
            "declined as expired: EXPIRED_CARD",
            error=ErrorCode.EXPIRED_CARD,
            response_code="54",
        ),
        TestCard("4000000000000127", _D, "declined: INVALID_CVV", error=ErrorCode.INVALID_CVV, response_code="82"),
        TestCard(
            "4000000000000119",
            Behaviour.REFUSE_CONNECTION,
            "the acquirer refuses the connection: NETWORK_ERROR",
            error=ErrorCode.NETWORK_ERROR,
            response_code="",
        ),
        TestCard(
            "4000000000000259",
            Behaviour.NO_ANSWER,
            "the acquirer never answers: reversed, NETWORK_ERROR",
            error=ErrorCode.NETWORK_ERROR,
            response_code="",
        ),
    )
}

_DEFAULT = TestCard("", _A, "any other valid card: approved", enrolled=False)

# Captures and refunds fault by amount (in minor units), as the two cards above do for authorisations:
# a capture or refund of 40,000,119 never reaches the acquirer, one of 40,000,259 is applied and never
# answered. Large and odd, so that tests drawing everyday amounts at random do not stumble on them.
# docs/sandbox-faults.md describes them.
FOLLOW_UP_FAULTS: dict[int, Behaviour] = {40_000_119: Behaviour.REFUSE_CONNECTION, 40_000_259: Behaviour.NO_ANSWER}


def lookup(number: str) -> TestCard:
    return TEST_CARDS.get(number, _DEFAULT)


def follow_up_fault(amount: int) -> Behaviour | None:
    return FOLLOW_UP_FAULTS.get(amount)


def markdown_table() -> str:
    """The test-card table as README prints it (a unit test keeps the two in step)."""
    rows = ["| number | 3-D Secure | authorisation | behaviour |", "|---|---|---|---|"]
    for card in TEST_CARDS.values():
        outcome = card.error.value if card.error else "approved"
        threeds = card.threeds.value if card.enrolled else "not enrolled"
        rows.append(f"| `{card.number}` | {threeds} | {outcome} | {card.description} |")
    return "\n".join(rows)
