"""Builders for request bodies used across tests."""

from __future__ import annotations

from typing import Any

CVC_FOR_BRAND = {"378282246310005": "7373"}


def card(number: str = "4242424242424242", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "number": number,
        "exp_month": 12,
        "exp_year": 2030,
        "cvc": CVC_FOR_BRAND.get(number, "737"),
    }
    body.update(overrides)
    return body


def payment(number: str = "4242424242424242", amount: int = 1000, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"amount": amount, "currency": "INR", "card": card(number)}
    body.update(overrides)
    return body
