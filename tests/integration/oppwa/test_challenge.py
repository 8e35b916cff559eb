"""An asynchronous PA (a challenge card) through /oppwa, walked over plain HTTP as a browser would, on
both databases: 000.200.000 with a redirect the merchant renders as a form, the ACS's challenge, the
shopper back on shopperResultUrl with id and resourcePath, then the status call at that path."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from httpx import AsyncClient

from tests.conftest import Merchant
from tests.html_forms import first_form
from tests.integration.oppwa.helpers import CHALLENGE, card_form, code, oppwa

RESULT_URL = "https://shop.yoursite.com/result?order=7"


async def _walk(client: AsyncClient, redirect: dict[str, object], otp: str) -> dict[str, list[str]]:
    """What a browser does with the redirect: submit it as a form, answer the ACS, follow it back."""
    params = {str(p["name"]): str(p["value"]) for p in redirect["parameters"]}  # type: ignore[attr-defined]
    url = urlsplit(str(redirect["url"]))
    if redirect["method"] == "GET":
        page = await client.get(url.path, params=parse_qs(url.query) | params)
    else:
        page = await client.post(url.path, data=params)
    while "otp" not in page.text:  # the gateway's page posting on to the ACS
        path, fields = first_form(page.text)
        page = await client.post(path, data=fields)
    path, fields = first_form(page.text)
    reply = await client.post(path, data={**fields, "otp": otp, "action": "submit"})
    path, fields = first_form(reply.text)
    back = await client.post(path, data=fields)
    assert back.status_code == 303, back.text
    location = urlsplit(back.headers["location"])
    assert (location.netloc, location.path) == ("shop.yoursite.com", "/result")
    return parse_qs(location.query)


async def test_a_challenged_pre_authorisation_ends_on_shopper_result_url_with_resource_path(
    client: AsyncClient, merchant: Merchant
) -> None:
    api = await oppwa(client, merchant)
    started = await api.post("/payments", card_form(CHALLENGE, shopperResultUrl=RESULT_URL))
    assert (started.status_code, code(started)) == (200, "000.200.000")
    body = started.json()
    assert set(body["redirect"]) == {"url", "method", "parameters"}
    query = await _walk(client, body["redirect"], "123456")
    assert query == {"order": ["7"], "id": [body["id"]], "resourcePath": [f"/v1/payments/{body['id']}"]}
    final = await api.resource(query["resourcePath"][0])
    assert (final.status_code, code(final), final.json()["paymentType"]) == (200, "000.100.110", "PA")
    assert "redirect" not in final.json() and final.json()["threeDSecure"]["eci"] == "05"


async def test_a_failed_challenge_is_a_3_d_secure_rejection(client: AsyncClient, merchant: Merchant) -> None:
    api = await oppwa(client, merchant)
    body = (await api.post("/payments", card_form(CHALLENGE, "DB", shopperResultUrl=RESULT_URL))).json()
    query = await _walk(client, body["redirect"], "000000")
    final = await api.resource(query["resourcePath"][0])
    assert (final.status_code, code(final)) == (400, "100.380.401")
