"""The logging filter, the last line of defence against card data in logs."""

from __future__ import annotations

import io
import json
import logging

from tessera import logs


def _logger() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.CardDataFilter())
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger(f"test.{id(stream)}")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_card_numbers_in_messages_and_arguments_are_masked() -> None:
    logger, out = _logger()
    logger.info("paying with 4242424242424242 and %s", "5555 5555 5555 4444")
    text = out.getvalue()
    assert "4242424242424242" not in text and "5555 5555 5555 4444" not in text
    assert "424242******4242" in text and "555555******4444" in text


def test_digit_runs_that_fail_luhn_are_left_alone() -> None:
    logger, out = _logger()
    logger.info("order 20261121123456789")
    assert "20261121123456789" in out.getvalue()


def test_sensitive_extra_keys_are_replaced_and_others_kept() -> None:
    logger, out = _logger()
    logger.info("x", extra={"cvv": "123", "pan": "4242424242424242", "payment_id": "pay_1"})
    line = json.loads(out.getvalue())
    assert line["payment_id"] == "pay_1"
    assert "123" not in out.getvalue().replace(line["ts"], "")
    assert "4242424242424242" not in out.getvalue()


def test_exception_tracebacks_are_scrubbed() -> None:
    logger, out = _logger()
    try:
        raise ValueError("bad card 4000000000000002")
    except ValueError:
        logger.exception("failed")
    text = out.getvalue()
    assert "4000000000000002" not in text and "400000******0002" in text


def test_request_id_is_on_every_line() -> None:
    logger, out = _logger()
    token = logs.request_id.set("req_abc")
    try:
        logger.info("hello")
    finally:
        logs.request_id.reset(token)
    assert json.loads(out.getvalue())["request_id"] == "req_abc"
