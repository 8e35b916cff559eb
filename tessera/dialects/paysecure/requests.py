"""Paysecure's requests, checked field by field and turned into core commands: a purchase (an intent),
its S2S card post (a confirmation), a capture and a refund.

Pure functions, no I/O. The first fault found is reported (Paysecure answers one `{"message", "code"}`),
in paysecure.md's words where it has some; messages name fields, never the values sent. The JSON is
read with decimals kept exact (prices are major units).
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from tessera.core.errors import ErrorCode, PaymentError, ValidationError
from tessera.core.merchants import MerchantContext
from tessera.core.money import card_currencies, exponent
from tessera.core.payments.commands import (
    CapturePayment,
    CardSource,
    ConfirmPayment,
    CreatePayment,
    RefundPayment,
    SaveCardOnSuccess,
    SavedCardSource,
)
from tessera.core.payments.model import CaptureMethod
from tessera.core.vault.pan import CVV, PAN, CardData, Expiry
from tessera.dialects.paysecure import messages as m
from tessera.dialects.paysecure.errors import MalformedJsonError

CHANNEL = "paysecure"
CURRENCIES = frozenset(card_currencies())
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # core.ids' Crockford base32, as ids spell it
_PURCHASE_ID = re.compile(r"^[0-9a-f]{24}$")
# The document's patterns (`schemas`) are these, so that it says exactly what is accepted.
EMAIL = r"^\s*[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\s*$"
URL = r"^\s*[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#@:\[\]][^\s/?#@\[\]]*([/?#]|\s*$)"
DECIMAL = r"^\s*([0-9]*[1-9][0-9]*(\.[0-9]*)?|0*\.[0-9]*[1-9][0-9]*)\s*$"  # a positive decimal, as text
CARD_NUMBER = r"^[0-9]{10,20}$"
CVC = r"^[0-9]{3,4}$"
EXPIRES = r"^[0-9]{2}/[0-9]{2}$"
SCREEN = r"^[0-9]{1,6}$"
MAX_MAJOR = 10**12  # a price or amount in major units (the core's own limit is on the total, in minor units)
_EMAIL = re.compile(EMAIL)
_URL = re.compile(URL)
_DECIMAL = re.compile(DECIMAL)
_LANGUAGE = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_EXPIRES = re.compile(r"^([0-9]{2})/([0-9]{2})$")
_CVC = re.compile(CVC)
MAX_TEXT = 200
MAX_URL = 2048


# ------------------------------------------------------------------------------------------ ids


def new_purchase_id() -> tuple[str, str]:
    """(purchaseId, payment id): 24 lowercase hex, its first 12 the time in milliseconds and the rest 48
    random bits, and the core payment id holding the same bits (a `pay_` id with the same time), so
    each is found from the other and both sort by creation time."""
    millis, rand = int(time.time() * 1000) & (2**48 - 1), secrets.randbits(48)
    return f"{millis:012x}{rand:012x}", _encode((millis << 80) | rand)


def _encode(value: int) -> str:
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "pay_" + "".join(reversed(chars))


def payment_id_of(purchase_id: str) -> str | None:
    """The payment a purchaseId names; None when it is not one (24 lowercase hex)."""
    if not _PURCHASE_ID.fullmatch(purchase_id):
        return None
    value = int(purchase_id, 16)
    return _encode(((value >> 48) << 80) | (value & (2**48 - 1)))


def purchase_id_of(payment_id: str) -> str:
    """A payment's purchaseId; a payment made through another dialect keeps its own id."""
    body = payment_id.removeprefix("pay_")
    try:
        value = sum(_ALPHABET.index(c) << (5 * i) for i, c in enumerate(reversed(body)))
    except ValueError:
        return payment_id
    rand = value & (2**80 - 1)
    if len(body) != 26 or rand >> 48:
        return payment_id
    return f"{value >> 80:012x}{rand:012x}"


# ------------------------------------------------------------------------------------------ checking


def _fault(message: str, *, missing: bool = False, field: str | None = None) -> ValidationError:
    code = ErrorCode.PARAMETER_MISSING if missing else ErrorCode.PARAMETER_INVALID
    return ValidationError(message, code=code, field=field)


def _obj(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    if value is None:
        raise _fault(f"{key} is missing", missing=True, field=key)
    if not isinstance(value, dict):
        raise _fault(f"{key} must be a JSON object", field=key)
    return value


def _text(raw: dict[str, Any], key: str, path: str, *, required: bool = True, limit: int = MAX_TEXT) -> str | None:
    value = raw.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _fault(f"{path} is missing", missing=True, field=path)
        return None
    if not isinstance(value, str):
        raise _fault(f"{path} must be a string", field=path)
    if len(value) > limit:
        raise _fault(f"{path} must be at most {limit} characters", field=path)
    return value.strip()


def _url(raw: dict[str, Any], key: str, *, required: bool) -> str | None:
    value = raw.get(key)
    url = _text(raw, key, key, required=required, limit=MAX_URL)
    if url is not None and not _URL.match(str(value)):
        raise _fault(f"{key} must be an absolute http or https URL", field=key)
    return url


def _decimal(value: Any, path: str, *, text: bool = True) -> Decimal:
    """A positive amount in major units: a number, or (with `text`) a decimal string; at most MAX_MAJOR."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str) or (isinstance(value, str) and not text):
        raise _fault(f"{path} must be a number", field=path)
    if isinstance(value, str) and not _DECIMAL.fullmatch(value):
        raise _fault(f"{path} must be a positive decimal number", field=path)
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise _fault(f"{path} must be a number", field=path) from None
    if not number.is_finite() or not 0 < number <= MAX_MAJOR:
        raise _fault(f"{path} must be greater than 0 and at most {MAX_MAJOR}", field=path)
    return number


def to_minor(number: Decimal, currency: str, path: str) -> int:
    """Major units (a price, a refund) to the currency's minor units; more decimals than it has refused."""
    digits = exponent(currency)
    scaled = number.scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise ValidationError(
            f"{path} has more decimals than {currency} allows ({digits})", code=ErrorCode.PARAMETER_INVALID, field=path
        )
    if scaled < 0 or scaled > 10**15:
        raise ValidationError(f"{path} must be between 0 and 10^15 minor units", field=path)
    return int(scaled)


# ------------------------------------------------------------------------------------------ purchases


_CLIENT_REQUIRED = {
    "street_address": 'Please pass valid street address in "street_address" parameter',
    "city": 'Please pass valid city name in "city" parameter',
    "zip_code": 'Please pass valid postal Code name in "zip_code" parameter',
}
CLIENT_OPTIONAL = ("full_name", "phone", "customerId", "date_of_birth", "tax_number", "shipping_street_address")


def _client(raw: dict[str, Any]) -> dict[str, Any]:
    client = _obj(raw, "client")
    email = _text(client, "email", "client.email", limit=254)
    assert email is not None
    if not _EMAIL.match(email):
        raise _fault("Invalid Email Format", field="client.email")
    country = _text(client, "country", "client.country", limit=2)
    if country is None or not _COUNTRY.fullmatch(country):
        raise _fault(
            'Please submit Valid Alpha2 Country Code Ex:(AF,IN) in "country" parameter', field="client.country"
        )
    state = _text(client, "stateCode", "client.stateCode", required=False, limit=10)
    if state is None:
        raise _fault("Please pass Valid State Code", missing=True, field="client.stateCode")
    kept: dict[str, Any] = {"email": email, "country": country, "stateCode": state}
    for key, message in _CLIENT_REQUIRED.items():
        value = _text(client, key, f"client.{key}", required=False)
        if value is None:
            raise _fault(message, missing=True, field=f"client.{key}")
        kept[key] = value
    for key in CLIENT_OPTIONAL:
        value = _text(client, key, f"client.{key}", required=False)
        if value is not None:
            kept[key] = value
    return kept


def _products(purchase: dict[str, Any], currency: str) -> tuple[list[dict[str, Any]], int]:
    products = purchase.get("products")
    if not isinstance(products, list) or not products:
        raise _fault("purchase.products must list at least one product", missing=products is None, field="products")
    if len(products) > 100:
        raise _fault("purchase.products may list at most 100 products", field="purchase.products")
    kept, total = [], 0
    for i, product in enumerate(products):
        path = f"purchase.products[{i}]"
        if not isinstance(product, dict):
            raise _fault(f"{path} must be a JSON object", field=path)
        name = _text(product, "name", f"{path}.name")
        if product.get("price") is None:
            raise _fault(f"{path}.price is missing", missing=True, field=f"{path}.price")
        price = to_minor(_decimal(product["price"], f"{path}.price"), currency, f"{path}.price")
        quantity = product.get("quantity")
        quantity_number = Decimal(1) if quantity is None else _decimal(quantity, f"{path}.quantity", text=False)
        total += price
        kept.append({"name": name, "price": price, "quantity": str(quantity_number)})
    if total <= 0:
        raise _fault("the purchase's total (the sum of its product prices) must be greater than zero", field="products")
    return kept, total


@dataclass(frozen=True, slots=True)
class NewPurchase:
    command: CreatePayment
    purchase_id: str
    brand_id: str
    failure_redirect: str
    callbacks: dict[str, str]  # success_callback / failure_callback, to be checked as webhook URLs


def purchase_command(raw: Any, ctx: MerchantContext, *, client_ip: str | None) -> NewPurchase:
    if not isinstance(raw, dict):
        raise MalformedJsonError(m.BAD_JSON)
    client = _client(raw)
    purchase = _obj(raw, "purchase")
    currency_text = _text(purchase, "currency", "purchase.currency", limit=3)
    assert currency_text is not None
    if purchase.get("currency") not in CURRENCIES:
        raise _fault(f"Currency {currency_text[:3]} is Not Allowed", field="purchase.currency")
    currency = currency_text
    products, total = _products(purchase, currency)
    brand_id = _text(raw, "brand_id", "brand_id", required=False, limit=64)
    if brand_id is None:
        raise _fault(m.BRAND_MISSING, missing=True, field="brand_id")
    success = _url(raw, "success_redirect", required=True)
    failure = _url(raw, "failure_redirect", required=True)
    assert success is not None and failure is not None
    urls = {k: _url(raw, k, required=False) for k in ("pending_redirect", "cancel_redirect")}
    callbacks = {k: v for k in ("success_callback", "failure_callback") if (v := _url(raw, k, required=False))}
    reference = _text(raw, "merchantRef", "merchantRef", required=False, limit=100)
    skip = raw.get("skip_capture", False)
    if skip is not None and not isinstance(skip, bool):
        raise _fault("skip_capture must be true or false", field="skip_capture")
    send_receipt = raw.get("send_receipt", False)
    if send_receipt is not None and not isinstance(send_receipt, bool):
        raise _fault("send_receipt must be true or false", field="send_receipt")
    purchase_id, payment_id = new_purchase_id()
    language = _text(purchase, "language", "purchase.language", required=False, limit=35)
    notes = _text(purchase, "notes", "purchase.notes", required=False, limit=1000)
    data = {
        "purchase_id": purchase_id,
        "brand_id": brand_id,
        "client": client,
        "products": products,
        "language": language,
        "notes": notes,
        "success_redirect": success,
        "failure_redirect": failure,
        **{k: v for k, v in urls.items() if v},
        **callbacks,
        "merchantRef": reference,
        "send_receipt": bool(send_receipt),
        "created_from_ip": client_ip,
    }
    identifier = client.get("customerId") or client["email"]
    command = CreatePayment(
        merchant_id=ctx.merchant_id,
        mode=ctx.mode,
        amount=total,
        currency=currency,
        capture_method=CaptureMethod.MANUAL if skip else CaptureMethod.AUTOMATIC,
        reference=reference or purchase_id,
        description=products[0]["name"],
        return_url=success,  # the core checks it against the merchant's domains (failure_redirect too: router)
        customer={"email": client["email"], "name": client.get("full_name"), "identifier": identifier},
        channel=CHANNEL,
        channel_data=data,
        unique_reference=reference,
        payment_id=payment_id,
    )
    return NewPurchase(command, purchase_id, brand_id, failure, callbacks)


# ------------------------------------------------------------------------------------------ S2S


def _expiry(raw: dict[str, Any], now: datetime) -> Expiry:
    value = raw.get("expires")
    found = _EXPIRES.fullmatch(value) if isinstance(value, str) else None
    if found is None or not 1 <= int(found.group(1)) <= 12:
        raise PaymentError(m.EXPIRY, code=ErrorCode.EXPIRED_CARD, field="expires")
    return Expiry.parse(int(found.group(1)), 2000 + int(found.group(2)), now=now)  # PaymentError when past


def _browser(raw: dict[str, Any]) -> dict[str, Any]:
    for key in ("remote_ip", "user_agent", "accept_header"):
        if raw.get(key) is None or (isinstance(raw.get(key), str) and not raw[key].strip()):
            raise ValidationError(f"{key} cannot be null", code=ErrorCode.PARAMETER_MISSING, field=key)
    ip = raw["remote_ip"]
    if not isinstance(ip, str) or len(ip) > 45:
        raise _fault("remote_ip must be an IPv4 or IPv6 address", field="remote_ip")
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        raise _fault("remote_ip must be an IPv4 or IPv6 address", field="remote_ip") from None
    browser: dict[str, Any] = {
        "ip": ip,
        "user_agent": _text(raw, "user_agent", "user_agent", limit=2048),
        "accept_header": _text(raw, "accept_header", "accept_header", limit=2048),
    }
    names = {  # theirs: ours
        "language": "language",
        "java_enabled": "java_enabled",
        "javascript_enabled": "javascript_enabled",
        "color_depth": "color_depth",
        "screen_width": "screen_width",
        "screen_height": "screen_height",
        "utc_offset": "timezone_offset",
    }
    for theirs, ours in names.items():
        value = raw.get(theirs)
        if isinstance(value, str) and theirs.startswith("screen_"):
            # Widths appear as strings in Paysecure's own examples.
            if not re.fullmatch(SCREEN, value):
                raise _fault(f"{theirs} must be a whole number from 0 to 999999", field=theirs)
            value = int(value)
        if isinstance(value, Decimal) and value == value.to_integral_value():
            value = int(value)  # JSON Schema's integers include 24.0
        if theirs == "language" and value is not None:
            if not isinstance(value, str) or len(value) > 35 or not _LANGUAGE.fullmatch(value):
                raise _fault("language must be a language tag such as en-US", field="language")
        if value is not None:
            browser[ours] = value
    return browser


@dataclass(frozen=True, slots=True)
class S2SPost:
    command: ConfirmPayment
    remember: bool


def s2s_command(raw: Any, ctx: MerchantContext, payment_id: str, identifier: str, *, now: datetime) -> S2SPost:
    """The card (or saved card) for a purchase. A card number the network would refuse is "Invalid Card
    Information"; an expiry not MM/YY, or before this month, is seed 001's expiry message."""
    if not isinstance(raw, dict):
        raise MalformedJsonError(m.BAD_JSON)
    browser = _browser(raw)
    token = _text(raw, "token_reference", "token_reference", required=False, limit=64)
    cvc = raw.get("cvc")
    if not isinstance(cvc, str) or not cvc.strip():
        raise _fault(m.CARD_MISSING, missing=True, field="cvc")
    if not _CVC.fullmatch(cvc):
        raise _fault(m.INVALID_CARD, field="cvc")
    if token is not None:
        command = ConfirmPayment(
            merchant_id=ctx.merchant_id,
            mode=ctx.mode,
            payment_id=payment_id,
            source=SavedCardSource(token, identifier),
            browser=browser,
        )
        return S2SPost(command, remember=False)
    holder = _text(raw, "cardholder_name", "cardholder_name", required=False, limit=100)
    number = raw.get("card_number")
    remember = raw.get("remember_card")
    if holder is None or not isinstance(number, str) or not number.strip():
        raise _fault(m.CARD_MISSING, missing=True, field="card")
    if remember is not None and not isinstance(remember, str):
        raise _fault("remember_card must be on or off", field="remember_card")
    try:
        if not re.fullmatch(CARD_NUMBER, number):
            raise ValidationError("digits", field="card_number")
        pan = PAN.parse(number, field="card_number")
        cvv = CVV.parse(cvc, pan.brand, field="cvc")
    except ValidationError:
        raise _fault(m.INVALID_CARD, field="card_number") from None
    expiry = _expiry(raw, now)
    save = (remember or "").strip().lower() == "on"
    command = ConfirmPayment(
        merchant_id=ctx.merchant_id,
        mode=ctx.mode,
        payment_id=payment_id,
        source=CardSource(CardData(pan=pan, expiry=expiry, cvv=cvv, holder_name=holder)),
        browser=browser,
        save_card=SaveCardOnSuccess(identifier=identifier, credential=ctx.client_id, consent_ip=browser["ip"])
        if save
        else None,
    )
    return S2SPost(command, remember=save)


# ------------------------------------------------------------------------------------------ follow-ups


def capture_command(raw: Any, ctx: MerchantContext, payment_id: str, currency: str) -> CapturePayment:
    amount = None
    if isinstance(raw, dict) and raw.get("amount") is not None:
        amount = to_minor(_decimal(raw["amount"], "amount"), currency, "amount")
    elif raw is not None and not isinstance(raw, dict):
        raise _fault(m.BAD_JSON)
    return CapturePayment(merchant_id=ctx.merchant_id, mode=ctx.mode, payment_id=payment_id, amount=amount)


def refund_command(raw: Any, ctx: MerchantContext, payment_id: str, currency: str) -> RefundPayment:
    """A partial refund: `amount` (major units, number or string) and `reason`, both required."""
    if not isinstance(raw, dict):
        raise _fault(m.BAD_JSON)
    if raw.get("amount") is None or raw.get("amount") == "":
        raise _fault("amount is required", missing=True, field="amount")
    if isinstance(raw["amount"], int | Decimal | str) and not isinstance(raw["amount"], bool):
        if (isinstance(raw["amount"], str) and re.fullmatch(r"\s*0*\.?0*\s*", raw["amount"])) or (
            not isinstance(raw["amount"], str) and raw["amount"] <= 0
        ):
            raise ValidationError("Refund amount must be greater than zero.", code=ErrorCode.PARAMETER_INVALID)
    amount = to_minor(_decimal(raw["amount"], "amount"), currency, "amount")
    reason = _text(raw, "reason", "reason", required=False, limit=500)
    if reason is None:
        raise _fault("reason for refund is required", missing=True, field="reason")
    return RefundPayment(ctx.merchant_id, ctx.mode, payment_id, amount=amount, reason=reason)
