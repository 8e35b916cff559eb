"""Schemathesis hooks for the fuzz suite (loaded by `SCHEMATHESIS_HOOKS=tests.faults.fuzz_hooks`).

Two things the OpenAPI document cannot say, and what the hooks do about each:

- An `Idempotency-Key` replays its first request. Generated cases would reuse the few keys the generator
  draws with different bodies and be refused (422) for that alone, which tests nothing about the body.
  A valid generated key is swapped for a fresh one (an invalid one is left, so its refusal is still
  tested). Key reuse itself is proven by tests/integration/test_idempotency*.py and the lifecycle tests.
- Some refusals depend on facts no schema holds: a card number's Luhn check digit, an expiry date
  before today, the merchant's allowed return-URL domains, whether a host resolves. A schema-valid
  request refused for one of those reasons (and only those, named in BEYOND_SCHEMA with the field and
  the dialect's own wording) is not a failure; each is counted in `TESSERA_FUZZ_LEDGER` so the
  published figure says how many there were.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from typing import Any

import schemathesis

KEY = re.compile(r"[!-~]{1,255}")

# (field as the dialect names it, a regular expression over its message): why no schema can say it.
BEYOND_SCHEMA: tuple[tuple[str, str, str], ...] = (
    (
        "card.number",
        "Luhn check failed|not of a supported card brand|wrong length for",
        "card number check digit/brand",
    ),
    # EximPe names every card number fault "Invalid card number format."; the document's pattern holds the
    # format, so a schema-valid number refused so failed its check digit, brand or the brand's length.
    ("card_details.number", "Luhn|brand|length|Invalid card number format", "card number check digit/brand"),
    ("card_number", "Invalid card number format", "card number check digit/brand"),
    ("number", "Invalid card number format", "card number check digit/brand"),
    ("card_details.network", "The card number is not a", "network of the card number's brand"),
    ("network", "The card number is not a", "network of the card number's brand"),
    ("card_details.cvv", "Invalid CVV", "CVV length of the card's brand"),
    ("card_details.expiry_year", "plausible card expiry year|expired", "expiry relative to today"),
    ("expiry_year", "valid card expiry year|expired", "expiry relative to today"),
    ("card_details.token", "No saved card with this token", "a card saved for this identifier"),
    ("card.cvc", "digits for this card", "CVV length of the card's brand"),
    ("card.exp_year", "plausible card expiry year|expired", "expiry relative to today"),
    ("card.exp_month", "expired", "expiry relative to today"),
    ("url", "does not resolve|not a valid URL|dotted form|network|address|HTTPS in live mode", "webhook URL's host"),
    ("format", "^no webhook format", "the webhook formats the build's dialects provide"),
    ("return_url", "allowed domains", "the merchant's allowed return-URL domains"),
    # Paysecure's refusals name no field (`{"message", "code"}`): its messages say what they are about.
    ("", "^Invalid Card Information$", "card number check digit/brand"),
    ("", "^Invalid Card Expiry", "expiry relative to today"),
    ("", "allowed domains", "the merchant's allowed return-URL domains"),
    ("", "^Brand not found!$", "the merchant's own brand_id"),
    ("", "more decimals than", "decimals of the purchase's currency"),
    ("", "amount must be at most", "the total of a purchase's prices"),
    ("", "^(success|failure)_callback.*(resolve|network|address|dotted|HTTPS|valid URL)", "webhook URL's host"),
    ("", "^token_reference is invalid$", "a card saved for this customer"),
    # A blocklist value: a card number's check digit, and an address's exact syntax (the document gives its
    # characters; whether 300.1.1.1 or 1:::2 is an address is ipaddress's to say).
    ("value", "Luhn check failed|not of a supported card brand|wrong length for", "card number check digit/brand"),
    ("value", "IPv4 or IPv6 address or CIDR", "IP address or CIDR syntax"),
    # A payment refused by the blocklist entries or velocity rules the fuzzer itself made earlier in the run.
    ("", "merchant's risk controls", "the merchant's blocklist and velocity rules"),
    # OPPWA names its fields in `parameterErrors`, in its own words.
    ("card.cvv", "digits for this card", "CVV length of the card's brand"),
    ("card.expiryYear", "card expired|plausible card expiry year", "expiry relative to today"),
    ("card.expiryMonth", "card expired", "expiry relative to today"),
    ("paymentBrand", "does not match the card number's brand", "network of the card number's brand"),
    ("amount", "more decimals than|greater than zero|amount too large", "decimals and limits of the currency"),
    ("shopperResultUrl", "allowed domains", "the merchant's allowed return-URL domains"),
)
# The harness sends credentials on every request (`--header`), so schemathesis's "missing required
# header" probe of a credential header still carries it and cannot be judged here; the tenant and key
# matrix (test_tenant_key_matrix.py) sends every route without credentials instead.
CREDENTIAL_HEADERS = {"authorization", "x-client-id", "x-client-secret", "x-merchant-id"}


def _refusals(body: Any) -> list[tuple[str, str]]:
    """(field, message) pairs of a refusal in the native or EximPe error format."""
    if not isinstance(body, dict):
        return []
    error = body.get("error")
    if isinstance(error, dict) and "errors" in error:  # EximPe's validation_error
        return [(str(e.get("attr", "")), str(e.get("detail", ""))) for e in error["errors"] if isinstance(e, dict)]
    if isinstance(error, dict) and "details" in error:  # EximPe's other errors
        details = error["details"] if isinstance(error["details"], dict) else {}
        return [(str(k), str(v)) for k, v in details.items()] or [("", str(error.get("message", "")))]
    if isinstance(error, dict):  # native
        return [(str(error.get("param") or ""), str(error.get("message", "")))]
    if set(body) == {"message", "code"}:  # Paysecure
        return [("", str(body["message"]))]
    result = body.get("result")
    if isinstance(result, dict):  # OPPWA
        errors = result.get("parameterErrors") or []
        found = [(str(e.get("name", "")), str(e.get("message", ""))) for e in errors if isinstance(e, dict)]
        return found or [("", str(result.get("description", "")))]
    return []


def _reason(body: Any) -> str | None:
    refusals = _refusals(body)
    reasons = []
    for field, message in refusals:
        match = next((why for f, pattern, why in BEYOND_SCHEMA if f == field and re.search(pattern, message)), None)
        if match is None:
            return None
        reasons.append(match)
    return reasons[0] if reasons else None


def _count(reason: str) -> None:
    ledger = os.environ.get("TESSERA_FUZZ_LEDGER")
    if ledger:
        with open(ledger, "a", encoding="utf-8") as out:
            out.write(json.dumps({"beyond_schema": reason}) + "\n")


ENTITY = re.compile(r"[0-9a-f]{32}")


def _own_entity(values: Any) -> None:
    """OPPWA: a well-formed entityId becomes the merchant's own (a malformed one stays, to be refused), so
    that cases reach past the credential check."""
    entity = os.environ.get("TESSERA_FUZZ_ENTITY_ID")
    if entity and isinstance(values, dict) and isinstance(values.get("entityId"), str):
        if ENTITY.fullmatch(values["entityId"]):
            values["entityId"] = entity


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    for values in (case.query, kwargs.get("params"), case.body, kwargs.get("data")):
        _own_entity(values)
    for headers in (case.headers, kwargs.get("headers")):
        for name in list(headers or {}):
            value = headers[name]
            if name.lower() == "idempotency-key" and isinstance(value, str) and KEY.fullmatch(value):
                headers[name] = uuid.uuid4().hex


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    if type(failure).__name__ == "MissingHeaderNotRejected" and any(
        name in str(getattr(failure, "message", "")).lower() for name in CREDENTIAL_HEADERS
    ):
        return False
    if type(failure).__name__ != "RejectedPositiveData" or response.status_code not in (400, 422):
        return True
    try:
        body = json.loads(response.content)
    except ValueError:
        return True
    reason = _reason(body)
    if reason is None:
        return True
    _count(reason)
    return False
