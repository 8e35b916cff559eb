"""tessera.js's card logic, run in real Chromium (no npm, no server): the Luhn check, brand detection (the
same answer as the gateway's for every BIN range edge and test card), formatting as the shopper types,
the expiry checks, the checks made before any request, and the `Tessera(pk)` entry point."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page

from tessera.browser import sdk
from tessera.core.vault.brands import _RANGES, detect
from tessera.processors.sandbox.cards import TEST_CARDS
from tests.e2e.browser import chromium

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    with chromium() as browser:
        found = browser.new_page()
        found.set_content("<!doctype html><html><body><div id=card></div></body></html>")
        found.add_script_tag(content=sdk.CONTENT.decode())
        yield found


def _js(page: Page, expression: str, *args: Any) -> Any:
    return page.evaluate(f"(args) => {expression}", list(args))


def _edges() -> list[str]:
    """A 16-digit number at each end of every BIN range, and just outside it."""
    numbers = []
    for first, last, _brand in _RANGES:
        pad = 6 - len(first)
        low, high = int(first) * 10**pad, (int(last) + 1) * 10**pad - 1
        numbers += [f"{bin6:06d}0000000000" for bin6 in (low, high, low - 1, high + 1) if 100000 <= bin6 <= 999999]
    return numbers


def test_luhn_accepts_every_test_card_and_refuses_a_changed_digit(page: Page) -> None:
    numbers = list(TEST_CARDS)
    assert _js(page, "args[0].map(Tessera.card.luhnValid)", numbers) == [True] * len(numbers)
    typos = ["4242424242424241", "4000002500003154", "5555555555554443", "42424242424242a2", "4242", ""]
    assert _js(page, "args[0].map(Tessera.card.luhnValid)", typos) == [False] * len(typos)
    assert _js(page, "Tessera.card.luhnValid('4242 4242 4242 4242')") is True


def test_brand_detection_agrees_with_the_gateway_on_every_range_edge_and_test_card(page: Page) -> None:
    numbers = _edges() + list(TEST_CARDS)
    expected = [b.value if (b := detect(n)) else None for n in numbers]
    assert _js(page, "args[0].map(Tessera.card.detectBrand)", numbers) == expected


def test_a_brand_is_shown_from_the_first_digits_that_decide_it(page: Page) -> None:
    prefixes = {
        "4": "visa",
        "5": None,
        "51": "mastercard",
        "2221": "mastercard",
        "34": "amex",
        "3": None,
        "62": "unionpay",
    }
    found = _js(page, "args[0].map(Tessera.card.detectBrand)", list(prefixes))
    assert dict(zip(prefixes, found, strict=True)) == prefixes


def test_numbers_are_grouped_as_their_brand_prints_them(page: Page) -> None:
    cases = {
        "4242424242424242": "4242 4242 4242 4242",
        "378282246310005": "3782 822463 10005",
        "42424": "4242 4",
        "4242-4242 42x": "4242 4242 42",
        "42424242424242424242424": "4242 4242 4242 4242 424",  # a Visa is 19 digits at most
        "37828224631000599": "3782 822463 10005",  # an Amex 15
    }
    assert _js(page, "args[0].map(Tessera.card.formatNumber)", list(cases)) == list(cases.values())


def test_the_expiry_is_formatted_and_parsed_as_typed(page: Page) -> None:
    cases = {"1": "1", "4": "04", "12": "12", "123": "12 / 3", "1230": "12 / 30", "12/2030": "12 / 2030"}
    assert _js(page, "args[0].map(Tessera.card.formatExpiry)", list(cases)) == list(cases.values())
    parsed = _js(page, "['12 / 30', '1/2031', '13', ''].map(Tessera.card.parseExpiry)")
    assert parsed == [{"exp_month": 12, "exp_year": 2030}, {"exp_month": 1, "exp_year": 2031}, None, None]


def test_a_card_is_good_through_its_expiry_month(page: Page) -> None:
    now = "new Date(2026, 10, 28)"  # 28 November 2026
    found = _js(
        page,
        "[[11, 2026], [10, 2026], [13, 2030], [12, 2099], [1, 27]]"
        f".map(e => Tessera.card.expiryProblem(e[0], e[1], {now}))",
    )
    assert found[0] is None and found[4] is None
    assert found[1] == {"code": "EXPIRED_CARD", "message": "The card has expired.", "param": "card.exp_year"}
    assert found[2]["param"] == "card.exp_month" and found[3]["param"] == "card.exp_year"


def test_the_checks_before_a_request_name_the_field_at_fault(page: Page) -> None:
    cards = [
        {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        {"number": "4242424242424241", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "12"},
        {"number": "378282246310005", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        {"number": "", "exp_month": 12, "exp_year": 2030},
        {"number": "4242424242424242", "exp_month": None, "exp_year": None},
        {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": ""},
    ]
    found = _js(page, "args[0].map(c => Tessera.card.validate(c))", cards)
    assert found[0] is None
    params = [f["param"] for f in found[1:]]
    assert params == ["card.number", "card.cvc", "card.cvc", "card.number", "card.exp_month", "card.cvc"]
    assert found[4]["code"] == found[6]["code"] == "parameter_missing"


def test_tessera_is_callable_without_new_and_refuses_a_secret_key(page: Page) -> None:
    assert _js(page, "Tessera('pk_test_abc', {baseUrl: 'http://127.0.0.1:1'}) instanceof Tessera") is True
    assert _js(page, "Tessera.version") == sdk.version()
    refused = _js(page, "(() => { try { Tessera('sk_test_abc'); return null } catch (e) { return e.message } })()")
    assert refused and "publishable key" in refused


def test_create_token_with_a_typo_resolves_to_the_error_without_a_request(page: Page) -> None:
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    found = _js(
        page,
        "Tessera('pk_test_abc', {baseUrl: 'http://127.0.0.1:1'}).createToken("
        "{number: '4242424242424241', exp_month: 12, exp_year: 2030, cvc: '123'})",
    )
    assert found["error"]["param"] == "card.number" and found["error"]["code"] == "parameter_invalid"
    assert requests == []


def test_mounted_fields_have_labels_and_no_names_so_no_form_submits_them(page: Page) -> None:
    _js(page, "Tessera('pk_test_abc', {baseUrl: 'http://127.0.0.1:1'}).mountCardFields('#card')")
    inputs = _js(
        page,
        "[...document.querySelectorAll('#card input')].map(i => ({name: i.name, label: i.labels[0].textContent, "
        "auto: i.autocomplete}))",
    )
    assert [i["auto"] for i in inputs] == ["cc-number", "cc-exp", "cc-csc", "cc-name"]
    assert all(i["label"] for i in inputs) and all(i["name"] == "" for i in inputs)
