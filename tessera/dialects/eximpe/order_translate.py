"""Seed 000's S2S card orders: the request checked field by field (every bad field reported at once, in
seed 004's `validation_error` list), the core command it becomes, and the answers in seed 000's words.

Pure functions, no I/O. Error messages name fields and rules, never the values sent: a card number or
CVV must never come back in an answer.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from datetime import date, datetime
from html import escape
from typing import Any
from urllib.parse import urlsplit

from tessera.core.clock import iso_utc
from tessera.core.errors import ErrorCode, ValidationError, ValidationErrors
from tessera.core.merchants import MerchantContext
from tessera.core.money import exponent, normalise_currency, to_major_string, to_minor
from tessera.core.payments.commands import CardSource, CreatePayment, SaveCardOnSuccess, SavedCardSource
from tessera.core.payments.model import AUTHORISATIONS, ERROR_MESSAGES, NextAction, Payment, PaymentStatus
from tessera.core.vault.brands import Brand
from tessera.core.vault.cards import CardType
from tessera.core.vault.pan import CVV, PAN, CardData, Expiry
from tessera.dialects.eximpe.translate import NETWORK_NAMES, NETWORKS, REQUIRED

# Seed 000 knows three statuses; what can happen later through the native API gets its own word.
CHANNEL = "eximpe"  # the payments this dialect makes, and whose channel data it reads

STATUS: dict[PaymentStatus, str] = {
    PaymentStatus.REQUIRES_PAYMENT_METHOD: "payment_pending",
    PaymentStatus.PROCESSING: "payment_pending",
    PaymentStatus.REQUIRES_ACTION: "payment_pending",
    PaymentStatus.AUTHORIZED: "payment_successful",
    PaymentStatus.CAPTURED: "payment_successful",
    PaymentStatus.PARTIALLY_REFUNDED: "partially_refunded",
    PaymentStatus.REFUNDED: "refunded",
    PaymentStatus.VOIDED: "voided",
    PaymentStatus.CHARGED_BACK: "charged_back",
    PaymentStatus.FAILED: "failed",
    PaymentStatus.EXPIRED: "failed",  # the shopper never finished 3-D Secure
    PaymentStatus.CANCELED: "canceled",
}
# Seed 000 writes mop_type both as "debit_card" and as "CREDIT_CARD"; it is kept in lower case.
MOP_TYPES: dict[str, tuple[str, CardType]] = {
    "CREDIT_CARD": ("credit_card", CardType.CREDIT),
    "DEBIT_CARD": ("debit_card", CardType.DEBIT),
}
CREATED = "S2S Card Payment Request created successfully"
_EXPIRED_MESSAGE = "The shopper did not complete 3-D Secure authentication in time."
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{5,19}$")
_HS_CODE = re.compile(r"^[0-9]{4,10}$")
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_ADDRESS_FIELDS = ("line_1", "line_2", "city", "state", "postal_code", "country")
_PRODUCT_FIELDS = {"name": 200, "description": 1000, "hs_code_description": 500, "type_of_goods": 50}
_NETWORK_BY_VALUE = {brand.value: name for brand, name in NETWORK_NAMES.items()}
_PAN_LENGTH = {Brand.AMEX.value: 15, Brand.DINERS.value: 14}


class _Check:
    """Collects every fault of a request; `path` names a field as seed 004 does (`buyer.ip_address`)."""

    def __init__(self) -> None:
        self.errors: list[ValidationError] = []

    def add(self, path: str | None, message: str) -> None:
        self.errors.append(ValidationError(message, field=path))

    def obj(self, raw: dict[str, Any], key: str, path: str, *, required: bool) -> dict[str, Any] | None:
        value = raw.get(key)
        if value is None:
            if required:
                self.add(path, REQUIRED)
            return None
        if not isinstance(value, dict):
            self.add(path, "Must be a JSON object.")
            return None
        return value

    def text(
        self, raw: dict[str, Any], key: str, path: str, *, required: bool = True, max_length: int = 200
    ) -> str | None:
        value = raw.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add(path, REQUIRED)
            return None
        if not isinstance(value, str):
            self.add(path, "Not a valid string.")
            return None
        if len(value) > max_length:
            self.add(path, f"Ensure this field has no more than {max_length} characters.")
            return None
        return value.strip()

    def whole(self, raw: dict[str, Any], key: str, path: str) -> int | None:
        """A whole number sent as a number or as a string of digits ("05")."""
        value = raw.get(key)
        if value is None or value == "":
            self.add(path, REQUIRED)
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON Schema's "integer" admits 5.0, a number with no fractional part
        text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
        if not (text.isascii() and text.isdigit() and len(text) <= 4):
            self.add(path, "A valid integer is required.")
            return None
        return int(text)

    def flag(self, raw: dict[str, Any], key: str, path: str) -> bool:
        value = raw.get(key, False)
        if value is None:
            return False
        if not isinstance(value, bool):
            self.add(path, "Must be true or false.")
            return False
        return value


def _amount(check: _Check, raw: dict[str, Any], currency: str | None) -> int | None:
    value = raw.get("amount")
    if value is None or value == "":
        check.add("amount", REQUIRED)
        return None
    if not isinstance(value, str):
        check.add("amount", 'Amount must be a decimal string, such as "1000.00".')
        return None
    if currency is None:
        return None  # its decimals depend on the currency, already reported
    digits = exponent(currency)
    pattern = rf"^[0-9]{{1,12}}\.[0-9]{{{digits}}}$" if digits else r"^[0-9]{1,12}$"
    if not re.match(pattern, value):
        example = to_major_string(100000 * 10**digits // 100 if digits else 1000, currency)
        check.add(
            "amount",
            f"Amount must be a decimal string with exactly {digits} decimals for {currency}, such as {example}.",
        )
        return None
    try:
        return to_minor(value, currency)
    except ValidationError as exc:
        check.add("amount", exc.message[:1].upper() + exc.message[1:] + ".")
        return None


def _currency(check: _Check, raw: dict[str, Any]) -> str | None:
    text = check.text(raw, "currency", "currency", max_length=3)
    if text is None:
        return None
    try:
        return normalise_currency(text)
    except ValidationError:
        check.add("currency", "Not a valid ISO 4217 currency code.")
        return None


def _return_url(check: _Check, raw: dict[str, Any]) -> str | None:
    url = check.text(raw, "return_url", "return_url", max_length=2048)
    if url is None:
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
    if host is None or parts.scheme not in ("http", "https"):
        check.add("return_url", "Enter a valid absolute http or https URL.")
        return None
    return url


def _choice(check: _Check, raw: dict[str, Any], key: str, options: dict[str, Any], message: str) -> str | None:
    text = check.text(raw, key, key, max_length=40)
    if text is None:
        return None
    if not text.isascii() or text.upper() not in options:  # "debıt_card" upper-cases to DEBIT_CARD
        check.add(key, message)
        return None
    return text.upper()


def _buyer(check: _Check, raw: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(the customer kept on the payment, the browser 3-D Secure needs)."""
    buyer = check.obj(raw, "buyer", "buyer", required=True)
    if buyer is None:
        return None, None
    customer: dict[str, Any] = {}
    name = check.text(buyer, "name", "buyer.name", required=False)
    email = check.text(buyer, "email", "buyer.email", required=False, max_length=254)
    if email is not None and not _EMAIL.match(email):
        check.add("buyer.email", "Enter a valid email address.")
        email = None
    phone = check.text(buyer, "phone", "buyer.phone", required=False, max_length=40)
    if phone is not None and not _PHONE.match(phone):
        check.add("buyer.phone", "Enter a valid phone number.")
        phone = None
    customer.update({k: v for k, v in (("name", name), ("email", email), ("phone", phone)) if v is not None})
    address = check.obj(buyer, "address", "buyer.address", required=False)
    if address is not None:
        kept = {k: check.text(address, k, f"buyer.address.{k}", required=False) for k in _ADDRESS_FIELDS}
        customer["address"] = {k: v for k, v in kept.items() if v is not None}
    ip = check.text(buyer, "ip_address", "buyer.ip_address", max_length=45)
    if ip is not None:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            check.add("buyer.ip_address", "Enter a valid IPv4 or IPv6 address.")
            ip = None
    agent = check.text(buyer, "user_agent", "buyer.user_agent", max_length=2048)
    browser = {"ip": ip, "user_agent": agent} if ip and agent else None
    return customer or None, browser


def _details(check: _Check, raw: dict[str, Any]) -> dict[str, Any]:
    """Product and invoice, kept on the payment as sent (once checked)."""
    details: dict[str, Any] = {"collection_mode": "s2s"}
    product = check.obj(raw, "product", "product", required=False)
    if product is not None:
        kept = {
            k: check.text(product, k, f"product.{k}", required=False, max_length=n) for k, n in _PRODUCT_FIELDS.items()
        }
        hs_code = check.text(product, "hs_code", "product.hs_code", required=False, max_length=10)
        if hs_code is not None and not _HS_CODE.match(hs_code):
            check.add("product.hs_code", "Enter an HS code of 4 to 10 digits.")
        kept["hs_code"] = hs_code
        details["product"] = {k: v for k, v in kept.items() if v is not None}
    invoice = check.obj(raw, "invoice", "invoice", required=False)
    if invoice is not None:
        number = check.text(invoice, "number", "invoice.number", required=False, max_length=100)
        when = check.text(invoice, "date", "invoice.date", required=False, max_length=10)
        if when is not None:
            try:
                if not _ISO_DATE.match(when):
                    raise ValueError(when)
                date.fromisoformat(when)
            except ValueError:
                check.add("invoice.date", "Date has wrong format. Use YYYY-MM-DD.")
                when = None
        details["invoice"] = {k: v for k, v in (("number", number), ("date", when)) if v is not None}
    return details


def _network(check: _Check, card: dict[str, Any]) -> Brand | None:
    network = check.text(card, "network", "card_details.network", required=False, max_length=20)
    if network is None:
        return None
    brand = NETWORKS.get(network.upper()) if network.isascii() else None
    if brand is None:
        check.add("card_details.network", f"Not a valid network. Choose one of {', '.join(NETWORKS)} (any case).")
    return brand


class _NewCard:
    """A new card's data once checked; the expiry is parsed last, as an expired card is a refusal
    (EXPIRED_CARD) rather than a validation error."""

    def __init__(self, check: _Check, card: dict[str, Any], brand: Brand | None) -> None:
        number = check.text(card, "number", "card_details.number", max_length=40)
        self.pan: PAN | None = None
        if number is not None:
            try:
                self.pan = PAN.parse(number, field="card_details.number")
            except ValidationError:
                check.add("card_details.number", "Invalid card number format.")
        if self.pan is not None and brand is not None and self.pan.brand is not brand:
            check.add("card_details.network", f"The card number is not a {NETWORK_NAMES[brand]} card.")
        self.holder = check.text(card, "cardholder_name", "card_details.cardholder_name")
        self.month = check.whole(card, "expiry_month", "card_details.expiry_month")
        self.year = check.whole(card, "expiry_year", "card_details.expiry_year")
        if self.month is not None and not 1 <= self.month <= 12:
            check.add("card_details.expiry_month", "Ensure this value is between 1 and 12.")
            self.month = None
        cvv = card.get("cvv")
        self.cvv: CVV | None = None
        if cvv is None or cvv == "":
            check.add("card_details.cvv", REQUIRED)
        elif not isinstance(cvv, str):
            check.add("card_details.cvv", 'Send the CVV as a string of digits, such as "123".')
        else:
            try:
                if self.pan is None:  # the number is already reported; the CVV can still be checked
                    if not re.fullmatch(r"[0-9]{3,4}", cvv.strip()):
                        raise ValidationError("not 3 or 4 digits", field="card_details.cvv")
                else:
                    self.cvv = CVV.parse(cvv.strip(), self.pan.brand, field="card_details.cvv")
            except ValidationError:
                check.add("card_details.cvv", "Invalid CVV: 3 digits, 4 for American Express.")
        self.nickname = check.text(card, "nickname", "card_details.nickname", required=False)

    def card(self, now: datetime) -> CardData:
        assert self.pan is not None and self.month is not None and self.year is not None
        expiry = Expiry.parse(
            self.month,
            self.year,
            month_field="card_details.expiry_month",
            year_field="card_details.expiry_year",
            now=now,
        )
        return CardData(pan=self.pan, expiry=expiry, cvv=self.cvv, holder_name=self.holder)


def order_command(raw: Any, ctx: MerchantContext, *, now: datetime) -> CreatePayment:
    """Seed 000's order as a core command. ValidationErrors lists every bad field; a card past its
    expiry is PaymentError(EXPIRED_CARD); the core checks the rules (the return_url's domain, amounts)."""
    if not isinstance(raw, dict):
        raise ValidationErrors([ValidationError("The request body must be a JSON object.", field=None)])
    check = _Check()
    currency = _currency(check, raw)
    amount = _amount(check, raw, currency)
    reference = check.text(raw, "reference_id", "reference_id")
    return_url = _return_url(check, raw)
    _choice(check, raw, "collection_mode", {"S2S": True}, 'collection_mode must be "s2s" for S2S card payments.')
    mop = _choice(check, raw, "mop_type", MOP_TYPES, 'mop_type must be "credit_card" or "debit_card" (either case).')
    customer, browser = _buyer(check, raw)
    details = _details(check, raw)
    card = check.obj(raw, "card_details", "card_details", required=True)
    source: CardSource | SavedCardSource | None = None
    new_card: _NewCard | None = None
    save: SaveCardOnSuccess | None = None
    if card is not None:
        brand = _network(check, card)
        identifier = check.text(card, "identifier", "card_details.identifier", required=False)
        if card.get("token") is not None:
            token = check.text(card, "token", "card_details.token", max_length=64)
            if card.get("number") is not None:
                check.add("card_details", "Send either a saved card token or a card number, not both.")
            if identifier is None:
                check.add("card_details.identifier", "This field is required with a saved card token.")
            if token is not None and identifier is not None:
                source = SavedCardSource(token, identifier)
        else:
            new_card = _NewCard(check, card, brand)
            if check.flag(card, "save_card", "card_details.save_card"):
                if identifier is None:
                    check.add("card_details.identifier", "This field is required to save the card.")
                elif mop is not None:
                    save = SaveCardOnSuccess(
                        identifier=identifier,
                        credential=ctx.client_id,
                        consent_ip=browser["ip"] if browser else None,
                        card_type=MOP_TYPES[mop][1],
                        nickname=new_card.nickname,
                    )
    if check.errors:
        raise ValidationErrors(check.errors)
    if new_card is not None:
        source = CardSource(new_card.card(now))  # PaymentError(EXPIRED_CARD) for a card past its expiry
    assert source is not None and amount is not None and currency is not None and mop is not None
    product = details.get("product") or {}
    return CreatePayment(
        merchant_id=ctx.merchant_id,
        mode=ctx.mode,
        amount=amount,
        currency=currency,
        source=source,
        reference=reference,
        description=product.get("name"),
        return_url=return_url,
        customer=customer,
        browser=browser,
        save_card=save,
        channel=CHANNEL,
        channel_data={"mop_type": MOP_TYPES[mop][0], "order_details": details},
        unique_reference=reference,
    )


# ------------------------------------------------------------------------------------------ answers


def acs_template(action: NextAction) -> str:
    """Base64 of a complete HTML page whose form carries the CReq to the ACS: submitted by script at
    once (also when written into a window with document.write), or by the shopper's click without it."""
    hidden = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">' for name, value in action.params.items()
    )
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Contacting your bank</title></head>'
        f'<body><form name="payment_post" id="payment_post" action="{escape(action.url)}" '
        f'method="{escape(action.method.lower())}">{hidden}'
        "<noscript><p>JavaScript is off: press Continue to reach your bank.</p>"
        '<button type="submit">Continue</button></noscript></form>'
        "<script>document.forms['payment_post'].submit();</script></body></html>"
    )
    return base64.b64encode(page.encode()).decode()


def _error(p: Payment) -> tuple[str | None, str | None]:
    if p.status is PaymentStatus.EXPIRED:
        return ErrorCode.THREEDS_FAILED.value, _EXPIRED_MESSAGE
    if p.error_code is None:
        return None, None
    return p.error_code.value, p.error_message or ERROR_MESSAGES.get(p.error_code)


def _payment_ref(p: Payment) -> str | None:
    """Seed 000's payment_id: the authorisation that took (or tried to take) the money."""
    tried = [op for op in p.operations if op.type in AUTHORISATIONS]
    return tried[-1].id if tried else None


def _channel(p: Payment) -> dict[str, Any]:
    """What this dialect kept on the payment (an order made through another dialect has nothing)."""
    return (p.channel_data or {}) if p.channel == CHANNEL else {}


def _card(p: Payment) -> dict[str, Any] | None:
    if p.card is None:
        return None
    length = _PAN_LENGTH.get(p.card.brand, 16)
    network = _NETWORK_BY_VALUE.get(p.card.brand, p.card.brand.upper())
    return {
        "masked_card_number": f"{p.card.bin}{'X' * (length - len(p.card.bin) - 4)}{p.card.last4}",
        "card_bin": p.card.bin,
        "card_last4": p.card.last4,
        "network": network,
        "cardholder_name": p.card.holder_name,
        "expiry_month": p.card.exp_month,
        "expiry_year": p.card.exp_year,
        "card_token": p.card_token,
    }


def order_status(p: Payment) -> dict[str, Any]:
    """The Order Status API's data: status, error, references and the masked card."""
    code, message = _error(p)
    return {
        "order_id": p.id,
        "reference_id": p.unique_reference or p.reference,
        "status": STATUS[p.status],
        "amount": to_major_string(p.amount, p.currency),
        "currency": p.currency,
        "mop_type": _channel(p).get("mop_type"),
        "payment_id": _payment_ref(p),
        "bank_ref_num": p.retrieval_ref,
        "error_code": code,
        "error_message": message,
        "card": _card(p),
        "updated_at": iso_utc(p.updated_at),
    }


def order(p: Payment) -> dict[str, Any]:
    """The Get Order API's data: the status, with the buyer, product, invoice and amounts."""
    details = _channel(p).get("order_details") or {}
    buyer = dict(p.customer or {})
    if p.browser:
        buyer |= {"ip_address": p.browser.get("ip"), "user_agent": p.browser.get("user_agent")}
    auth = p.authentication
    return order_status(p) | {
        "collection_mode": details.get("collection_mode"),
        "return_url": p.return_url,
        "buyer": buyer or None,
        "product": details.get("product"),
        "invoice": details.get("invoice"),
        "amount_captured": to_major_string(p.amount_captured, p.currency),
        "amount_refunded": to_major_string(p.amount_refunded, p.currency),
        "amount_charged_back": to_major_string(p.amount_charged_back, p.currency),
        "authentication": (
            {"status": auth.status, "eci": auth.eci, "version": auth.version, "liability_shift": auth.liability_shift}
            if auth
            else None
        ),
        "created_at": iso_utc(p.created_at),
    }


def created(p: Payment) -> tuple[int, dict[str, Any]]:
    """The answer to a new order: its id and, when the shopper must authenticate, the acs_template;
    otherwise its status. A payment that failed answers 400 with its error code, and its order."""
    if p.status is PaymentStatus.REQUIRES_ACTION and p.next_action is not None:
        data = {
            "order_id": p.id,
            "reference_id": p.unique_reference,
            "status": STATUS[p.status],
            "acs_template": acs_template(p.next_action),
        }
        return 200, {"success": True, "message": CREATED, "data": data}
    code, message = _error(p)
    if STATUS[p.status] == "failed":
        return 400, {
            "success": False,
            "message": message,
            "error": {"code": code, "message": message, "details": {"order_id": p.id}},
            "data": order_status(p),
        }
    return 200, {"success": True, "message": CREATED, "data": order_status(p)}
