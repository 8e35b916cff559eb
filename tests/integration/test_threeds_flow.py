"""3-D Secure through the native API and the sandbox ACS, as a browser would walk it, over plain HTTP."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import select, text, update

from tessera import worker
from tessera.bootstrap import Container
from tessera.core.clock import utcnow
from tessera.storage import tables as t
from tests.conftest import Merchant, auth
from tests.factories import BROWSER, card, payment
from tests.html_forms import first_form

RETURN = "https://shop.yoursite.com/back?order=7"


async def _start(client: AsyncClient, merchant: Merchant, number: str, **extra: object) -> dict[str, object]:
    r = await client.post(
        "/v1/payments", json=payment(number, return_url=RETURN, **extra), headers=auth(merchant.test.secret_key)
    )
    assert r.status_code == 202, r.text
    body: dict[str, object] = r.json()
    assert body["status"] == "requires_action" and body["operations"] == []
    return body


async def _open_challenge(client: AsyncClient, created: dict[str, object]) -> str:
    redirect = await client.get(urlsplit(str(created["redirect_url"])).path)
    assert redirect.status_code == 200
    acs_path, fields = first_form(redirect.text)
    assert acs_path == "/sandbox/acs/challenge" and set(fields) == {"creq", "threeDSSessionData"}
    page = await client.post(acs_path, data=fields)
    assert page.status_code == 200
    return page.text


async def _answer(client: AsyncClient, page: str, *, otp: str, action: str = "submit") -> Response:
    path, fields = first_form(page)
    return await client.post(path, data={**fields, "otp": otp, "action": action})


async def _back_to_merchant(client: AsyncClient, acs_reply: Response) -> dict[str, list[str]]:
    path, fields = first_form(acs_reply.text)
    assert path == "/shopper/3ds/notify" and "cres" in fields
    back = await client.post(path, data=fields)
    assert back.status_code == 303
    location = urlsplit(back.headers["location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "shop.yoursite.com", "/back")
    return parse_qs(location.query)


async def _get(client: AsyncClient, merchant: Merchant, payment_id: object) -> dict[str, object]:
    r = await client.get(f"/v1/payments/{payment_id}", headers=auth(merchant.test.secret_key))
    body: dict[str, object] = r.json()
    return body


@pytest.mark.parametrize(
    ("number", "status", "eci", "shift"),
    [
        ("4242424242424242", "Y", "05", True),
        ("5555555555554444", "Y", "02", True),
        ("4000000000003097", "A", "06", True),
        ("4000000000003105", "U", "07", False),
    ],
)
async def test_frictionless_results_authorise_with_their_eci(
    client: AsyncClient, merchant: Merchant, number: str, status: str, eci: str, shift: bool
) -> None:
    r = await client.post("/v1/payments", json=payment(number), headers=auth(merchant.test.secret_key))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "completed" and body["redirect_url"] is None
    assert body["authentication"] == {"status": status, "eci": eci, "version": "2.2.0", "liability_shift": shift}
    fetched = await _get(client, merchant, body["id"])
    assert fetched["authentication"] == body["authentication"]
    assert "authentication_value" not in str(fetched) and "cavv" not in str(fetched).lower()


async def test_a_frictionless_rejection_fails_without_an_authorisation(client: AsyncClient, merchant: Merchant) -> None:
    r = await client.post("/v1/payments", json=payment("4000000000003089"), headers=auth(merchant.test.secret_key))
    assert r.status_code == 400
    body = r.json()
    assert body["status"] == "failed" and body["error"]["code"] == "3DS_FAILED" and body["operations"] == []
    assert body["authentication"]["status"] == "N"


async def test_unavailable_fails_when_the_merchant_requires_authentication(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    async with container.db.begin() as conn:
        await conn.execute(update(t.merchants).values(threeds_policy="required"))
    r = await client.post("/v1/payments", json=payment("4000000000003105"), headers=auth(merchant.test.secret_key))
    assert r.status_code == 400 and r.json()["error"]["code"] == "3DS_FAILED"
    not_enrolled = await client.post(
        "/v1/payments", json=payment("2223003122003222"), headers=auth(merchant.test.secret_key)
    )
    assert not_enrolled.status_code == 400 and not_enrolled.json()["authentication"]["status"] == "U"
    ok = await client.post("/v1/payments", json=payment("4242424242424242"), headers=auth(merchant.test.secret_key))
    assert ok.status_code == 201


async def test_a_card_outside_the_enrolled_ranges_skips_authentication_under_auto(
    client: AsyncClient, merchant: Merchant
) -> None:
    r = await client.post("/v1/payments", json=payment("2223003122003222"), headers=auth(merchant.test.secret_key))
    assert r.status_code == 201 and r.json()["authentication"] is None


@pytest.mark.parametrize("capture_method", ["automatic", "manual"])
async def test_a_challenge_answered_with_the_password_authorises_and_returns_the_shopper(
    client: AsyncClient, merchant: Merchant, container: Container, capture_method: str
) -> None:
    created = await _start(client, merchant, "4000002500003155", capture_method=capture_method, amount=123450)
    page = await _open_challenge(client, created)
    assert 'name="otp"' in page and 'autocomplete="one-time-code"' in page and "One-time password" in page
    assert "Test Shop" in page and "INR 1,234.50" in page and "400000******3155" in page
    assert "4000002500003155" not in page and "Cancel" in page and "Submit" in page
    query = await _back_to_merchant(client, await _answer(client, page, otp="123456"))
    expected = "completed" if capture_method == "automatic" else "authorized"
    assert query == {"order": ["7"], "payment_id": [str(created["id"])], "status": [expected]}
    final = await _get(client, merchant, created["id"])
    assert final["status"] == expected and final["redirect_url"] is None
    assert final["authentication"] == {"status": "Y", "eci": "05", "version": "2.2.0", "liability_shift": True}
    assert [op["type"] for op in final["operations"]] == ["DB" if capture_method == "automatic" else "PA"]
    async with container.db.connect() as conn:
        row = (await conn.execute(select(t.authentications))).one()
    assert row.card_ciphertext is None and row.cvv_ciphertext is None  # the waiting card is gone


@pytest.mark.parametrize(("otp", "action"), [("000000", "submit"), ("", "submit"), ("123456", "cancel")])
async def test_a_wrong_password_or_cancel_fails_the_payment(
    client: AsyncClient, merchant: Merchant, otp: str, action: str
) -> None:
    created = await _start(client, merchant, "4895380110000003")
    page = await _open_challenge(client, created)
    query = await _back_to_merchant(client, await _answer(client, page, otp=otp, action=action))
    assert query["status"] == ["failed"]
    final = await _get(client, merchant, created["id"])
    assert final["status"] == "failed" and final["error"]["code"] == "3DS_FAILED"  # type: ignore[index]
    assert final["operations"] == [] and final["authentication"]["status"] == "N"  # type: ignore[index]


async def test_the_issuer_can_still_decline_after_the_challenge(client: AsyncClient, merchant: Merchant) -> None:
    created = await _start(client, merchant, "4000008400001629")
    query = await _back_to_merchant(client, await _answer(client, await _open_challenge(client, created), otp="123456"))
    assert query["status"] == ["failed"]
    final = await _get(client, merchant, created["id"])
    assert final["error"]["code"] == "CARD_DECLINED" and final["authentication"]["status"] == "Y"  # type: ignore[index]


async def test_a_replayed_or_forged_answer_changes_nothing(client: AsyncClient, merchant: Merchant) -> None:
    created = await _start(client, merchant, "4000002500003155")
    page = await _open_challenge(client, created)
    forged = await client.post(
        "/sandbox/acs/challenge/answer", data={**first_form(page)[1], "form_token": "guessed", "otp": "123456"}
    )
    assert forged.status_code == 403
    assert (await _get(client, merchant, created["id"]))["status"] == "requires_action"
    first = await _answer(client, page, otp="000000")
    assert first.status_code == 200
    replay = await _answer(client, page, otp="123456")
    assert replay.status_code in (403, 409)
    assert (await _get(client, merchant, created["id"]))["status"] == "failed"
    unreadable = await client.post("/sandbox/acs/challenge", data={"creq": "not a creq"})
    assert unreadable.status_code == 400


async def test_a_challenge_left_alone_expires(client: AsyncClient, merchant: Merchant, container: Container) -> None:
    created = await _start(client, merchant, "4000002500003155")
    async with container.db.begin() as conn:
        await conn.execute(update(t.authentications).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert (await worker.run_once(container))["expired"] == 1
    final = await _get(client, merchant, created["id"])
    assert final["status"] == "expired" and final["operations"] == []
    async with container.db.connect() as conn:
        row = (await conn.execute(select(t.authentications))).one()
    assert row.card_ciphertext is None and row.challenge == "expired"
    # The shopper coming back late is sent to the merchant with the final status.
    late = await client.get(urlsplit(str(created["redirect_url"])).path)
    assert late.status_code == 303 and "status=expired" in late.headers["location"]


@pytest.mark.parametrize(
    ("browser", "param"),
    [
        (None, "browser.ip"),
        ({"user_agent": "Mozilla/5.0"}, "browser.ip"),
        ({"ip": "203.0.113.1"}, "browser.user_agent"),
        ({**BROWSER, "timezone_offset": 9000}, "browser.timezone_offset"),
        ({**BROWSER, "language": "not a tag!"}, "browser.language"),
    ],
)
async def test_card_payments_need_the_shoppers_ip_and_user_agent_in_valid_formats(
    client: AsyncClient, merchant: Merchant, browser: dict[str, object] | None, param: str
) -> None:
    body = {"amount": 100, "currency": "INR", "card": card(), "browser": browser}
    r = await client.post("/v1/payments", json=body, headers=auth(merchant.test.secret_key))
    assert r.status_code == 400 and r.json()["error"]["param"] == param


_TRACE_CHANGES = [
    "CREATE TABLE change_log (seq bigserial PRIMARY KEY, txid bigint NOT NULL, what text NOT NULL)",
    """CREATE FUNCTION log_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_TABLE_NAME = 'payments' THEN
            INSERT INTO change_log (txid, what) VALUES (txid_current(), 'payment ' || NEW.status);
        ELSIF NEW.card_ciphertext IS NULL AND NEW.cvv_ciphertext IS NULL THEN
            INSERT INTO change_log (txid, what) VALUES (txid_current(), 'card erased');
        END IF;
        RETURN NEW;
    END $$""",
    "CREATE TRIGGER payments_log AFTER UPDATE ON payments FOR EACH ROW EXECUTE FUNCTION log_change()",
    "CREATE TRIGGER authentications_log AFTER UPDATE ON authentications FOR EACH ROW EXECUTE FUNCTION log_change()",
]


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_the_challenged_card_is_erased_by_the_transaction_that_records_its_authorisation(
    client: AsyncClient, merchant: Merchant, container: Container
) -> None:
    """No moment, and so no crash, leaves the PAN and CVV stored once the authorisation's result is:
    PostgreSQL's transaction ids, logged by triggers, show both changes committed together."""
    async with container.db.connect(write=True) as conn:
        for statement in _TRACE_CHANGES:
            await conn.execute(text(statement))
        await conn.commit()
    created = await _start(client, merchant, "4000002500003155")
    await _back_to_merchant(client, await _answer(client, await _open_challenge(client, created), otp="123456"))
    async with container.db.connect() as conn:
        log = (await conn.execute(text("SELECT txid, what FROM change_log ORDER BY seq"))).all()
    result_txids = {txid for txid, what in log if what == "payment captured"}
    erased_txids = {txid for txid, what in log if what == "card erased"}
    assert len(result_txids) == 1, log
    assert erased_txids == result_txids, log
