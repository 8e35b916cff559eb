"""Every state and error code has a wire form in every dialect (httpx's all-exceptions-mapped test)."""

from __future__ import annotations

from tessera.core.errors import ErrorCode
from tessera.core.payments.model import PaymentStatus
from tessera.dialects.native import translate


def test_native_status_map_covers_every_payment_state() -> None:
    assert set(translate.STATUS) == set(PaymentStatus)
    assert len(set(translate.STATUS.values())) == len(PaymentStatus)


def test_native_error_map_covers_every_error_code() -> None:
    assert set(translate.ERRORS) == set(ErrorCode)


def test_seed_002_statuses_and_http_codes() -> None:
    assert translate.STATUS[PaymentStatus.CAPTURED] == "completed"
    assert translate.CREATED_HTTP[PaymentStatus.CAPTURED] == 201
    assert translate.CREATED_HTTP[PaymentStatus.AUTHORIZED] == 201
    assert translate.CREATED_HTTP[PaymentStatus.REQUIRES_ACTION] == 202
    assert translate.CREATED_HTTP[PaymentStatus.FAILED] == 400
