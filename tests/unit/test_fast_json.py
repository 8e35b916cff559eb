"""The dialects' orjson-rendered answers are byte for byte what Starlette's JSONResponse renders."""

from __future__ import annotations


def test_fast_json_answers_are_the_bytes_starlettes_json_response_renders() -> None:
    from fastapi.responses import JSONResponse

    from tessera.dialects._common.responses import FastJSONResponse

    body = {"id": "pay_1", "amount": 1000, "ok": True, "none": None, "name": "Zoë ₹ 日本", "list": [1, {"a": "b"}]}
    assert FastJSONResponse(body).body == JSONResponse(body).body
