"""The rules every new payment and every confirmation obey, whichever dialect sent it.

The payments service calls these with the command and the merchant it loaded itself, so a dialect
that forgets a check cannot open a redirect, authorise nothing, or skip 3-D Secure's browser data.
Messages name fields (in the native API's terms; dialects rename them), never the values sent.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

from tessera.core.errors import ErrorCode, ValidationError
from tessera.core.merchants import Merchant
from tessera.core.money import check_amount, normalise_currency
from tessera.core.payments.commands import (
    CardSource,
    ConfirmPayment,
    CreatePayment,
    PaymentSource,
    SaveCardOnSuccess,
    TokenSource,
)

MAX_RETURN_URL = 2048
_LANGUAGE = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
_COLOR_DEPTHS = frozenset({1, 4, 8, 15, 16, 24, 30, 32, 48})
# The shopper's browser fields 3-D Secure sends, with what each may hold.
_BOUNDED_INTS: dict[str, tuple[int, int]] = {
    "screen_height": (0, 999_999),
    "screen_width": (0, 999_999),
    "timezone_offset": (-840, 720),
}


def check_new_payment(cmd: CreatePayment, merchant: Merchant) -> tuple[int, str]:
    """Refuse a payment that breaks a rule; returns the checked amount and the normalised currency."""
    amount = check_amount(cmd.amount)
    if not isinstance(cmd.currency, str):
        raise ValidationError("currency must be an ISO 4217 code such as INR", field="currency")
    currency = normalise_currency(cmd.currency)
    check_return_url(merchant, cmd.return_url)
    if cmd.source is not None:
        check_source(cmd.source, cmd.browser)
    elif cmd.browser is not None:
        check_browser(cmd.browser, required=False)
    _check_save(cmd.save_card)
    return amount, currency


def check_confirmation(cmd: ConfirmPayment, merchant: Merchant) -> None:
    check_return_url(merchant, cmd.return_url)
    check_source(cmd.source, cmd.browser)
    _check_save(cmd.save_card)


def _check_save(save: SaveCardOnSuccess | None) -> None:
    if save is not None and not save.identifier.strip():
        raise ValidationError("an identifier is needed to save the card", field="identifier")


def check_source(source: PaymentSource, browser: dict[str, Any] | None) -> None:
    """A card the shopper enters (in full, or tokenised in the browser) comes with the shopper: its
    CVV, and the browser 3-D Secure and fraud checks need. A saved card is the merchant's (no CVV)."""
    if isinstance(source, CardSource) and source.card.cvv is None:
        raise ValidationError(
            "card.cvc is required for a card the shopper enters", code=ErrorCode.PARAMETER_MISSING, field="card.cvc"
        )
    present = isinstance(source, CardSource | TokenSource)
    check_browser(browser, required=present)


def check_browser(browser: dict[str, Any] | None, *, required: bool) -> None:
    if browser is None:
        browser = {}
    if required:
        for name in ("ip", "user_agent"):
            value = browser.get(name)
            if value is None or (isinstance(value, str) and not value.strip()):
                raise ValidationError(
                    f"browser.{name} is required for a card payment",
                    code=ErrorCode.PARAMETER_MISSING,
                    field=f"browser.{name}",
                )
    ip = browser.get("ip")
    if ip is not None:
        try:
            ipaddress.ip_address(ip)
        except (TypeError, ValueError):
            raise ValidationError("browser.ip must be an IPv4 or IPv6 address", field="browser.ip") from None
    for name, limit in (("user_agent", 2048), ("accept_header", 2048)):
        value = browser.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            raise ValidationError(f"browser.{name} must be text of at most {limit} characters", field=f"browser.{name}")
    language = browser.get("language")
    if language is not None and (not isinstance(language, str) or len(language) > 35 or not _LANGUAGE.match(language)):
        raise ValidationError("browser.language must be a language tag such as en-GB", field="browser.language")
    depth = browser.get("color_depth")
    if depth is not None and (isinstance(depth, bool) or depth not in _COLOR_DEPTHS):
        raise ValidationError("browser.color_depth is not a colour depth browsers report", field="browser.color_depth")
    for name, (low, high) in _BOUNDED_INTS.items():
        value = browser.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high):
            raise ValidationError(
                f"browser.{name} must be a whole number from {low} to {high}", field=f"browser.{name}"
            )
    for name in ("java_enabled", "javascript_enabled"):
        value = browser.get(name)
        if value is not None and not isinstance(value, bool):
            raise ValidationError(f"browser.{name} must be true or false", field=f"browser.{name}")


def normalise_return_url(url: str | None) -> str | None:
    """A return URL as it is checked and kept: without the white space around it (Python's, which is
    what the documents' patterns allow), so the shopper's redirect is the URL that was checked."""
    return url.strip() if isinstance(url, str) else url


def check_return_url(merchant: Merchant, url: str | None) -> None:
    """An absolute http(s) URL on one of the merchant's allowed domains: never an open redirect."""
    if url is None:
        return
    hostname = None
    url = normalise_return_url(url)
    if isinstance(url, str) and len(url) <= MAX_RETURN_URL:
        try:
            parts = urlsplit(url)
            hostname = parts.hostname if parts.scheme in ("http", "https") and not parts.username else None
        except ValueError:
            hostname = None
    if hostname is None:
        raise ValidationError("return_url must be an absolute http or https URL", field="return_url")
    if not merchant.allows_return_url_host(hostname):
        raise ValidationError(
            "return_url's host is not one of the merchant's allowed domains",
            code=ErrorCode.RETURN_URL_NOT_ALLOWED,
            field="return_url",
        )
