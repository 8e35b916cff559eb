"""OPPWA's requests, checked against the form table (`forms`) and turned into core commands: an initial
payment (PA or DB) with card data or a registration, a registration, and a back-office operation's
amount. Pure functions, no I/O; faults are OPPWA result codes with `parameterErrors`."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from tessera.core.errors import PaymentError, ValidationError
from tessera.core.merchants import MerchantContext
from tessera.core.money import MAX_AMOUNT, exponent
from tessera.core.payments.commands import CardSource, CreatePayment, SavedCardSource
from tessera.core.payments.model import CaptureMethod, SaveCardOnSuccess
from tessera.core.vault.brands import Brand
from tessera.core.vault.pan import CVV, PAN, CardData, Expiry
from tessera.dialects.oppwa import codes as c
from tessera.dialects.oppwa import forms as f

CHANNEL = "oppwa"
# OPPWA's brand words for the vault's brands.
BRANDS: dict[Brand, str] = {
    Brand.VISA: "VISA",
    Brand.MASTERCARD: "MASTER",
    Brand.AMEX: "AMEX",
    Brand.DISCOVER: "DISCOVER",
    Brand.JCB: "JCB",
    Brand.DINERS: "DINERS",
    Brand.RUPAY: "RUPAY",
    Brand.UNIONPAY: "UNIONPAY",
    Brand.MAESTRO: "MAESTRO",
}
_ALIASES = {"VISAELECTRON": "VISA"}

PAYMENT_FIELDS = (f.ENTITY, f.PAYMENT_TYPE, f.AMOUNT, f.CURRENCY, f.BRAND, *f.CARD, *f.BROWSER, *f.CUSTOMER, *f.ORDER)
PAYMENT_REQUIRED = (
    "entityId",
    "paymentType",
    "amount",
    "currency",
    "card.number",
    "card.expiryMonth",
    "card.expiryYear",
    "card.cvv",
    "customer.ip",
    "customer.browser.userAgent",
)
# A payment with a registration: the card is the vault's (CVV optional and not sent on), no browser needed.
TOKEN_PAYMENT_FIELDS = (f.ENTITY, f.PAYMENT_TYPE, f.AMOUNT, f.CURRENCY, f.BRAND, f.CARD[4], *f.BROWSER, *f.CUSTOMER)
TOKEN_PAYMENT_FIELDS += tuple(x for x in f.ORDER if x.name != "createRegistration")
TOKEN_PAYMENT_REQUIRED = ("entityId", "paymentType", "amount", "currency")
REGISTRATION_FIELDS = (f.ENTITY, f.BRAND, *f.CARD, *f.CUSTOMER, f.BROWSER[0])
REGISTRATION_REQUIRED = ("entityId", "card.number", "card.expiryMonth", "card.expiryYear")
BACK_OFFICE_FIELDS = (f.ENTITY, f.BACK_OFFICE_TYPE, f.AMOUNT, f.CURRENCY, f.ORDER[0], f.ORDER[3])
BACK_OFFICE_REQUIRED = ("entityId", "paymentType")


def amount_of(text: str, currency: str) -> int:
    """Major units ("92.00") to minor units; a currency without decimals takes ".00" only."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise f.parameter_error("amount", text, "must be a decimal amount such as 92.00", c.AMOUNT_FORMAT) from None
    scaled = number.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        message = f"has more decimals than {currency} allows"
        raise f.parameter_error("amount", text, message, c.AMOUNT_FORMAT)
    if scaled <= 0:
        raise f.parameter_error("amount", text, "must be greater than zero", c.AMOUNT_MISSING)
    if scaled > MAX_AMOUNT:
        raise f.parameter_error("amount", text, "amount too large", c.AMOUNT_TOO_LARGE)
    return int(scaled)


def _card(form: dict[str, str], *, now: datetime, cvv_required: bool = True) -> CardData:
    number = form["card.number"]
    try:
        pan = PAN.parse(number, field="card.number")
    except ValidationError as exc:
        raise f.parameter_error("card.number", number, exc.message, c.INVALID_CARD) from None
    said = form.get("paymentBrand")
    if said is not None and _ALIASES.get(said, said) != BRANDS[pan.brand]:
        raise f.parameter_error("paymentBrand", said, "does not match the card number's brand", c.BRAND_MISMATCH)
    cvv = None
    if form.get("card.cvv") or cvv_required:
        try:
            cvv = CVV.parse(form.get("card.cvv", ""), pan.brand, field="card.cvv")
        except ValidationError as exc:
            raise f.parameter_error("card.cvv", "", exc.message, c.INVALID_CVV) from None
    try:
        expiry = Expiry.parse(
            form["card.expiryMonth"],
            form["card.expiryYear"],
            month_field="card.expiryMonth",
            year_field="card.expiryYear",
            now=now,
        )
    except PaymentError:
        raise f.parameter_error("card.expiryYear", form["card.expiryYear"], "card expired", c.CARD_EXPIRED) from None
    except ValidationError as exc:
        name = exc.field or "card.expiryYear"
        raise f.parameter_error(name, form.get(name, ""), exc.message, c.INVALID_YEAR) from None
    return CardData(pan=pan, expiry=expiry, cvv=cvv, holder_name=form.get("card.holder"))


def browser(form: dict[str, str]) -> dict[str, Any] | None:
    names = {
        "customer.ip": "ip",
        "customer.browser.userAgent": "user_agent",
        "customer.browser.acceptHeader": "accept_header",
        "customer.browser.language": "language",
    }
    found: dict[str, Any] = {ours: form[theirs] for theirs, ours in names.items() if theirs in form}
    numbers = {
        "customer.browser.screenHeight": "screen_height",
        "customer.browser.screenWidth": "screen_width",
        "customer.browser.timezone": "timezone_offset",
        "customer.browser.screenColorDepth": "color_depth",
    }
    found |= {ours: int(form[theirs]) for theirs, ours in numbers.items() if theirs in form}
    for theirs, ours in (("javaEnabled", "java_enabled"), ("javascriptEnabled", "javascript_enabled")):
        if f"customer.browser.{theirs}" in form:
            found[ours] = f.flag(form, f"customer.browser.{theirs}")
    return found or None


def _customer(form: dict[str, str]) -> dict[str, Any] | None:
    name = " ".join(x for x in (form.get("customer.givenName"), form.get("customer.surname")) if x) or None
    found = {"email": form.get("customer.email"), "name": name, "identifier": form.get("customer.merchantCustomerId")}
    return {k: v for k, v in found.items() if v} or None


def channel_data(form: dict[str, str], entity_id: str) -> dict[str, Any]:
    """What the dialect keeps on the payment in OPPWA's words (echoed in answers and reports)."""
    kept = {
        "paymentType": form.get("paymentType"),
        "paymentBrand": form.get("paymentBrand"),
        "merchantTransactionId": form.get("merchantTransactionId"),
        "merchantInvoiceId": form.get("merchantInvoiceId"),
        "descriptor": form.get("descriptor"),
        "shopperResultUrl": form.get("shopperResultUrl"),
        "createRegistration": f.flag(form, "createRegistration") or None,
        "customParameters": f.custom_parameters(form) or None,
        "entityId": entity_id,
    }
    return {k: v for k, v in kept.items() if v is not None}


def _create(form: dict[str, str], ctx: MerchantContext, entity_id: str, **fields: Any) -> CreatePayment:
    currency = form["currency"]
    return CreatePayment(
        merchant_id=ctx.merchant_id,
        mode=ctx.mode,
        amount=amount_of(form["amount"], currency),
        currency=currency,
        capture_method=CaptureMethod.MANUAL if form["paymentType"] == "PA" else CaptureMethod.AUTOMATIC,
        reference=form.get("merchantTransactionId"),
        description=form.get("merchantMemo") or form.get("descriptor"),
        return_url=form.get("shopperResultUrl"),
        customer=_customer(form),
        browser=browser(form),
        channel=CHANNEL,
        channel_data=channel_data(form, entity_id),
        **fields,
    )


def registration_identifier() -> str:
    """The vault's owner of a registration: OPPWA's registrations belong to the entity, one each, so every
    registration is its own owner (no two collapse into one)."""
    return f"oppwa_{secrets.token_hex(8)}"


def payment_command(form: dict[str, str], ctx: MerchantContext, entity_id: str, *, now: datetime) -> CreatePayment:
    f.check(form, PAYMENT_FIELDS, PAYMENT_REQUIRED)
    card = _card(form, now=now)
    save = None
    if f.flag(form, "createRegistration"):
        save = SaveCardOnSuccess(
            identifier=registration_identifier(), credential=ctx.client_id, consent_ip=form.get("customer.ip")
        )
    return _create(form, ctx, entity_id, source=CardSource(card), save_card=save)


def token_payment_command(
    form: dict[str, str], ctx: MerchantContext, entity_id: str, card_token: str, identifier: str
) -> CreatePayment:
    f.check(form, TOKEN_PAYMENT_FIELDS, TOKEN_PAYMENT_REQUIRED)
    return _create(form, ctx, entity_id, source=SavedCardSource(card_token, identifier))


@dataclass(frozen=True, slots=True)
class Registration:
    card: CardData
    identifier: str
    consent_ip: str | None


def registration(form: dict[str, str], *, now: datetime) -> Registration:
    f.check(form, REGISTRATION_FIELDS, REGISTRATION_REQUIRED)
    return Registration(_card(form, now=now, cvv_required=False), registration_identifier(), form.get("customer.ip"))


@dataclass(frozen=True, slots=True)
class BackOffice:
    payment_type: str
    amount: int | None


def back_office(form: dict[str, str], currency: str) -> BackOffice:
    """A back-office operation's type and amount (in the referenced payment's currency; another currency
    is 700.100.500)."""
    f.check(form, BACK_OFFICE_FIELDS, BACK_OFFICE_REQUIRED)
    said = form.get("currency")
    if said is not None and said != currency:
        raise f.OppwaRefusal(c.REF_CURRENCY, field="currency")
    amount = form.get("amount")
    return BackOffice(form["paymentType"], amount_of(amount, currency) if amount is not None else None)
