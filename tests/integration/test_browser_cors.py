"""CORS on exactly what a browser needs (issue 14): `POST /v1/tokens` with a publishable key, and its
preflight, from the origins a merchant allows (its allowed domains and their subdomains; http or https
in test mode, https only in live mode). Every other route, and a secret key on this one, gets no
`Access-Control-Allow-Origin`. In-process on both databases."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from tessera.bootstrap import Container
from tessera.core.merchants import Credentials, UpdateMerchant, create_merchant, update_merchant
from tests.conftest import auth
from tests.factories import card, payment

ACAO = "access-control-allow-origin"


async def _merchant(container: Container, *domains: str, modes: tuple[str, ...] = ("test",)) -> list[Credentials]:
    _made, creds = await create_merchant("Shop", uow=container.uow, allowed_domains=list(domains), modes=modes)
    return creds


async def _preflight(
    client: AsyncClient, origin: str, path: str = "/v1/tokens", method: str = "POST"
) -> dict[str, str]:
    r = await client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )
    return {"status": str(r.status_code), **{k.lower(): v for k, v in r.headers.items()}}


async def _tokenize(client: AsyncClient, key: str, origin: str) -> tuple[int, dict[str, str]]:
    r = await client.post("/v1/tokens", json={"card": card()}, headers={**auth(key), "Origin": origin})
    return r.status_code, {k.lower(): v for k, v in r.headers.items()}


async def test_a_preflight_from_an_allowed_origin_is_granted_post_with_the_key_headers(
    client: AsyncClient, container: Container
) -> None:
    await _merchant(container, "shop.example")
    found = await _preflight(client, "http://shop.example:8080")
    assert found["status"] == "204"
    assert found[ACAO] == "http://shop.example:8080"
    assert found["access-control-allow-methods"] == "POST"
    assert {h.strip().lower() for h in found["access-control-allow-headers"].split(",")} == {
        "authorization",
        "content-type",
        "idempotency-key",
    }
    assert "access-control-allow-credentials" not in found
    assert "origin" in found["vary"].lower()


async def test_a_preflight_from_an_origin_no_merchant_allows_gets_no_grant(
    client: AsyncClient, container: Container
) -> None:
    await _merchant(container, "shop.example")
    for origin in ("https://evil.example", "https://shop.example.evil.example", "null", "https://shop.example/x"):
        found = await _preflight(client, origin)
        assert ACAO not in found, origin
        assert "access-control-allow-methods" not in found, origin


async def test_a_preflight_for_another_method_gets_no_grant(client: AsyncClient, container: Container) -> None:
    await _merchant(container, "shop.example")
    assert ACAO not in await _preflight(client, "https://shop.example", method="DELETE")


async def test_a_subdomain_of_an_allowed_domain_is_allowed(client: AsyncClient, container: Container) -> None:
    [test] = await _merchant(container, "shop.example")
    status, headers = await _tokenize(client, test.publishable_key, "https://pay.shop.example")
    assert status == 201 and headers[ACAO] == "https://pay.shop.example"


async def test_a_publishable_key_from_its_merchants_origin_gets_the_token_readable(
    client: AsyncClient, container: Container
) -> None:
    [test] = await _merchant(container, "localhost")
    for origin in ("http://localhost:5173", "https://localhost"):
        status, headers = await _tokenize(client, test.publishable_key, origin)
        assert status == 201
        assert headers[ACAO] == origin
        assert "origin" in headers["vary"].lower()


async def test_a_refused_token_request_is_readable_so_the_page_can_show_its_error(
    client: AsyncClient, container: Container
) -> None:
    [test] = await _merchant(container, "localhost")
    r = await client.post(
        "/v1/tokens",
        json={"card": card("4242424242424241")},
        headers={**auth(test.publishable_key), "Origin": "http://localhost:3000"},
    )
    assert r.status_code in (400, 422)
    assert r.headers[ACAO] == "http://localhost:3000"
    assert r.json()["error"]["param"] == "card.number"


async def test_another_merchants_origin_gets_no_grant_on_the_post(client: AsyncClient, container: Container) -> None:
    [mine] = await _merchant(container, "mine.example")
    await _merchant(container, "other.example")
    # The preflight is granted (some merchant allows other.example), but the request's key decides.
    assert (await _preflight(client, "https://other.example"))[ACAO] == "https://other.example"
    status, headers = await _tokenize(client, mine.publishable_key, "https://other.example")
    assert status == 201 and ACAO not in headers


async def test_live_mode_allows_https_origins_only(client: AsyncClient, container: Container) -> None:
    _test, live = await _merchant(container, "shop.example", modes=("test", "live"))
    status, headers = await _tokenize(client, live.publishable_key, "https://shop.example")
    assert status == 201 and headers[ACAO] == "https://shop.example"
    status, headers = await _tokenize(client, live.publishable_key, "http://shop.example")
    assert status == 201 and ACAO not in headers


async def test_a_preflight_over_http_needs_a_merchant_with_test_keys(client: AsyncClient, container: Container) -> None:
    await _merchant(container, "live-only.example", modes=("live",))
    assert ACAO not in await _preflight(client, "http://live-only.example")
    assert (await _preflight(client, "https://live-only.example"))[ACAO] == "https://live-only.example"


async def test_a_secret_key_from_a_browser_gets_no_grant(client: AsyncClient, container: Container) -> None:
    [test] = await _merchant(container, "localhost")
    status, headers = await _tokenize(client, test.secret_key, "http://localhost:3000")
    assert status == 201 and ACAO not in headers


async def test_secret_key_routes_answer_no_cors_headers_even_to_an_allowed_origin(
    client: AsyncClient, container: Container
) -> None:
    [test] = await _merchant(container, "localhost")
    origin = {"Origin": "http://localhost:3000"}
    made = await client.post("/v1/payments", json=payment(), headers={**auth(test.secret_key), **origin})
    assert made.status_code == 201 and ACAO not in made.headers
    listed = await client.get("/v1/payments", headers={**auth(test.secret_key), **origin})
    assert listed.status_code == 200 and ACAO not in listed.headers
    denied = await client.post("/v1/payments", json=payment(), headers={**auth(test.publishable_key), **origin})
    assert denied.status_code == 403 and ACAO not in denied.headers
    for path in ("/v1/payments", "/eximpe/pg/orders/", "/healthz", "/js/v1/tessera.js"):
        found = await _preflight(client, "http://localhost:3000", path=path)
        assert ACAO not in found, path
        assert "access-control-allow-methods" not in found, path


async def test_a_domain_removed_from_the_merchant_stops_being_granted(
    client: AsyncClient, container: Container
) -> None:
    [test] = await _merchant(container, "shop.example")
    assert ACAO in await _preflight(client, "https://shop.example")
    await update_merchant(UpdateMerchant(test.merchant_id, allowed_domains=["elsewhere.example"]), uow=container.uow)
    assert ACAO not in await _preflight(client, "https://shop.example")
    status, headers = await _tokenize(client, test.publishable_key, "https://shop.example")
    assert status == 201 and ACAO not in headers


async def test_a_domain_with_like_wildcards_matches_only_itself(client: AsyncClient, container: Container) -> None:
    await _merchant(container, "a_b.example")
    assert ACAO not in await _preflight(client, "https://axb.example")
    assert ACAO in await _preflight(client, "https://a_b.example")


@pytest.mark.parametrize("origin", ["https://shop.example:99999", "https://user@shop.example", " https://shop.example"])
async def test_a_malformed_origin_gets_no_grant(client: AsyncClient, container: Container, origin: str) -> None:
    [test] = await _merchant(container, "shop.example")
    assert ACAO not in await _preflight(client, origin)
    _status, headers = await _tokenize(client, test.publishable_key, origin)
    assert ACAO not in headers
