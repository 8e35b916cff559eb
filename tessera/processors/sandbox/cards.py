"""The sandbox's test cards: the one table that decides what every test card does.

The authorisation column is what the sandbox acquirer and issuer answer; the 3-D Secure column is
what the sandbox directory server and ACS do with the card. Any other valid card is approved with a
frictionless authentication. README's test-card tables are printed from this table: Tessera's own
cards, then the cards OPPWA's test system documents (seed 003's vendor; `docs/vendors/oppwa.md` 5.2),
which behave here as they do there, so an OPPWA client's test suite runs unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tessera.core.errors import ErrorCode
from tessera.core.vault.brands import detect


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
    table: str = "tessera"  # which of README's tables lists it: Tessera's own, or a vendor's test system's


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

# OPPWA's test cards, by scenario of its 3-D Secure 2 simulator (oppwa.md 5.2). Its "method data"
# variants (a 3DS method step first, or not) behave alike here: the sandbox has no method step. Cards
# whose number is already Tessera's (4242424242424242, 4111111111111111, 3530111333300000) keep
# Tessera's entry; Maestro numbers outside the vault's Maestro ranges (67xx but 6759/6761-6763, 6007)
# are not valid cards in Tessera and are left out.
_OPPWA_3DS2: tuple[tuple[str, ThreeDS, bool, tuple[str, ...]], ...] = (
    (
        "frictionless (Y)",
        ThreeDS.FRICTIONLESS,
        True,
        ("4200000000000091", "5200000000000007", "374500262001008", "6761301000993772")
        + ("4200000000000026", "5200000000000056", "375987000000062")
        + ("36177580677072", "6250947000000014"),
    ),
    (
        "attempted (A)",
        ThreeDS.ATTEMPTED,
        True,
        ("4200000000000109", "5200000000000023", "377277081382243")
        + ("4200000000000059", "5200000000000106", "373953192351004"),
    ),
    (
        "technical error (U)",
        ThreeDS.UNAVAILABLE,
        True,
        ("4012001037461114", "5434580000000006", "375987000169875", "6761301000941201"),
    ),
    (
        "cardholder not enrolled (N): 3DS_FAILED",
        ThreeDS.REJECTED,
        True,
        ("4012001037141112", "5457350076543210", "375987000169883", "6761301000946341"),
    ),
    (
        "card not participating: no authentication under `auto`, U under `required`",
        ThreeDS.FRICTIONLESS,
        False,
        ("4532497088771651", "5497260847316287", "343923092050144", "6761257707836567"),
    ),
    (
        "challenge; approved after the one-time password",
        ThreeDS.CHALLENGE,
        True,
        ("4200000000000042", "4200000000000067", "5200000000000015", "5200000000000049")
        + ("343434343434343", "375987000000021")
        + ("4200000000000018", "4200000000000075", "5200000000000064", "5200000000000072")
        + ("375987000169867", "371449635398431", "6759888888888888"),
    ),
)
# OPPWA's plain sample cards (PAY.ON's own S2S samples and ActiveMerchant's), approved without 3-D Secure.
_OPPWA_PLAIN = (
    ("4200000000000000", "Visa: approved (OPPWA's default sample card)"),
    ("4917300800000000", "Visa Electron: approved"),
    ("5454545454545454", "Mastercard: approved"),
    ("5105105105105100", "Mastercard: approved"),
    ("377777777777770", "Amex: approved"),
    ("30082246403846", "Diners Club: approved"),
)


def _brand_name(number: str) -> str:
    brand = detect(number)
    return {"unionpay": "UnionPay", "diners": "Diners Club"}.get(str(brand), str(brand).title())


def _oppwa_cards() -> tuple[TestCard, ...]:
    plain = tuple(TestCard(n, _A, d, enrolled=False, table="oppwa") for n, d in _OPPWA_PLAIN)
    threeds = tuple(
        TestCard(n, _A, f"{_brand_name(n)}: 3-D Secure 2 {scenario}", status, enrolled=enrolled, table="oppwa")
        for scenario, status, enrolled, numbers in _OPPWA_3DS2
        for n in numbers
    )
    return plain + threeds


# A number Tessera already has keeps Tessera's behaviour.
TEST_CARDS.update({card.number: card for card in _oppwa_cards() if card.number not in TEST_CARDS})

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


def markdown_table(table: str = "tessera") -> str:
    """A test-card table as README prints it (a unit test keeps the two in step): Tessera's own cards,
    or those of a vendor's test system (`"oppwa"`)."""
    rows = ["| number | 3-D Secure | authorisation | behaviour |", "|---|---|---|---|"]
    for card in TEST_CARDS.values():
        if card.table != table:
            continue
        outcome = card.error.value if card.error else "approved"
        threeds = card.threeds.value if card.enrolled else "not enrolled"
        rows.append(f"| `{card.number}` | {threeds} | {outcome} | {card.description} |")
    return "\n".join(rows)
