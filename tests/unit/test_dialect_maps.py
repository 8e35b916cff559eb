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


def test_an_internal_error_shows_no_internals_in_either_dialect() -> None:
    import json

    from tessera.dialects.eximpe import errors as eximpe_errors
    from tessera.dialects.native import errors as native_errors

    native = json.loads(bytes(native_errors.http_response(500, "ZeroDivisionError at line 3").body))
    assert native["error"]["code"] == "internal_error" and "ZeroDivision" not in str(native)
    eximpe = json.loads(bytes(eximpe_errors.http_response(500, "ZeroDivisionError at line 3").body))
    assert eximpe == {"success": False, "error": {"code": "ERR_INTERNAL_000", "message": "An internal error occurred."}}


def test_eximpe_maps_every_non_validation_error_code() -> None:
    from tessera.dialects.eximpe import translate as eximpe

    assert set(eximpe.ERRORS) == set(ErrorCode)
