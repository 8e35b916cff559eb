"""The 3DS server's rules and the sandbox directory server, without I/O."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from tessera.core.money import numeric_code
from tessera.core.threeds.model import (
    AuthenticationRequest,
    BrowserInfo,
    TransStatus,
    b64url,
    build_areq,
    eci_for,
    from_b64url,
    new_trans_id,
)
from tessera.core.threeds.service import (
    AuthenticationResult,
    Decision,
    Policy,
    decide,
    read_ares,
    read_rreq,
    should_authenticate,
)
from tessera.core.vault.brands import Brand, detect
from tessera.sandbox.directory import SandboxDirectoryServer, is_genuine

NOW = datetime(2026, 11, 21, 10, 30, tzinfo=UTC)
KEY = b"sandbox-key-for-tests-32-bytes!!"
BROWSER = BrowserInfo(
    ip="203.0.113.7",
    user_agent="Mozilla/5.0",
    accept_header="text/html",
    language="en-IN",
    color_depth=30,
    screen_height=900,
    screen_width=1440,
    timezone_offset=-330,
    java_enabled=False,
    javascript_enabled=True,
)


def _request(number: str, *, browser: BrowserInfo = BROWSER, amount: int = 123450) -> AuthenticationRequest:
    return AuthenticationRequest(
        number,
        12,
        2030,
        amount,
        numeric_code("INR"),
        2,
        "Test Shop",
        "http://127.0.0.1:8000/sandbox/3ds/notify",
        browser,
    )


def test_eci_follows_the_networks_families() -> None:
    assert eci_for(Brand.VISA, TransStatus.AUTHENTICATED) == "05"
    assert eci_for(Brand.MASTERCARD, TransStatus.AUTHENTICATED) == "02"
    assert eci_for(Brand.VISA, TransStatus.ATTEMPTED) == "06"
    assert eci_for(Brand.MASTERCARD, TransStatus.ATTEMPTED) == "01"
    assert eci_for(Brand.VISA, TransStatus.UNAVAILABLE) == "07"
    assert eci_for(Brand.MAESTRO, TransStatus.UNAVAILABLE) == "00"
    assert eci_for(Brand.VISA, TransStatus.CHALLENGE) is None


def test_an_areq_carries_minor_units_numeric_currency_and_the_browser() -> None:
    areq = build_areq(_request("4242424242424242"), trans_id="t-1", now=NOW)
    assert (areq["messageType"], areq["messageVersion"], areq["deviceChannel"]) == ("AReq", "2.2.0", "02")
    assert (areq["purchaseAmount"], areq["purchaseCurrency"], areq["purchaseExponent"]) == ("123450", "356", "2")
    assert (areq["purchaseDate"], areq["cardExpiryDate"]) == ("20261121103000", "3012")
    assert areq["browserTZ"] == "-330" and areq["browserColorDepth"] == "24"  # 30 is not an allowed depth
    assert areq["browserJavascriptEnabled"] is True and areq["browserJavaEnabled"] is False
    assert "4242424242424242" not in repr(_request("4242424242424242"))


def test_creq_and_cres_encoding_accepts_padding_or_none() -> None:
    message = {"messageType": "CRes", "transStatus": "Y"}
    encoded = b64url(message)
    assert "=" not in encoded
    assert from_b64url(encoded) == message == from_b64url(encoded + "=" * (-len(encoded) % 4))


def _ares(**fields: object) -> dict[str, object]:
    return {
        "messageType": "ARes",
        "messageVersion": "2.2.0",
        "threeDSServerTransID": "t-1",
        "acsTransID": "a",
        "dsTransID": "d",
        **fields,
    }


CAVV = base64.b64encode(bytes(20)).decode()


def test_an_authenticated_ares_needs_a_well_formed_cavv() -> None:
    ok = read_ares(_ares(transStatus="Y", authenticationValue=CAVV, eci="05"), trans_id="t-1", brand=Brand.VISA)
    assert ok.status is TransStatus.AUTHENTICATED and ok.liability_shift and ok.eci == "05"
    for bad in (None, "short", "!" * 28):
        result = read_ares(_ares(transStatus="Y", authenticationValue=bad), trans_id="t-1", brand=Brand.VISA)
        assert result.status is TransStatus.UNAVAILABLE and not result.liability_shift


@pytest.mark.parametrize(
    "ares",
    [
        {"messageType": "Erro", "errorCode": "201"},
        _ares(transStatus="Y", authenticationValue=CAVV, threeDSServerTransID="someone-else"),
        _ares(transStatus="Q"),
        _ares(transStatus="C"),  # a challenge with nowhere to go
    ],
)
def test_anything_unreadable_counts_as_unavailable_never_authenticated(ares: dict[str, object]) -> None:
    assert read_ares(ares, trans_id="t-1", brand=Brand.VISA).status is TransStatus.UNAVAILABLE


@pytest.mark.parametrize(
    ("status", "auto", "required"),
    [
        ("Y", Decision.PROCEED, Decision.PROCEED),
        ("A", Decision.PROCEED, Decision.PROCEED),
        ("C", Decision.CHALLENGE, Decision.CHALLENGE),
        ("N", Decision.FAIL, Decision.FAIL),
        ("R", Decision.FAIL, Decision.FAIL),
        ("U", Decision.PROCEED, Decision.FAIL),
    ],
)
def test_decisions_follow_the_status_and_the_merchants_policy(status: str, auto: Decision, required: Decision) -> None:
    result = AuthenticationResult(TransStatus(status), "t-1", "2.2.0")
    assert decide(result, Policy.AUTO) is auto
    assert decide(result, Policy.REQUIRED) is required


def test_required_always_authenticates_and_auto_only_enrolled_cards() -> None:
    assert should_authenticate(Policy.REQUIRED, enrolled=False)
    assert should_authenticate(Policy.AUTO, enrolled=True)
    assert not should_authenticate(Policy.AUTO, enrolled=False)


def test_an_rreq_must_match_the_ares_ids() -> None:
    expected = AuthenticationResult(TransStatus.CHALLENGE, "t-1", "2.2.0", ds_trans_id="d", acs_trans_id="a")
    rreq = {
        "messageType": "RReq",
        "threeDSServerTransID": "t-1",
        "acsTransID": "a",
        "dsTransID": "d",
        "transStatus": "Y",
        "authenticationValue": CAVV,
        "eci": "05",
    }
    assert read_rreq(rreq, expected=expected, brand=Brand.VISA).status is TransStatus.AUTHENTICATED
    with pytest.raises(ValueError):
        read_rreq({**rreq, "acsTransID": "forged"}, expected=expected, brand=Brand.VISA)
    with pytest.raises(ValueError):
        read_rreq({**rreq, "transStatus": "C", "acsURL": "x"}, expected=expected, brand=Brand.VISA)


# The test-card table's 3-D Secure column, end to end through the sandbox directory server.
@pytest.mark.parametrize(
    ("number", "status", "eci", "auto", "required"),
    [
        ("4242424242424242", "Y", "05", Decision.PROCEED, Decision.PROCEED),
        ("5555555555554444", "Y", "02", Decision.PROCEED, Decision.PROCEED),
        ("4000000000003097", "A", "06", Decision.PROCEED, Decision.PROCEED),
        ("4000000000003105", "U", "07", Decision.PROCEED, Decision.FAIL),
        ("4000000000003089", "N", "07", Decision.FAIL, Decision.FAIL),
        ("4000002500003155", "C", None, Decision.CHALLENGE, Decision.CHALLENGE),
        ("4895380110000003", "C", None, Decision.CHALLENGE, Decision.CHALLENGE),
        ("4000008400001629", "C", None, Decision.CHALLENGE, Decision.CHALLENGE),
    ],
)
async def test_the_sandbox_directory_answers_each_3ds_test_card(
    number: str, status: str, eci: str | None, auto: Decision, required: Decision
) -> None:
    ds = SandboxDirectoryServer(acs_url="http://127.0.0.1:8000/sandbox/acs", key=KEY)
    assert await ds.is_enrolled(number)
    trans_id = new_trans_id()
    brand = detect(number)
    assert brand is not None
    ares = await ds.authenticate(build_areq(_request(number), trans_id=trans_id, now=NOW))
    result = read_ares(ares, trans_id=trans_id, brand=brand)
    assert result.status.value == status and result.eci == eci
    assert (decide(result, Policy.AUTO), decide(result, Policy.REQUIRED)) == (auto, required)
    if result.authentication_value:
        assert result.acs_trans_id and is_genuine(KEY, result.acs_trans_id, result.authentication_value)
    if status == "C":
        assert result.acs_url == "http://127.0.0.1:8000/sandbox/acs"


async def test_a_card_outside_the_enrolled_ranges_is_unavailable_when_forced() -> None:
    ds = SandboxDirectoryServer(acs_url="http://x/acs", key=KEY)
    assert not await ds.is_enrolled("2223003122003222")
    ares = await ds.authenticate(build_areq(_request("2223003122003222"), trans_id="t-9", now=NOW))
    assert ares["transStatus"] == "U" and ares["transStatusReason"] == "13"


@pytest.mark.parametrize(
    ("change", "code", "detail"),
    [
        ({"browserIP": None}, "201", "browserIP"),
        ({"purchaseAmount": "12.50"}, "203", "purchaseAmount"),
        ({"messageVersion": "2.1.0"}, "102", "messageVersion"),
    ],
)
async def test_the_directory_refuses_a_bad_areq_with_an_erro_message(
    change: dict[str, object], code: str, detail: str
) -> None:
    areq = {**build_areq(_request("4242424242424242"), trans_id="t-2", now=NOW), **change}
    if change.get("browserIP", "") is None:
        del areq["browserIP"]
    erro = await SandboxDirectoryServer(acs_url="http://x", key=KEY).authenticate(areq)
    assert (erro["messageType"], erro["errorCode"], erro["errorDetail"]) == ("Erro", code, detail)
