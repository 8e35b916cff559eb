"""The OpenAPI of /v1 and /eximpe changes only by additions: every path, operation, parameter, schema
and property a client could rely on before the intents (the snapshot in tests/fixtures) is still
there with the same type, and nothing optional became required. A new constraint on something that
was there (a minimum, a pattern, an enum) is a tightening: each one is listed below with the server
rule it documents, so that the document never refuses what the server accepts without saying so."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tessera.app import create_app
from tessera.core.webhooks.endpoints import EVENT_TYPES
from tessera.dialects._common.patterns import py_ws
from tessera.settings import Settings

BASELINE = Path(__file__).parent.parent / "fixtures" / "openapi-before-intents.json"
PROSE = frozenset({"description", "summary", "example", "examples", "title"})
# Keywords that, added to a schema that was there, narrow what it admits.
CONSTRAINTS = frozenset(
    {"const", "enum", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength"}
    | {"maxLength", "minItems", "maxItems", "minProperties", "maxProperties", "format"}
)
# Deliberate widenings, each with its reason.
WIDENED = {
    # An intent has no card until its first attempt: `card` is now `PaymentCardOut | null`.
    "components/schemas/PaymentOut/properties/card/$ref: removed",
    # EximPe's words are read in any letter case with white space around them (order_translate._choice,
    # translate.Collector.choice): patterns, where the document had one spelling.
    "/eximpe/pg/orders//post/requestBody/content/application/json/schema/properties/collection_mode/const: removed",
    *(
        f"/eximpe/pg/tokens//post/requestBody/content/application/json/schema/properties/{name}/enum: removed"
        for name in ("card_type", "network")
    ),
    # translate.Collector.integer: an expiry is a number or a string of digits ("05"); its bounds are in `anyOf`.
    *(
        f"/eximpe/pg/tokens//post/requestBody/content/application/json/schema/properties/{name}: removed"
        for name in ("expiry_month/maximum", "expiry_month/minimum", "expiry_month/type")
        + ("expiry_year/minimum", "expiry_year/type")
    ),
    # order_translate.order_command reads a new card's fields only without a token: their types are the
    # `else` of card_details' token-or-new-card choice.
    *(
        f"components/schemas/CardDetailsIn/properties/{name}/anyOf: removed"
        for name in ("cardholder_name", "cvv", "expiry_month", "expiry_year", "nickname", "number", "save_card")
    ),
    "components/schemas/CardDetailsIn/properties/token/anyOf: removed",  # a string when given: in the `then`
}
# Deliberate tightenings: each documents a rule the server already enforced (issue 11: requests valid
# by the document were refused), so no request the server accepts became invalid by the document.
_ORDER_BODY = "/eximpe/pg/orders//post/requestBody/content/application/json/schema/properties"
_TOKEN_BODY = "/eximpe/pg/tokens//post/requestBody/content/application/json/schema/properties"
_IDEMPOTENT_ROUTES = (
    "/eximpe/pg/orders/",
    "/v1/cards",
    "/v1/payments",
    *(f"/v1/payments/{{payment_id}}/{op}" for op in ("capture", "rebill", "refunds", "void")),
    *(f"/v1/test_helpers/payments/{{payment_id}}/{op}" for op in ("chargeback", "chargeback_reversal", "receipt")),
    "/v1/tokens",
    "/v1/webhook_endpoints",
    "/v1/webhook_endpoints/{endpoint_id}",
    "/v1/webhook_endpoints/{endpoint_id}/deliveries/{delivery_id}/retry",
    "/v1/webhook_endpoints/{endpoint_id}/rotate_secret",
)


def _optional_text(path: str, **string: Any) -> str:
    """An optional text field of EximPe's given its limits: `anyOf` a string or null, as pydantic writes it."""
    became = [dict(sorted({**string, "type": "string"}.items())), {"type": "null"}]
    return f"{path}/anyOf: [{{'type': 'string'}}, {{'type': 'null'}}] became {became!r}"


_AMOUNTS = ("CaptureIn", "ChargebackIn", "PaymentCreate", "RebillIn", "RefundIn", "ReversalIn")
_MONTH = py_ws(r"^\s*(0{0,3}[1-9]|0{0,2}1[0-2])\s*$")
_YEAR = py_ws(r"^\s*[0-9]{1,4}\s*$")
_EMAIL = py_ws(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TIGHTENED = {
    # core.money.check_amount: more than zero, at most MAX_AMOUNT minor units (0 was valid by the document).
    *(
        f"components/schemas/{n}/properties/amount/{k}: tightened"
        for n in _AMOUNTS
        for k in ("exclusiveMinimum", "maximum")
    ),
    # core.money.exponent: an active ISO 4217 code with a minor unit ("000" was valid by the document).
    "components/schemas/PaymentCreate/properties/currency/enum: tightened",
    f"{_ORDER_BODY}/currency/enum: tightened",
    # order_translate._amount: digits with at most one decimal point (the exact decimals depend on the currency).
    f"{_ORDER_BODY}/amount/pattern: tightened",
    # translate.save_command (both dialects): a card is saved only with the cardholder's consent.
    "components/schemas/CardCreate/properties/consent/const: tightened",
    f"{_TOKEN_BODY}/card_holder_consent/const: tightened",
    # GET /v1/payments answered 400 to any status outside translate.STATUS_FROM_WIRE (an empty one too).
    "/v1/payments/get/parameters/status/schema/enum: tightened",
    # Services.list_events: an event number a 64-bit column holds (a larger one was a 500, issue 11).
    "/v1/events/get/parameters/after/schema/maximum: tightened",
    # Services: a cursor is an id of the listed kind (anything else listed nothing, with a 200, issue 11).
    "/v1/payments/get/parameters/starting_after/schema/anyOf: [{'maxLength': 64, 'type': 'string'}, "
    "{'type': 'null'}] became [{'type': 'string', 'maxLength': 64, 'pattern': '^pay_[0-9a-hjkmnp-tv-z]{26}$'}, "
    "{'type': 'null'}]",
    "/v1/webhook_endpoints/{endpoint_id}/deliveries/get/parameters/starting_after/schema/anyOf: "
    "[{'maxLength': 40, 'type': 'string'}, {'type': 'null'}] became [{'type': 'string', 'maxLength': 40, "
    "'pattern': '^whd_[0-9a-hjkmnp-tv-z]{26}$'}, {'type': 'null'}]",
    # core.idempotency.KEY_PATTERN: visible ASCII only (the server refused control characters; it now also
    # refuses the non-ASCII and space-bearing keys no HTTP stack carries intact, which no client sent).
    *(
        f"{route}/post/parameters/Idempotency-Key/schema/anyOf: [{{'type': 'string'}}, {{'type': 'null'}}] became "
        "[{'type': 'string', 'pattern': '^[!-~]{1,255}$'}, {'type': 'null'}]"
        for route in _IDEMPOTENT_ROUTES
    ),
    # rules.check_browser: an IP address (anything else was refused).
    "components/schemas/BrowserIn/properties/ip/anyOf: [{'maxLength': 45, 'type': 'string'}, {'type': 'null'}] "
    "became [{'anyOf': [{'format': 'ipv4'}, {'format': 'ipv6'}], 'type': 'string', 'maxLength': 45}, "
    "{'type': 'null'}]",
    # vault.pan.Expiry.parse: a month 1-12, a year 0-99 or from 2000, as numbers or text of up to 4 digits.
    "components/schemas/CardIn/properties/exp_month/anyOf: [{'type': 'integer'}, {'type': 'string'}] became "
    "[{'type': 'integer', 'maximum': 12.0, 'minimum': 1.0}, {'type': 'string', 'pattern': "
    f"{_MONTH!r}}}]",
    "components/schemas/CardIn/properties/exp_year/anyOf: [{'type': 'integer'}, {'type': 'string'}] became "
    "[{'type': 'integer', 'maximum': 99.0, 'minimum': 0.0}, {'type': 'integer', 'minimum': 2000.0}, "
    f"{{'type': 'string', 'pattern': {_YEAR!r}}}]",
    # vault.pan.PAN.parse: 12 to 19 digits, spaces and dashes ignored.
    "components/schemas/CardIn/properties/number/pattern: tightened",
    # webhooks.endpoints.check_event_types: at least one known event type, or "*".
    "components/schemas/EndpointCreate/properties/enabled_events/minItems: tightened",
    "components/schemas/EndpointCreate/properties/enabled_events/items/enum: tightened",
    "components/schemas/EndpointUpdate/properties/enabled_events/anyOf: [{'items': {'maxLength': 60, 'type': "
    "'string'}, 'maxItems': 64, 'type': 'array'}, {'type': 'null'}] became [{'items': {'type': 'string', "
    f"'enum': {['*', *sorted(EVENT_TYPES)]!r}, 'maxLength': 60}}, 'type': 'array', 'maxItems': 64, "
    "'minItems': 1}, {'type': 'null'}]",
    # Services.list_events: a known event type (an unknown one listed nothing with a 200; the soak's fuzzing).
    "/v1/events/get/parameters/type/schema/anyOf: [{'items': {'type': 'string'}, 'type': 'array'}, "
    f"{{'type': 'null'}}] became [{{'type': 'array', 'items': {{'type': 'string', 'enum': {sorted(EVENT_TYPES)!r}}}}}, "
    "{'type': 'null'}]",
    # webhooks.endpoints.check_url and rules.check_return_url: an absolute http(s) URL with a host.
    "components/schemas/EndpointCreate/properties/url/pattern: tightened",
    "components/schemas/EndpointUpdate/properties/url/pattern: tightened",
    "components/schemas/PaymentCreate/properties/return_url/pattern: tightened",
    # schemas.CustomerIn._email: an address with one @ and a dot in its domain.
    "components/schemas/CustomerIn/properties/email/anyOf: [{'maxLength': 254, 'type': 'string'}, {'type': 'null'}] "
    f"became [{{'type': 'string', 'maxLength': 254, 'pattern': {_EMAIL!r}}}, "
    "{'type': 'null'}]",
    # EximPe (order_translate._Check.text, translate.Collector.text): text has its maximum length, and a
    # required one is not blank; words are read in any case, white space around them dropped.
    *(
        f"{_ORDER_BODY}/{name}/{k}: tightened"
        for name in ("collection_mode", "mop_type", "reference_id", "return_url")
        for k in ("maxLength", "pattern")
    ),
    *(
        f"{_TOKEN_BODY}/{name}/{k}: tightened"
        for name in ("card_type", "cardholder_name", "identifier", "network")
        for k in ("maxLength", "pattern")
    ),
    "components/schemas/BuyerIn/properties/ip_address/maxLength: tightened",
    "components/schemas/BuyerIn/properties/user_agent/maxLength: tightened",
    "components/schemas/BuyerIn/properties/user_agent/pattern: tightened",
    *(
        _optional_text(f"{_TOKEN_BODY}/{name}", maxLength=n)
        for name, n in (("authorization_reference_number", 100), ("nickname", 200))
    ),
    *(
        _optional_text(f"components/schemas/{schema}/properties/{name}", maxLength=n)
        for schema, names, n in (
            ("AddressIn", ("city", "country", "line_1", "line_2", "postal_code", "state"), 200),
            ("BuyerIn", ("name",), 200),
            ("CardDetailsIn", ("identifier",), 200),
            ("CardDetailsIn", ("network",), 20),
            ("InvoiceIn", ("number",), 100),
            ("ProductIn", ("name",), 200),
            ("ProductIn", ("hs_code_description",), 500),
            ("ProductIn", ("type_of_goods",), 50),
        )
        for name in names
    ),
    # order_translate._buyer: an email has one @ and a dot after it, a phone number digits, spaces,
    # brackets and dashes after an optional +; _details: an HS code 4 to 10 digits, an invoice date a date.
    _optional_text(
        "components/schemas/BuyerIn/properties/email",
        maxLength=254,
        pattern=py_ws(r"^\s*([^@\s]+@[^@\s]+\.[^@\s]+)?\s*$"),
    ),
    _optional_text(
        "components/schemas/BuyerIn/properties/phone",
        maxLength=40,
        pattern=py_ws(r"^\s*(\+?[0-9][0-9 ()-]{4,18}[0-9()-])?\s*$"),
    ),
    _optional_text(
        "components/schemas/ProductIn/properties/hs_code", maxLength=10, pattern=py_ws(r"^\s*([0-9]{4,10})?\s*$")
    ),
    _optional_text(
        "components/schemas/InvoiceIn/properties/date",
        anyOf=[{"format": "date"}, {"pattern": py_ws(r"^\s*$")}],
        maxLength=10,
    ),
    # order_translate._network: one of the networks, in any case (blank is no network).
    "components/schemas/CardDetailsIn/properties/network/pattern: tightened",
    # translate.save_command: a card number 12 to 19 digits, spaces and dashes ignored (PAN.parse).
    f"{_TOKEN_BODY}/card_number/maxLength: tightened",
    f"{_TOKEN_BODY}/card_number/pattern: tightened",
    # The list route refused a missing or empty identifier (it listed nobody's cards).
    "/eximpe/pg/tokens//get/parameters/identifier/required: False became True",
    "/eximpe/pg/tokens//get/parameters/identifier/schema/anyOf: removed",
    "/eximpe/pg/tokens//get/parameters/identifier/schema/maxLength: tightened",
    "/eximpe/pg/tokens//get/parameters/identifier/schema/minLength: tightened",
}


def _hoisted(node: Any, components: dict[str, Any]) -> Any:
    """The snapshot with the nested models it kept under a body's `$defs` (refs that did not resolve
    from the document's root, issue 11) moved among the components, where the document now has them."""
    if isinstance(node, dict):
        for name, schema in node.pop("$defs", {}).items():
            components[name] = _hoisted(schema, components)
        return {
            key: value.replace("#/$defs/", "#/components/schemas/") if key == "$ref" else _hoisted(value, components)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_hoisted(value, components) for value in node]
    return node


def _differences(old: Any, new: Any, path: str, out: list[str]) -> None:
    if isinstance(old, dict):
        if not isinstance(new, dict):
            out.append(f"{path}: no longer an object")
            return
        if not path.endswith("/properties"):  # there, keys are property names (a new `format` property, say)
            out.extend(f"{path}/{key}: tightened" for key in sorted(CONSTRAINTS & new.keys() - old.keys()))
        for key, value in old.items():
            if key in PROSE:
                continue
            if key not in new:
                out.append(f"{path}/{key}: removed")
            else:
                _differences(value, new[key], f"{path}/{key}", out)
    elif isinstance(old, list) and path.endswith("/parameters"):
        # Parameters are compared by name, so that a constraint on one shows up as that parameter's.
        by_name = {p.get("name"): p for p in new} if isinstance(new, list) else {}
        _differences({p.get("name"): p for p in old}, by_name, path, out)
    elif isinstance(old, list) and path.endswith("/required"):
        newly = set(map(str, new)) - set(map(str, old))
        if newly:
            out.append(f"{path}: newly required {sorted(newly)}")
    elif old != new:
        out.append(f"{path}: {old!r} became {new!r}")


def test_the_v1_and_eximpe_api_changes_only_by_additions(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db", environment="development")
    new = create_app(settings, embedded_worker=False).openapi()
    old = json.loads(BASELINE.read_text())
    old["paths"] = _hoisted(old["paths"], old["components"]["schemas"])
    found: list[str] = []
    for route, operations in old["paths"].items():
        if not route.startswith(("/v1", "/eximpe")):
            continue
        if route not in new["paths"]:
            found.append(f"{route}: removed")
        else:
            _differences(operations, new["paths"][route], route, found)
    _differences(old["components"], new["components"], "components", found)
    assert [f for f in found if f not in WIDENED | TIGHTENED] == []


def test_no_pattern_in_the_document_leans_on_an_engines_shorthand_classes(tmp_path: Path) -> None:
    # `\s`, `\d` and `\w` mean different sets in Python (the server), ECMA and Rust (schemathesis's
    # validator): a shopper's e-mail with \x1d in it matched the document and was refused (a soak
    # finding). Patterns spell their sets out (tessera.dialects._common.patterns.py_ws).
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db", environment="development")
    document = create_app(settings, embedded_worker=False).openapi()
    found: list[str] = []

    def visit(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "pattern" and isinstance(value, str) and re.search(r"(?<!\\)(\\\\)*\\[sSdDwW]", value):
                    found.append(f"{path}: {value}")
                visit(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                visit(value, f"{path}/{i}")

    visit(document, "")
    assert found == []
