"""The native API end to end, in-process over HTTP semantics, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from tests.conftest import Merchant, auth
from tests.factories import BROWSER, card, payment

DECLINES = [
    ("4000000000000002", "CARD_DECLINED"),
    ("4000000000009995", "INSUFFICIENT_FUNDS"),
    ("4000000000000069", "EXPIRED_CARD"),
    ("4000000000000127", "INVALID_CVV"),
    ("4000000000000119", "NETWORK_ERROR"),
]
APPROVED = [
    "4242424242424242",
    "4111111111111111",
    "4444333322221111",
    "5555555555554444",
    "2223003122003222",
    "5506900480000008",
    "378282246310005",
    "6011111111111117",
    "3530111333300000",
    "36227206271667",
    "6521123456789012",
]


async def test_token_then_payment_completes(client: AsyncClient, merchant: Merchant) -> None:
    tok = await client.post(
        "/v1/tokens", json={"card": card(name="Jane Doe")}, headers=auth(merchant.test.publishable_key)
    )
    assert tok.status_code == 201, tok.text
    token = tok.json()
    assert token["id"].startswith("tok_")
    assert token["card"] == {
        "bin": "424242",
        "last4": "4242",
        "brand": "visa",
        "exp_month": 12,
        "exp_year": 2030,
        "name": "Jane Doe",
    }
    assert token["expires_at"] > token["created_at"]
    body = {
        "amount": 1000,
        "currency": "INR",
        "token": token["id"],
        "reference": "order-1",
        "customer": {"name": "Jane", "email": "jane@example.com"},
        "browser": {"ip": "203.0.113.9", "user_agent": "Mozilla/5.0"},
    }
    paid = await client.post("/v1/payments", json=body, headers=auth(merchant.test.secret_key))
    assert paid.status_code == 201, paid.text
    p = paid.json()
    assert p["status"] == "completed"
    assert p["amount_captured"] == 1000 and p["amount_authorized"] == 1000
    assert p["reference"] == "order-1"
    assert p["customer"]["email"] == "jane@example.com"
    assert p["browser"]["ip"] == "203.0.113.9"
    assert p["card"]["last4"] == "4242"
    assert [(o["type"], o["status"]) for o in p["operations"]] == [("DB", "succeeded")]


async def test_token_is_single_use(client: AsyncClient, merchant: Merchant) -> None:
    tok = (await client.post("/v1/tokens", json={"card": card()}, headers=auth(merchant.test.publishable_key))).json()
    first = await client.post(
        "/v1/payments",
        json={"amount": 500, "currency": "INR", "token": tok["id"], "browser": BROWSER},
        headers=auth(merchant.test.secret_key),
    )
    assert first.status_code == 201
    again = await client.post(
        "/v1/payments",
        json={"amount": 500, "currency": "INR", "token": tok["id"], "browser": BROWSER},
        headers=auth(merchant.test.secret_key),
    )
    assert again.status_code == 400
    assert again.json()["error"] == {
        "code": "token_already_used",
        "message": "this token has already been used",
        "type": "invalid_request_error",
        "param": "token",
    }


async def test_a_card_token_needs_the_cvc(client: AsyncClient, merchant: Merchant, container) -> None:
    from sqlalchemy import func, select

    from tessera.storage import tables as t

    without_cvc = {k: v for k, v in card().items() if k != "cvc"}
    r = await client.post("/v1/tokens", json={"card": without_cvc}, headers=auth(merchant.test.publishable_key))
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "parameter_missing" and r.json()["error"]["param"] == "card.cvc"
    assert "4242424242424242" not in r.text
    async with container.db.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(t.card_tokens))).scalar_one() == 0


async def test_token_of_another_merchant_is_not_found(client: AsyncClient, merchant: Merchant, container) -> None:
    from tessera.core.merchants import create_merchant

    _, other = await create_merchant("Other", uow=container.uow)
    tok = (await client.post("/v1/tokens", json={"card": card()}, headers=auth(other[0].publishable_key))).json()
    r = await client.post(
        "/v1/payments",
        json={"amount": 500, "currency": "INR", "token": tok["id"], "browser": BROWSER},
        headers=auth(merchant.test.secret_key),
    )
    assert r.status_code == 404
    assert r.json()["error"]["param"] == "token"


@pytest.mark.parametrize("number", APPROVED)
async def test_every_approved_test_card_completes(client: AsyncClient, merchant: Merchant, number: str) -> None:
    r = await client.post("/v1/payments", json=payment(number), headers=auth(merchant.test.secret_key))
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "completed"


@pytest.mark.parametrize(("number", "code"), DECLINES)
async def test_declined_cards_fail_with_their_error_code(
    client: AsyncClient, merchant: Merchant, number: str, code: str
) -> None:
    r = await client.post("/v1/payments", json=payment(number), headers=auth(merchant.test.secret_key))
    assert r.status_code == 400
    p = r.json()
    assert p["status"] == "failed"
    assert p["error"]["code"] == code
    assert p["amount_captured"] == 0
    fetched = (await client.get(f"/v1/payments/{p['id']}", headers=auth(merchant.test.secret_key))).json()
    assert fetched["status"] == "failed" and fetched["error"]["code"] == code


async def test_time_out_card_is_reversed_and_fails_with_network_error(client: AsyncClient, merchant: Merchant) -> None:
    r = await client.post("/v1/payments", json=payment("4000000000000259"), headers=auth(merchant.test.secret_key))
    assert r.status_code == 400
    p = r.json()
    assert p["status"] == "failed"
    assert p["error"]["code"] == "NETWORK_ERROR"
    assert p["amount_captured"] == 0
    assert [(o["type"], o["status"]) for o in p["operations"]] == [("DB", "failed"), ("RV", "succeeded")]


async def test_expired_card_is_refused_before_the_acquirer(client: AsyncClient, merchant: Merchant) -> None:
    body = payment(card=card(exp_month=1, exp_year=2020))
    r = await client.post("/v1/payments", json=body, headers=auth(merchant.test.secret_key))
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "EXPIRED_CARD"
    assert r.json()["error"]["param"] == "card.exp_year"
    listed = (await client.get("/v1/payments", headers=auth(merchant.test.secret_key))).json()
    assert listed["data"] == []


@pytest.mark.parametrize(
    ("card_fields", "param"),
    [
        ({"number": "4242424242424241"}, "card.number"),
        ({"number": "42424242"}, "card.number"),
        ({"number": "424242424242424242"}, "card.number"),
        ({"exp_month": 13}, "card.exp_month"),
        ({"cvc": "12"}, "card.cvc"),
        ({"number": "378282246310005", "cvc": "123"}, "card.cvc"),
    ],
)
async def test_bad_card_data_names_the_field_and_never_echoes_it(
    client: AsyncClient, merchant: Merchant, card_fields: dict[str, object], param: str
) -> None:
    r = await client.post(
        "/v1/payments", json=payment(card=card(**card_fields)), headers=auth(merchant.test.secret_key)
    )
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "parameter_invalid"
    assert err["param"] == param
    assert str(card_fields.get("number", "4242424242424242")) not in r.text


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"currency": "INR", "card": card()}, "parameter_missing", "amount"),
        ({"amount": 0, "currency": "INR", "card": card()}, "parameter_invalid", "amount"),
        ({"amount": -5, "currency": "INR", "card": card()}, "parameter_invalid", "amount"),
        ({"amount": 10.5, "currency": "INR", "card": card()}, "parameter_invalid", "amount"),
        ({"amount": 10_000_000_000, "currency": "INR", "card": card()}, "parameter_invalid", "amount"),
        ({"amount": 100, "currency": "ZZZ", "card": card()}, "parameter_invalid", "currency"),
        ({"amount": 100, "currency": "XAU", "card": card()}, "parameter_invalid", "currency"),
        ({"amount": 100, "currency": "INR", "card": card(), "token": "tok_x"}, "parameter_invalid", None),
        (
            {"amount": 100, "currency": "INR", "card": card(), "capture_method": "later"},
            "parameter_invalid",
            "capture_method",
        ),
        (
            {"amount": 100, "currency": "INR", "card": card(), "browser": {"ip": "nope"}},
            "parameter_invalid",
            "browser.ip",
        ),
    ],
)
async def test_invalid_payment_requests_are_400_naming_the_field(
    client: AsyncClient, merchant: Merchant, body: dict[str, object], code: str, param: str | None
) -> None:
    r = await client.post("/v1/payments", json=body, headers=auth(merchant.test.secret_key))
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["code"] == code
    assert err.get("param") == param
    assert "4242424242424242" not in r.text and "737" not in r.text


async def test_malformed_json_is_a_clear_400(client: AsyncClient, merchant: Merchant) -> None:
    r = await client.post(
        "/v1/payments",
        content=b'{"amount": 10,',
        headers={**auth(merchant.test.secret_key), "content-type": "application/json"},
    )
    assert r.status_code == 400
    assert r.json()["error"]["message"] == "the request body is not valid JSON"


async def test_return_url_outside_the_allowed_domains_is_refused(client: AsyncClient, merchant: Merchant) -> None:
    r = await client.post(
        "/v1/payments", json=payment(return_url="https://evil.example/x"), headers=auth(merchant.test.secret_key)
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "return_url_not_allowed"
    ok = await client.post(
        "/v1/payments",
        json=payment(return_url="https://shop.yoursite.com/back"),
        headers=auth(merchant.test.secret_key),
    )
    assert ok.status_code == 201


async def test_manual_capture_in_part_then_refunds_up_to_the_captured_amount(
    client: AsyncClient, merchant: Merchant
) -> None:
    h = auth(merchant.test.secret_key)
    p = (await client.post("/v1/payments", json=payment(capture_method="manual"), headers=h)).json()
    assert p["status"] == "authorized" and p["amount_authorized"] == 1000 and p["amount_captured"] == 0
    over = await client.post(f"/v1/payments/{p['id']}/capture", json={"amount": 1001}, headers=h)
    assert over.status_code == 409 and over.json()["error"]["code"] == "amount_too_large"
    cap = await client.post(f"/v1/payments/{p['id']}/capture", json={"amount": 700}, headers=h)
    assert cap.status_code == 200 and cap.json()["status"] == "completed" and cap.json()["amount_captured"] == 700
    again = await client.post(f"/v1/payments/{p['id']}/capture", json={}, headers=h)
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_state"
    r1 = await client.post(f"/v1/payments/{p['id']}/refunds", json={"amount": 300}, headers=h)
    assert r1.status_code == 201 and r1.json()["status"] == "partially_refunded"
    too_much = await client.post(f"/v1/payments/{p['id']}/refunds", json={"amount": 401}, headers=h)
    assert too_much.status_code == 409 and too_much.json()["error"]["code"] == "amount_too_large"
    rest = await client.post(f"/v1/payments/{p['id']}/refunds", headers=h)
    assert rest.status_code == 201
    final = rest.json()
    assert final["status"] == "refunded" and final["amount_refunded"] == 700
    assert [o["type"] for o in final["operations"]] == ["PA", "CP", "RF", "RF"]
    none_left = await client.post(f"/v1/payments/{p['id']}/refunds", json={"amount": 1}, headers=h)
    assert none_left.status_code == 409


async def test_void_releases_an_authorisation_and_blocks_capture(client: AsyncClient, merchant: Merchant) -> None:
    h = auth(merchant.test.secret_key)
    p = (await client.post("/v1/payments", json=payment(capture_method="manual"), headers=h)).json()
    v = await client.post(f"/v1/payments/{p['id']}/void", headers=h)
    assert v.status_code == 200 and v.json()["status"] == "voided"
    cap = await client.post(f"/v1/payments/{p['id']}/capture", headers=h)
    assert cap.status_code == 409
    refund = await client.post(f"/v1/payments/{p['id']}/refunds", headers=h)
    assert refund.status_code == 409


async def test_void_after_capture_is_refused(client: AsyncClient, merchant: Merchant) -> None:
    h = auth(merchant.test.secret_key)
    p = (await client.post("/v1/payments", json=payment(), headers=h)).json()
    r = await client.post(f"/v1/payments/{p['id']}/void", headers=h)
    assert r.status_code == 409
    assert r.json()["error"]["message"] == "a payment that is captured cannot be voided"


async def test_refund_of_a_failed_payment_is_refused(client: AsyncClient, merchant: Merchant) -> None:
    h = auth(merchant.test.secret_key)
    p = (await client.post("/v1/payments", json=payment("4000000000000002"), headers=h)).json()
    r = await client.post(f"/v1/payments/{p['id']}/refunds", headers=h)
    assert r.status_code == 409


async def test_list_is_newest_first_with_a_cursor_and_filters(client: AsyncClient, merchant: Merchant) -> None:
    h = auth(merchant.test.secret_key)
    ids = []
    for i in range(5):
        number = "4000000000000002" if i == 2 else "4242424242424242"
        ids.append(
            (await client.post("/v1/payments", json=payment(number, reference=f"ref-{i}"), headers=h)).json()["id"]
        )
    page1 = (await client.get("/v1/payments", params={"limit": 2}, headers=h)).json()
    assert [p["id"] for p in page1["data"]] == ids[::-1][:2]
    assert page1["has_more"] is True
    page2 = (
        await client.get("/v1/payments", params={"limit": 2, "starting_after": page1["next_cursor"]}, headers=h)
    ).json()
    assert [p["id"] for p in page2["data"]] == ids[::-1][2:4]
    page3 = (
        await client.get("/v1/payments", params={"limit": 2, "starting_after": page2["next_cursor"]}, headers=h)
    ).json()
    assert [p["id"] for p in page3["data"]] == ids[:1] and page3["has_more"] is False
    failed = (await client.get("/v1/payments", params={"status": "failed"}, headers=h)).json()
    assert [p["id"] for p in failed["data"]] == [ids[2]]
    by_ref = (await client.get("/v1/payments", params={"reference": "ref-3"}, headers=h)).json()
    assert [p["id"] for p in by_ref["data"]] == [ids[3]]
    bad = await client.get("/v1/payments", params={"status": "nope"}, headers=h)
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "status"


async def test_unknown_payment_is_404(client: AsyncClient, merchant: Merchant) -> None:
    r = await client.get("/v1/payments/pay_nope", headers=auth(merchant.test.secret_key))
    assert r.status_code == 404 and r.json()["error"]["code"] == "resource_missing"


async def test_unknown_route_is_404_in_the_native_error_format(client: AsyncClient) -> None:
    r = await client.get("/v1/nothing-here")
    assert r.status_code == 404 and r.json()["error"]["code"] == "resource_missing"


@pytest.mark.parametrize(
    "raw",
    [
        b"[]",
        b"null",
        b'"x"',
        b"123",
        b'{"amount": 1, "currency": "INR", "card": {"number": "4242424242424242"}, "x": "\xff"}',
    ],
)
async def test_a_body_that_is_not_a_json_object_is_a_clear_400(
    client: AsyncClient, merchant: Merchant, raw: bytes
) -> None:
    r = await client.post(
        "/v1/payments", content=raw, headers={**auth(merchant.test.secret_key), "content-type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "parameter_invalid"
    assert "4242424242424242" not in r.text


async def test_a_malformed_return_url_is_a_validation_error_not_a_crash(
    client: AsyncClient, merchant: Merchant
) -> None:
    r = await client.post(
        "/v1/payments", json=payment(return_url="http://[::1"), headers=auth(merchant.test.secret_key)
    )
    assert r.status_code == 400 and r.json()["error"]["param"] == "return_url"


async def test_white_space_around_a_return_url_is_dropped_as_the_document_allows(
    client: AsyncClient, merchant: Merchant
) -> None:
    # The document's pattern allows Python's white space around the URL (\u2008, \x1e...); the core checks
    # and keeps the URL without it, so the shopper is sent back to exactly the URL that was checked.
    r = await client.post(
        "/v1/payments",
        json=payment(return_url="\u2008\x1e https://shop.yoursite.com/back\u3000"),
        headers=auth(merchant.test.secret_key),
    )
    assert r.status_code == 201, r.text
    assert r.json()["return_url"] == "https://shop.yoursite.com/back"


async def test_digits_of_other_scripts_are_not_card_digits(client: AsyncClient, merchant: Merchant) -> None:
    r = await client.post(
        "/v1/payments", json=payment(card=card(exp_month="１２")), headers=auth(merchant.test.secret_key)
    )
    assert r.status_code == 400 and r.json()["error"]["param"] == "card.exp_month"


async def test_an_oversized_body_is_refused_with_413_before_it_is_read(client: AsyncClient, merchant: Merchant) -> None:
    r = await client.post(
        "/v1/payments",
        content=b" " * 300_000,
        headers={**auth(merchant.test.secret_key), "content-type": "application/json"},
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"


async def test_an_oversized_chunked_body_is_refused_with_413(client: AsyncClient, merchant: Merchant) -> None:
    async def chunks():  # no Content-Length: the size is only known while reading
        for _ in range(40):
            yield b" " * 10_000

    r = await client.post(
        "/v1/payments", content=chunks(), headers={**auth(merchant.test.secret_key), "content-type": "application/json"}
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"


async def test_a_cursor_that_is_no_payment_id_is_a_400_naming_it(client: AsyncClient, merchant: Merchant) -> None:
    for cursor in ("nonsense", "pay_", "pay_0000000000000000000000000!", "card_01m8gqezq5znn6bs0chz4ry1a0"):
        r = await client.get("/v1/payments", params={"starting_after": cursor}, headers=auth(merchant.test.secret_key))
        assert r.status_code == 400, (cursor, r.text)
        assert r.json()["error"]["param"] == "starting_after"
    made = await client.post("/v1/payments", json=payment(), headers=auth(merchant.test.secret_key))
    page = await client.get(
        "/v1/payments", params={"starting_after": made.json()["id"]}, headers=auth(merchant.test.secret_key)
    )
    assert page.status_code == 200 and page.json()["data"] == []


async def test_an_event_number_past_what_a_database_holds_is_a_400(client: AsyncClient, merchant: Merchant) -> None:
    for after in ("9223372036854775808", "99999999999999999999999", "-1"):
        r = await client.get("/v1/events", params={"after": after}, headers=auth(merchant.test.secret_key))
        assert r.status_code == 400, (after, r.text)
        assert r.json()["error"]["param"] == "after"
    last = await client.get("/v1/events", params={"after": str(2**63 - 1)}, headers=auth(merchant.test.secret_key))
    assert last.status_code == 200 and last.json()["data"] == []


async def test_a_method_a_route_does_not_take_is_405_with_allow(client: AsyncClient, merchant: Merchant) -> None:
    for method in ("TRACE", "PUT", "PATCH"):
        r = await client.request(method, "/v1/payments", headers=auth(merchant.test.secret_key))
        assert r.status_code == 405, (method, r.text)
        assert set(r.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}
