"""OPPWA's form bodies: `application/x-www-form-urlencoded`, flat names with dots and brackets
(`card.number`, `customer.browser.language`, `customParameters[KEY]`), every value text, booleans
`true` / `false`.

One table (`FIELDS`) says what each known parameter may hold; the server checks it and the OpenAPI
document is made from it (`schema`), so the document says exactly what is accepted. Every fault is
reported at once as OPPWA does: `200.300.404` (or the field's own `100.*` code) with
`parameterErrors[]`, whose `value` never carries a card number or CVV.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from tessera.core.errors import ErrorCode, TesseraError
from tessera.core.money import card_currencies
from tessera.dialects._common.patterns import py_ws
from tessera.dialects.oppwa import codes as c

MEDIA_TYPE = "application/x-www-form-urlencoded"
MAX_VALUE = 2048
CUSTOM = re.compile(r"^customParameters\[([A-Za-z0-9._]{3,64})\]$")
CUSTOM_PATTERN = CUSTOM.pattern
_SECRET = frozenset({"card.number", "card.cvv"})
_DIGIT_RUN = re.compile(r"[0-9]{12,}")
_IPV4 = r"((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
URL = py_ws(r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#@:\[\]][^\s/?#@\[\]]*([/?#][^\s]*)?$")
EMAIL = r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,63}\.[A-Za-z]{2,}$"
BOOL = "^(true|false)$"
TEXT = r"^[^\x00]*$"
BRANDS = ("VISA", "MASTER", "AMEX", "DINERS", "DISCOVER", "JCB", "MAESTRO", "UNIONPAY", "VISAELECTRON", "RUPAY")


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    pattern: str = TEXT
    max_length: int = 255
    code: str = c.INVALID_PARAMETER  # the result code when this field alone is at fault
    enum: tuple[str, ...] = ()
    description: str = ""

    def fault(self, value: str) -> str | None:
        if self.enum:
            return None if value in self.enum else f"must be one of {', '.join(self.enum)}"
        if len(value) > self.max_length:
            return f"must be at most {self.max_length} characters"
        if not re.search(self.pattern, value):
            return f"must match {self.pattern}"
        return None

    def schema(self) -> dict[str, Any]:
        if self.enum:
            return {"type": "string", "enum": list(self.enum)}
        found: dict[str, Any] = {"type": "string", "maxLength": self.max_length, "pattern": self.pattern}
        return found | ({"description": self.description} if self.description else {})


def _f(name: str, pattern: str = TEXT, max_length: int = 255, code: str = c.INVALID_PARAMETER, **kw: Any) -> Field:
    return Field(name, pattern, max_length, code, **kw)


ENTITY = _f("entityId", "^[0-9a-f]{32}$", 32, description="the merchant's entity_id (32 lowercase hex)")
AMOUNT = _f("amount", r"^[0-9]{1,12}(\.[0-9]{2})?$", 15, c.AMOUNT_FORMAT, description="major units, e.g. 92.00")
CURRENCY = Field("currency", code=c.CURRENCY_INVALID, enum=tuple(sorted(card_currencies())))
CARD: tuple[Field, ...] = (
    _f("card.number", "^[0-9]{12,19}$", 19, c.INVALID_CARD),
    _f("card.holder", r"^[^\x00]{1,128}$", 128, c.INVALID_HOLDER),
    _f("card.expiryMonth", "^(0[1-9]|1[0-2])$", 2, c.INVALID_MONTH),
    _f("card.expiryYear", "^[0-9]{4}$", 4, c.INVALID_YEAR),
    _f("card.cvv", "^[0-9]{3,4}$", 4, c.INVALID_CVV),
)
BRAND = Field("paymentBrand", code=c.INVALID_BRAND, enum=BRANDS)
BROWSER: tuple[Field, ...] = (
    _f("customer.ip", f"^{_IPV4}$", 15, c.IP_INVALID),
    _f("customer.browser.acceptHeader", TEXT, 2048),
    _f("customer.browser.userAgent", TEXT, 2048),
    _f("customer.browser.language", "^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$", 35),
    _f("customer.browser.screenHeight", "^[0-9]{1,6}$", 6),
    _f("customer.browser.screenWidth", "^[0-9]{1,6}$", 6),
    # getTimezoneOffset() minutes, -840 to 720 (what the core's 3-D Secure rules take), spelt as a pattern.
    _f(
        "customer.browser.timezone",
        "^(([0-9]|[1-9][0-9]|[1-6][0-9]{2}|7[01][0-9]|720)|-([0-9]|[1-9][0-9]|[1-7][0-9]{2}|8[0-3][0-9]|840))$",
        4,
    ),
    _f("customer.browser.javaEnabled", BOOL, 5),
    _f("customer.browser.javascriptEnabled", BOOL, 5),
    Field("customer.browser.screenColorDepth", enum=("1", "4", "8", "15", "16", "24", "30", "32", "48")),
    _f("customer.browser.challengeWindow", "^0?[1-5]$", 2),
)
CUSTOMER: tuple[Field, ...] = (
    _f("customer.givenName", TEXT, 50),
    _f("customer.surname", TEXT, 50),
    _f("customer.email", EMAIL, 128, c.EMAIL_INVALID),
    _f("customer.merchantCustomerId", TEXT, 255),
    _f("customer.phone", "^[0-9+][0-9 ()/-]{6,24}$", 25),
    _f("customer.mobile", "^[0-9+][0-9 ()/-]{6,24}$", 25),
    _f("customer.birthDate", "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", 10),
    _f("customer.companyName", TEXT, 60),
    *(_f(f"{part}.{name}", TEXT, 100) for part in ("billing", "shipping") for name in ("street1", "street2", "city")),
    *(_f(f"{part}.state", TEXT, 50) for part in ("billing", "shipping")),
    *(_f(f"{part}.postcode", TEXT, 16) for part in ("billing", "shipping")),
    *(_f(f"{part}.country", "^[A-Z]{2}$", 2) for part in ("billing", "shipping")),
)
ORDER: tuple[Field, ...] = (
    _f("merchantTransactionId", TEXT, 255, c.ID_TOO_LONG),
    _f("merchantInvoiceId", TEXT, 255),
    _f("merchantMemo", TEXT, 255),
    _f("descriptor", TEXT, 127),
    _f("shopperResultUrl", URL, 2048),
    _f("notificationUrl", URL, 2048),
    _f("createRegistration", BOOL, 5),
    Field("testMode", enum=("EXTERNAL", "INTERNAL")),
    Field("transactionCategory", enum=("EC", "MO", "TO", "RC", "IN", "PO", "PM")),
    Field("recurringType", enum=("INITIAL", "REPEATED")),
    Field("standingInstruction.mode", enum=("INITIAL", "REPEATED")),
    Field("standingInstruction.type", enum=("UNSCHEDULED", "RECURRING", "INSTALLMENT")),
    Field("standingInstruction.source", enum=("CIT", "MIT")),
    _f("standingInstruction.initialTransactionId", TEXT, 64),
    _f("threeDSecure.challengeIndicator", "^0?[1-9]$", 2),
)
PAYMENT_TYPE = Field("paymentType", code=c.PAYMENT_TYPE_INVALID, enum=("PA", "DB"))
BACK_OFFICE_TYPE = Field("paymentType", code=c.PAYMENT_TYPE_INVALID, enum=("CP", "RF", "RV", "RB", "CB", "CR", "RC"))


class OppwaRefusal(TesseraError):
    """A refusal in OPPWA's words: its result code, HTTP status and, for validation, `parameterErrors`."""

    def __init__(
        self,
        result_code: str,
        *,
        status: int = 400,
        parameter_errors: list[dict[str, str]] | None = None,
        code: ErrorCode = ErrorCode.PARAMETER_INVALID,
        field: str | None = None,
    ) -> None:
        super().__init__(c.describe(result_code), code=code, field=field)
        self.result_code = result_code
        self.status = status
        self.parameter_errors = parameter_errors or []


def shown(name: str, value: str) -> str:
    """A value as a parameter error may show it: never a card number or CVV, nor any run of digits as long
    as one, whatever field it was put in."""
    if name in _SECRET or _DIGIT_RUN.search(value):
        return "[hidden]"
    return value[:255]


def parameter_error(name: str, value: str, message: str, code: str = c.INVALID_PARAMETER) -> OppwaRefusal:
    return OppwaRefusal(code, parameter_errors=[{"name": name, "value": shown(name, value), "message": message}])


def parse(raw: bytes, content_type: str | None) -> dict[str, str]:
    """The form's fields by name (a repeated name keeps its last value). A body of another media type, or
    not UTF-8, is refused with 200.300.404."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if raw and kind != MEDIA_TYPE:
        raise parameter_error("Content-Type", kind, f"send the parameters as {MEDIA_TYPE}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise parameter_error("body", "", "the body must be UTF-8") from None
    try:
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=500)
    except (ValueError, UnicodeDecodeError):
        raise parameter_error("body", "", "the body must be a URL-encoded form of at most 500 fields") from None
    return dict(pairs)


def check(form: dict[str, str], fields: tuple[Field, ...], required: tuple[str, ...] = ()) -> None:
    """Every known field's value, and the required ones' presence; all faults at once."""
    faults: list[tuple[str, str, str, str]] = []  # name, value, message, code
    for name in required:
        if not form.get(name):
            spec = next((f for f in fields if f.name == name), None)
            faults.append((name, "", "is required", _missing_code(name, spec)))
    for spec in fields:
        value = form.get(spec.name)
        if value is None or (value == "" and spec.name in required):
            continue  # a required one is reported as missing above
        message = spec.fault(value)
        if message is not None:
            faults.append((spec.name, value, message, spec.code))
    for name, value in form.items():
        if CUSTOM.match(name) and len(value) > MAX_VALUE:
            faults.append((name, value, f"must be at most {MAX_VALUE} characters", c.INVALID_PARAMETER))
    if faults:
        code = faults[0][3] if len(faults) == 1 else c.INVALID_PARAMETER
        errors = [{"name": n, "value": shown(n, v), "message": m} for n, v, m, _ in faults]
        raise OppwaRefusal(code, parameter_errors=errors, field=faults[0][0])


def _missing_code(name: str, spec: Field | None) -> str:
    return {
        "amount": c.AMOUNT_MISSING,
        "currency": c.CURRENCY_MISSING,
        "card.number": "100.100.100",
        "card.cvv": c.CVV_MISSING,
        "card.expiryMonth": "100.100.200",
        "card.expiryYear": "100.100.300",
    }.get(name, c.INVALID_PARAMETER)


def flag(form: dict[str, str], name: str) -> bool:
    return form.get(name) == "true"


def custom_parameters(form: dict[str, str]) -> dict[str, str]:
    return {m.group(1): v for k, v in form.items() if (m := CUSTOM.match(k))}


def schema(fields: tuple[Field, ...], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """The form's JSON Schema, from the same table the server checks with. Other names are accepted (and
    ignored) as OPPWA clients send many; `customParameters[KEY]` values are bounded."""
    properties = {f.name: f.schema() for f in fields}
    for name in required:
        if name in properties and "enum" not in properties[name]:
            properties[name] = properties[name] | {"minLength": 1}
    return {
        "type": "object",
        "required": list(required),
        "properties": properties,
        "patternProperties": {CUSTOM_PATTERN: {"type": "string", "maxLength": MAX_VALUE}},
        "additionalProperties": {"type": "string"},
    }


def form_body(fields: tuple[Field, ...], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """`openapi_extra` documenting a form body for a route that reads its body itself."""
    return {"requestBody": {"required": True, "content": {MEDIA_TYPE: {"schema": schema(fields, required)}}}}
