"""Builders for request bodies used across tests."""

from __future__ import annotations

from typing import Any


def cvc_for(number: str) -> str:
    """American Express cards have a four-digit security code; the others three."""
    return "7373" if number[:2] in ("34", "37") else "737"


def card(number: str = "4242424242424242", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "number": number,
        "exp_month": 12,
        "exp_year": 2030,
        "cvc": cvc_for(number),
    }
    body.update(overrides)
    return body


BROWSER = {
    "ip": "203.0.113.7",
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
    "accept_header": "text/html,application/xhtml+xml",
    "language": "en-IN",
    "color_depth": 24,
    "screen_height": 900,
    "screen_width": 1440,
    "timezone_offset": -330,
    "java_enabled": False,
    "javascript_enabled": True,
}


def payment(number: str = "4242424242424242", amount: int = 1000, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"amount": amount, "currency": "INR", "card": card(number), "browser": BROWSER}
    body.update(overrides)
    return body
