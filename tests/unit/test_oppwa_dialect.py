"""The OPPWA dialect's pure parts: every Tessera error has an OPPWA result code, ids map both ways, form
names and their checks (never echoing card data), and an acquirer's own OPPWA code is answered as is."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tessera.core.errors import ErrorCode
from tessera.core.ids import new_id
from tessera.core.payments.model import CaptureMethod, CardSnapshot, Payment
from tessera.core.ports import Outcome, ProcessorResult
from tessera.dialects.oppwa import codes as c
from tessera.dialects.oppwa import forms as f
from tessera.dialects.oppwa import ids
from tessera.dialects.oppwa import render as r
from tessera.dialects.oppwa import requests as req

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_every_error_code_has_an_oppwa_result_code_with_a_description() -> None:
    assert set(c.ERRORS) == set(ErrorCode)
    for status, code in c.ERRORS.values():
        assert c.RESULT_CODE.match(code) and code in c.DESCRIPTIONS, code
        assert status in (400, 401, 403, 404)


def test_success_codes_are_classified_as_oppwa_clients_do() -> None:
    assert c.success("test") == "000.100.110" and c.success("live") == "000.000.000"
    assert c.is_success("000.100.110") and c.is_success("000.000.000")
    assert not c.is_success("000.200.000") and not c.is_success("800.100.152")
    assert r.http_status("000.200.000") == 200 and r.http_status("700.400.580") == 400


def test_payment_and_operation_ids_are_the_same_bits_in_hex() -> None:
    for prefix in ("pay", "op"):
        core_id = new_id(prefix)
        oppwa_id = ids.to_hex(core_id)
        assert re.fullmatch(r"[0-9a-f]{32}", oppwa_id)
        assert ids.from_hex(oppwa_id, prefix) == core_id
    assert ids.from_hex("A" * 32) is None and ids.from_hex("abc") is None
    assert ids.card_token_of(ids.registration_id("c8a28bca2021ead49124")) == "c8a28bca2021ead49124"
    assert ids.card_token_of("f" * 32) is None
    assert re.fullmatch(r"\d{4}\.\d{4}\.\d{4}", ids.short_id("f" * 32))


def test_a_form_keeps_dotted_and_bracketed_names() -> None:
    body = b"card.number=4200000000000000&customer.browser.language=de&customParameters%5BSHOPPER_x%5D=1&x=a%20b"
    form = f.parse(body, "application/x-www-form-urlencoded; charset=UTF-8")
    assert form["card.number"] == "4200000000000000" and form["customer.browser.language"] == "de"
    assert f.custom_parameters(form) == {"SHOPPER_x": "1"} and form["x"] == "a b"
    with pytest.raises(f.OppwaRefusal) as refused:
        f.parse(b'{"amount": "1"}', "application/json")
    assert refused.value.result_code == "200.300.404"


def test_checks_report_every_field_and_hide_card_numbers_wherever_they_are_put() -> None:
    form = {"entityId": "x", "amount": "1.5", "card.number": "4242", "merchantTransactionId": "4242424242424242"}
    with pytest.raises(f.OppwaRefusal) as refused:
        f.check(form, req.PAYMENT_FIELDS, req.PAYMENT_REQUIRED)
    errors = {e["name"]: e["value"] for e in refused.value.parameter_errors}
    assert errors["amount"] == "1.5" and errors["card.number"] == "[hidden]" and errors["entityId"] == "x"
    assert "currency" in errors and refused.value.result_code == "200.300.404"
    assert f.shown("merchantMemo", "pay 4242424242424242") == "[hidden]"


def test_the_document_and_the_checks_read_one_table() -> None:
    schema = f.schema(req.PAYMENT_FIELDS, req.PAYMENT_REQUIRED)
    for field in req.PAYMENT_FIELDS:
        documented = schema["properties"][field.name]
        if field.enum:
            assert documented["enum"] == list(field.enum)
        else:
            assert (documented["pattern"], documented["maxLength"]) == (field.pattern, field.max_length)
    assert set(schema["required"]) == set(req.PAYMENT_REQUIRED)


def test_amounts_take_the_currencys_decimals() -> None:
    assert req.amount_of("92.00", "EUR") == 9200 and req.amount_of("92.00", "JPY") == 92
    for text, currency, code in (("92.5", "JPY", "100.550.303"), ("0.00", "EUR", "100.550.300")):
        with pytest.raises(f.OppwaRefusal) as refused:
            req.amount_of(text, currency)
        assert refused.value.result_code == code


def _declined(response_code: str | None, error: ErrorCode = ErrorCode.CARD_DECLINED) -> Payment:
    card = CardSnapshot("424242", "4242", "visa", 5, 2034, "800.100.162")
    payment, op = Payment.start(
        card=card,
        now=NOW,
        merchant_id="mer_x",
        mode="test",
        amount=9200,
        currency="EUR",
        capture_method=CaptureMethod.AUTOMATIC,
        processor="sandbox",
        channel="oppwa",
    )
    payment.record(op.id, ProcessorResult(Outcome.DECLINED, response_code=response_code, error_code=error), NOW)
    return payment


def test_an_acquirers_own_oppwa_code_is_answered_as_is_else_the_error_codes() -> None:
    assert r.payment_code(_declined("800.100.162")) == "800.100.162"
    assert r.payment_code(_declined("05")) == "800.100.152"
    assert r.payment_code(_declined("51", ErrorCode.INSUFFICIENT_FUNDS)) == "800.100.155"
    body = r.render_payment(_declined("800.100.162"), "0" * 32)
    assert body["result"] == {"code": "800.100.162", "description": "transaction declined (limit exceeded)"}
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\+0000", body["timestamp"])


def test_the_readme_shows_each_errors_result_code_from_the_code() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert c.markdown_table() in readme
