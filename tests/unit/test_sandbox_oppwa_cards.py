"""OPPWA's documented test cards behave in the sandbox as on OPPWA's test system (oppwa.md 5.2)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tessera.core.money import numeric_code
from tessera.core.ports import AuthorizeRequest, Outcome
from tessera.core.threeds.model import AuthenticationRequest, BrowserInfo, build_areq, new_trans_id
from tessera.core.threeds.service import Decision, Policy, decide, read_ares
from tessera.core.vault.brands import detect
from tessera.core.vault.pan import CVV, PAN, Expiry
from tessera.processors.sandbox.cards import TEST_CARDS, Behaviour, ThreeDS, markdown_table
from tessera.processors.sandbox.processor import SandboxProcessor
from tessera.sandbox.directory import SandboxDirectoryServer

README = (Path(__file__).parents[2] / "README.md").read_text()
NOW = datetime(2026, 11, 21, 10, 30, tzinfo=UTC)
KEY = b"sandbox-key-for-tests-32-bytes!!"
BROWSER = BrowserInfo("203.0.113.7", "Mozilla/5.0", "text/html", "en", 24, 900, 1440, -60, False, True)
OPPWA = {number: card for number, card in TEST_CARDS.items() if card.table == "oppwa"}


def _authorize(number: str) -> AuthorizeRequest:
    pan = PAN.parse(number)
    cvv = CVV("1234" if pan.brand.value == "amex" else "123")
    return AuthorizeRequest("op_1", "pay_1", "mer_1", 9200, "EUR", pan, Expiry(5, 2034), cvv, "Jane Jones", True)


async def _ares_status(number: str) -> tuple[str, str | None, Decision, Decision]:
    ds = SandboxDirectoryServer(acs_url="http://127.0.0.1:8000/sandbox/acs", key=KEY)
    trans_id = new_trans_id()
    request = AuthenticationRequest(
        number, 5, 2034, 9200, numeric_code("EUR"), 2, "Shop", "http://127.0.0.1/notify", BROWSER
    )
    ares = await ds.authenticate(build_areq(request, trans_id=trans_id, now=NOW))
    brand = detect(number)
    assert brand is not None
    result = read_ares(ares, trans_id=trans_id, brand=brand)
    return result.status.value, result.eci, decide(result, Policy.AUTO), decide(result, Policy.REQUIRED)


def test_oppwas_sample_card_and_its_3ds2_simulator_cards_are_in_the_table() -> None:
    for number in ("4200000000000000", "4200000000000091", "4200000000000109", "4200000000000042", "4012001037141112"):
        assert number in OPPWA
    assert len(OPPWA) >= 40


def test_numbers_tessera_already_had_keep_tessera_behaviour() -> None:
    for number in ("4242424242424242", "4111111111111111", "3530111333300000"):
        assert TEST_CARDS[number].table == "tessera"
        assert number not in OPPWA


@pytest.mark.parametrize("number", sorted(OPPWA))
def test_every_oppwa_card_is_a_valid_card_number(number: str) -> None:
    assert PAN.parse(number).reveal() == number


@pytest.mark.parametrize("number", sorted(OPPWA))
async def test_every_oppwa_card_is_approved_by_the_acquirer(number: str) -> None:
    assert OPPWA[number].behaviour is Behaviour.APPROVE
    result = await SandboxProcessor().authorize(_authorize(number))
    assert result.outcome is Outcome.APPROVED and result.response_code == "00"


async def test_4200000000000000_pays_without_3ds_under_the_default_policy() -> None:
    ds = SandboxDirectoryServer(acs_url="http://x/acs", key=KEY)
    assert not await ds.is_enrolled("4200000000000000")
    assert (await SandboxProcessor().authorize(_authorize("4200000000000000"))).outcome is Outcome.APPROVED


@pytest.mark.parametrize(
    ("number", "status", "eci", "auto", "required"),
    [
        ("4200000000000091", "Y", "05", Decision.PROCEED, Decision.PROCEED),  # frictionless, Visa ECI 05
        ("5200000000000007", "Y", "02", Decision.PROCEED, Decision.PROCEED),  # frictionless, Mastercard ECI 02
        ("6761301000993772", "Y", "02", Decision.PROCEED, Decision.PROCEED),  # Maestro, Mastercard family
        ("4200000000000026", "Y", "05", Decision.PROCEED, Decision.PROCEED),
        ("4200000000000109", "A", "06", Decision.PROCEED, Decision.PROCEED),  # attempted, Visa ECI 06
        ("5200000000000106", "A", "01", Decision.PROCEED, Decision.PROCEED),  # attempted, Mastercard ECI 01
        ("4012001037461114", "U", "07", Decision.PROCEED, Decision.FAIL),  # technical error
        ("4012001037141112", "N", "07", Decision.FAIL, Decision.FAIL),  # not enrolled, status N
        ("4200000000000042", "C", None, Decision.CHALLENGE, Decision.CHALLENGE),
        ("4200000000000018", "C", None, Decision.CHALLENGE, Decision.CHALLENGE),
        ("343434343434343", "C", None, Decision.CHALLENGE, Decision.CHALLENGE),
    ],
)
async def test_the_directory_answers_oppwas_3ds2_cards_as_its_simulator(
    number: str, status: str, eci: str | None, auto: Decision, required: Decision
) -> None:
    assert await SandboxDirectoryServer(acs_url="http://x/acs", key=KEY).is_enrolled(number)
    assert await _ares_status(number) == (status, eci, auto, required)


async def test_a_card_not_participating_skips_3ds_under_auto_and_is_unavailable_when_forced() -> None:
    number = "4532497088771651"
    assert not await SandboxDirectoryServer(acs_url="http://x/acs", key=KEY).is_enrolled(number)
    status, _, _, required = await _ares_status(number)
    assert (status, required) == ("U", Decision.FAIL)


def test_each_3ds2_scenario_has_cards_of_several_brands() -> None:
    by_status: dict[ThreeDS, set[str]] = {}
    for card in OPPWA.values():
        if card.enrolled:
            by_status.setdefault(card.threeds, set()).add(str(detect(card.number)))
    for status in ThreeDS:
        assert {"visa", "mastercard", "amex"} <= by_status[status], status


def test_readme_prints_oppwas_card_table() -> None:
    assert markdown_table("oppwa") in README
    assert "4200000000000000" not in markdown_table()  # Tessera's own table stays Tessera's
