"""The core's rule for browser origins (issue 14): a merchant's allowed domains and their subdomains, on
any port, over http or https in test mode and https only in live mode; nothing but a browser's exact
origin serialisation; and a preflight's question, "does any merchant allow this origin?", on the fakes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tessera.core.browser_origins import candidate_domains, origin_allowed, origin_allowed_by_any, origin_host
from tessera.core.merchants import Merchant, MerchantStatus, create_merchant
from tests.fakes import InMemoryUnitOfWorkFactory


def _merchant(*domains: str, status: MerchantStatus = MerchantStatus.ACTIVE) -> Merchant:
    return Merchant("mer_1", "Shop", status, datetime(2026, 1, 1, tzinfo=UTC), allowed_domains=list(domains))


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("https://shop.example", ("https", "shop.example")),
        ("http://localhost:8100", ("http", "localhost")),
        ("http://[::1]:8100", ("http", "::1")),
        ("https://SHOP.example", ("https", "shop.example")),
        ("null", None),
        ("https://shop.example/", None),
        ("https://shop.example/checkout", None),
        ("https://shop.example?x=1", None),
        ("https://user:pw@shop.example", None),
        ("ftp://shop.example", None),
        ("https://shop.example:70000", None),
        ("https://", None),
        ("", None),
    ],
)
def test_only_a_browsers_origin_serialisation_is_an_origin(origin: str, expected: tuple[str, str] | None) -> None:
    assert origin_host(origin) == expected


def test_test_mode_allows_both_schemes_and_live_mode_https_only() -> None:
    merchant = _merchant("shop.example")
    assert origin_allowed(merchant, "test", "http://shop.example:3000")
    assert origin_allowed(merchant, "test", "https://shop.example")
    assert origin_allowed(merchant, "live", "https://shop.example")
    assert not origin_allowed(merchant, "live", "http://shop.example")


def test_subdomains_are_allowed_and_lookalikes_are_not() -> None:
    merchant = _merchant("shop.example")
    assert origin_allowed(merchant, "live", "https://pay.shop.example")
    assert not origin_allowed(merchant, "live", "https://evilshop.example")
    assert not origin_allowed(merchant, "live", "https://shop.example.evil.test")


def test_an_inactive_merchant_allows_no_origin() -> None:
    assert not origin_allowed(
        _merchant("shop.example", status=MerchantStatus.SUSPENDED), "test", "https://shop.example"
    )


def test_the_candidate_domains_of_a_host_are_itself_and_its_parents() -> None:
    assert candidate_domains("a.pay.shop.example") == [
        "a.pay.shop.example",
        "pay.shop.example",
        "shop.example",
        "example",
    ]


async def test_a_preflight_origin_is_allowed_when_some_merchant_allows_it_in_a_mode_it_has_keys_for() -> None:
    uow = InMemoryUnitOfWorkFactory()
    await create_merchant("Test shop", uow=uow, allowed_domains=["test.example"])
    await create_merchant("Live shop", uow=uow, allowed_domains=["live.example"], modes=("live",))
    assert await origin_allowed_by_any("http://pay.test.example:8080", uow=uow)
    assert await origin_allowed_by_any("https://live.example", uow=uow)
    assert not await origin_allowed_by_any("http://live.example", uow=uow)  # live keys only: https
    assert not await origin_allowed_by_any("https://nobody.example", uow=uow)
    assert not await origin_allowed_by_any("null", uow=uow)
