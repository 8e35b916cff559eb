"""A valid request for every protected route, keyed by (method, path template), for the tenant and key
matrix (test_tenant_key_matrix.py): each factory makes the owner's resources the request names (a payment
in the state the route needs, a saved card, a token, a webhook endpoint, a delivery) with the owner's
secret key, and returns a request the owner's key would get accepted. A route added to the app without a
factory here (or a place in the matrix's PUBLIC list) fails the matrix, naming it.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.factories import BROWSER, card

# Every card number the matrix sends (for the session's card-number scan).
PANS = ("4242424242424242", "5555555555554444", "5506900480000008", "4000002500003155")


class Foreign(enum.Enum):
    """What another merchant's key, or the owner's key of the other mode, must get on a route."""

    NOT_FOUND = "404, the answer for an id that does not exist"  # the path names an owner's resource
    REFUSED = "refused, as for an id that does not exist"  # the body names an owner's resource
    EMPTY_LIST = "200 with none of the owner's items"  # a list
    OWN_ACCOUNT = "acts, if at all, in the caller's own account"  # names nothing of the owner's
    OTHER_ENTITY = "403, the entityId sent is not the caller's"  # OPPWA: the owner's entityId with another key


@dataclass
class Call:
    method: str
    path: str
    params: dict[str, str] | None = None
    json: Any = None
    owned: tuple[str, ...] = ()  # the owner's ids this request names, in its path or body
    foreign: Foreign = Foreign.NOT_FOUND
    # The other mode's key may be refused before the id is looked at (test helpers are test-mode only).
    other_mode_status: int | None = None
    publishable_acts: bool = False  # POST /v1/tokens: what a publishable key is for
    publishable_status: int = 403  # what a publishable key gets (Paysecure: 401, it knows no other key)
    # The owner's key of the other mode may be told the purchase was made in the other mode (seed 001's
    # "Different Type of key"): both keys are the owner's, so this is no leak to compare away.
    other_mode_named: bool = False
    data: dict[str, str] | None = None  # a form body (OPPWA), sent as application/x-www-form-urlencoded


@dataclass
class Owner:
    """The owner merchant's test-mode account, reached through the native API with its secret key."""

    http: httpx.AsyncClient
    merchant_id: str
    secret_key: str
    publishable_key: str
    dispatch: Callable[[], Awaitable[object]]  # turns committed events into deliveries, as the worker does
    brand: Callable[[], Awaitable[str]] | None = None  # the owner's Paysecure brand_id (test mode)
    entity: Callable[[], Awaitable[str]] | None = None  # the owner's OPPWA entity_id (test mode)
    ids: set[str] = field(default_factory=set)  # every id of the owner's made here: none may reach another
    _n: itertools.count[int] = field(default_factory=itertools.count)

    def unique(self, stem: str) -> str:
        return f"{stem}-{next(self._n)}"

    async def _post(self, path: str, body: Any, key: str | None = None, status: int | None = None) -> dict[str, Any]:
        r = await self.http.post(path, json=body, headers={"Authorization": f"Bearer {key or self.secret_key}"})
        assert r.status_code < 300 and (status is None or r.status_code == status), (path, r.status_code, r.text)
        made: dict[str, Any] = r.json()
        for name in ("id", "card_token"):
            if isinstance(made.get(name), str):
                self.ids.add(made[name])
        return made

    async def token(self) -> str:
        made = await self._post("/v1/tokens", {"card": card()}, key=self.publishable_key, status=201)
        return str(made["id"])

    async def payment(self, *, capture_method: str = "automatic", status: str = "completed", **extra: Any) -> str:
        body = {"amount": 1000, "currency": "INR", "capture_method": capture_method, "browser": BROWSER}
        body |= {"reference": self.unique("order"), **extra}
        if not {"token", "card", "saved_card"} & extra.keys():
            body["card"] = card()
        made = await self._post("/v1/payments", body)
        assert made["status"] == status, made
        return str(made["id"])

    async def authorized(self) -> str:
        return await self.payment(capture_method="manual", status="authorized")

    async def charged_back(self) -> str:
        paid = await self.payment()
        await self._post(f"/v1/test_helpers/payments/{paid}/chargeback", {})
        return paid

    async def intent(self) -> str:
        made = await self._post("/v1/payments", {"amount": 1000, "currency": "INR", "reference": self.unique("cart")})
        assert made["status"] == "requires_payment_method", made
        return str(made["id"])

    async def saved_card(self, identifier: str | None = None) -> str:
        """A card saved for `identifier` (one of its own by default: a card is saved once per owner)."""
        owner = identifier or self.unique("customer")
        body = {"card": card("5555555555554444"), "identifier": owner, "card_type": "DEBIT", "consent": True}
        return str((await self._post("/v1/cards", body, status=201))["card_token"])

    async def endpoint(self) -> str:
        body = {"url": "http://127.0.0.1:9/hooks", "enabled_events": ["*"], "description": "owner's"}
        return str((await self._post("/v1/webhook_endpoints", body, status=201))["id"])

    async def delivery(self) -> tuple[str, str]:
        endpoint = await self.endpoint()
        await self.payment()  # its events are delivered to the endpoint
        await self.dispatch()
        r = await self.http.get(
            f"/v1/webhook_endpoints/{endpoint}/deliveries", headers={"Authorization": f"Bearer {self.secret_key}"}
        )
        delivery = str(r.json()["data"][0]["id"])
        self.ids.add(delivery)
        return endpoint, delivery


Factory = Callable[[Owner], Awaitable[Call]]
FACTORIES: dict[tuple[str, str], Factory] = {}


def factory(method: str, path: str) -> Callable[[Factory], Factory]:
    def register(fn: Factory) -> Factory:
        FACTORIES[(method, path)] = fn
        return fn

    return register


# --- native /v1 -----------------------------------------------------------------------------------------


@factory("POST", "/v1/tokens")
async def _token(o: Owner) -> Call:
    return Call("POST", "/v1/tokens", json={"card": card()}, foreign=Foreign.OWN_ACCOUNT, publishable_acts=True)


@factory("POST", "/v1/payments")
async def _create_payment(o: Owner) -> Call:
    token = await o.token()
    body = {"amount": 1200, "currency": "INR", "token": token, "browser": BROWSER, "reference": o.unique("order")}
    return Call("POST", "/v1/payments", json=body, owned=(token,), foreign=Foreign.REFUSED)


@factory("POST", "/v1/payments/{payment_id}/confirm")
async def _confirm(o: Owner) -> Call:
    intent, token = await o.intent(), await o.token()
    body = {"token": token, "browser": BROWSER}
    return Call("POST", f"/v1/payments/{intent}/confirm", json=body, owned=(intent, token))


@factory("GET", "/v1/payments")
async def _list_payments(o: Owner) -> Call:
    return Call("GET", "/v1/payments", params={"limit": "100"}, foreign=Foreign.EMPTY_LIST)


@factory("GET", "/v1/payments/{payment_id}")
async def _get_payment(o: Owner) -> Call:
    paid = await o.payment()
    return Call("GET", f"/v1/payments/{paid}", owned=(paid,))


@factory("POST", "/v1/payments/{payment_id}/capture")
async def _capture(o: Owner) -> Call:
    held = await o.authorized()
    return Call("POST", f"/v1/payments/{held}/capture", json={"amount": 600}, owned=(held,))


@factory("POST", "/v1/payments/{payment_id}/void")
async def _void(o: Owner) -> Call:
    held = await o.authorized()
    return Call("POST", f"/v1/payments/{held}/void", owned=(held,))


@factory("POST", "/v1/payments/{payment_id}/refunds")
async def _refund(o: Owner) -> Call:
    paid = await o.payment()
    return Call("POST", f"/v1/payments/{paid}/refunds", json={"amount": 300, "reason": "returned"}, owned=(paid,))


@factory("POST", "/v1/payments/{payment_id}/rebill")
async def _rebill(o: Owner) -> Call:
    saved = await o.saved_card("rebilled-customer")
    paid = await o.payment(saved_card=saved, identifier="rebilled-customer")
    return Call("POST", f"/v1/payments/{paid}/rebill", json={"amount": 400}, owned=(paid,))


def _test_helper(report: str, state: Callable[[Owner], Awaitable[str]], body: Any = None) -> Factory:
    async def make(o: Owner) -> Call:
        paid = await state(o)
        path = f"/v1/test_helpers/payments/{paid}/{report}"
        return Call("POST", path, json=body, owned=(paid,), other_mode_status=403)

    return make


factory("POST", "/v1/test_helpers/payments/{payment_id}/chargeback")(
    _test_helper("chargeback", lambda o: o.payment(), {"amount": 500, "reason_code": "10.4"})
)
factory("POST", "/v1/test_helpers/payments/{payment_id}/chargeback_reversal")(
    _test_helper("chargeback_reversal", lambda o: o.charged_back())
)
factory("POST", "/v1/test_helpers/payments/{payment_id}/receipt")(_test_helper("receipt", lambda o: o.authorized()))


@factory("POST", "/v1/cards")
async def _save_card(o: Owner) -> Call:
    body = {"card": card("4242424242424242"), "identifier": o.unique("saver"), "card_type": "CREDIT", "consent": True}
    body["card"].pop("cvc")
    return Call("POST", "/v1/cards", json=body, foreign=Foreign.OWN_ACCOUNT)


@factory("GET", "/v1/cards")
async def _list_cards(o: Owner) -> Call:
    await o.saved_card("listed-customer")
    return Call("GET", "/v1/cards", params={"identifier": "listed-customer"}, foreign=Foreign.EMPTY_LIST)


@factory("GET", "/v1/cards/{card_token}")
async def _get_card(o: Owner) -> Call:
    saved = await o.saved_card()
    return Call("GET", f"/v1/cards/{saved}", owned=(saved,))


@factory("DELETE", "/v1/cards/{card_token}")
async def _delete_card(o: Owner) -> Call:
    saved = await o.saved_card()
    return Call("DELETE", f"/v1/cards/{saved}", owned=(saved,))


@factory("GET", "/v1/events")
async def _events(o: Owner) -> Call:
    return Call("GET", "/v1/events", params={"limit": "100"}, foreign=Foreign.EMPTY_LIST)


@factory("POST", "/v1/webhook_endpoints")
async def _create_endpoint(o: Owner) -> Call:
    body = {"url": "http://127.0.0.1:9/new", "enabled_events": ["payment.completed"]}
    return Call("POST", "/v1/webhook_endpoints", json=body, foreign=Foreign.OWN_ACCOUNT)


@factory("GET", "/v1/webhook_endpoints")
async def _list_endpoints(o: Owner) -> Call:
    await o.endpoint()
    return Call("GET", "/v1/webhook_endpoints", foreign=Foreign.EMPTY_LIST)


@factory("GET", "/v1/webhook_endpoints/{endpoint_id}")
async def _get_endpoint(o: Owner) -> Call:
    endpoint = await o.endpoint()
    return Call("GET", f"/v1/webhook_endpoints/{endpoint}", owned=(endpoint,))


@factory("POST", "/v1/webhook_endpoints/{endpoint_id}")
async def _update_endpoint(o: Owner) -> Call:
    endpoint = await o.endpoint()
    body = {"enabled_events": ["payment.completed"], "description": "changed"}
    return Call("POST", f"/v1/webhook_endpoints/{endpoint}", json=body, owned=(endpoint,))


@factory("DELETE", "/v1/webhook_endpoints/{endpoint_id}")
async def _delete_endpoint(o: Owner) -> Call:
    endpoint = await o.endpoint()
    return Call("DELETE", f"/v1/webhook_endpoints/{endpoint}", owned=(endpoint,))


@factory("POST", "/v1/webhook_endpoints/{endpoint_id}/rotate_secret")
async def _rotate(o: Owner) -> Call:
    endpoint = await o.endpoint()
    path = f"/v1/webhook_endpoints/{endpoint}/rotate_secret"
    return Call("POST", path, json={"grace_period_seconds": 60}, owned=(endpoint,))


@factory("GET", "/v1/webhook_endpoints/{endpoint_id}/deliveries")
async def _deliveries(o: Owner) -> Call:
    endpoint, _delivery = await o.delivery()
    return Call("GET", f"/v1/webhook_endpoints/{endpoint}/deliveries", owned=(endpoint,))


@factory("POST", "/v1/webhook_endpoints/{endpoint_id}/deliveries/{delivery_id}/retry")
async def _retry(o: Owner) -> Call:
    endpoint, delivery = await o.delivery()
    path = f"/v1/webhook_endpoints/{endpoint}/deliveries/{delivery}/retry"
    return Call("POST", path, owned=(endpoint, delivery))


# Risk controls: values and limits that never touch the owner's other requests (no card, BIN or IP they use).
async def _blocked(o: Owner) -> str:
    body = {"type": "email", "value": f"{o.unique('blocked')}@example.com"}
    return str((await o._post("/v1/blocklist", body, status=201))["id"])


async def _rule(o: Owner) -> str:
    body = {"key": "email", "metric": "count", "limit": 1_000_000, "window_seconds": 60}
    return str((await o._post("/v1/risk_rules", body, status=201))["id"])


@factory("POST", "/v1/blocklist")
async def _create_block(o: Owner) -> Call:
    body = {"type": "customer", "value": o.unique("customer-blocked")}
    return Call("POST", "/v1/blocklist", json=body, foreign=Foreign.OWN_ACCOUNT)


@factory("GET", "/v1/blocklist")
async def _list_blocks(o: Owner) -> Call:
    await _blocked(o)
    return Call("GET", "/v1/blocklist", foreign=Foreign.EMPTY_LIST)


@factory("DELETE", "/v1/blocklist/{entry_id}")
async def _delete_block(o: Owner) -> Call:
    entry = await _blocked(o)
    return Call("DELETE", f"/v1/blocklist/{entry}", owned=(entry,))


@factory("POST", "/v1/risk_rules")
async def _create_rule(o: Owner) -> Call:
    body = {"key": "ip", "metric": "count", "limit": 1_000_000, "window_seconds": 60}
    return Call("POST", "/v1/risk_rules", json=body, foreign=Foreign.OWN_ACCOUNT)


@factory("GET", "/v1/risk_rules")
async def _list_rules(o: Owner) -> Call:
    await _rule(o)
    return Call("GET", "/v1/risk_rules", foreign=Foreign.EMPTY_LIST)


@factory("DELETE", "/v1/risk_rules/{rule_id}")
async def _delete_rule(o: Owner) -> Call:
    rule = await _rule(o)
    return Call("DELETE", f"/v1/risk_rules/{rule}", owned=(rule,))


# --- EximPe /eximpe/pg (seed 000 orders, seed 004 saved cards) ---------------------------------------------

_SEED_004_CARD = {
    "card_number": "5506900480000008",
    "nickname": "HDFC Regalia Credit Card",
    "cardholder_name": "Priya Sharma",
    "expiry_month": 5,
    "expiry_year": 2030,
    "network": "MASTERCARD",
    "card_type": "CREDIT",
    "card_holder_consent": True,
}


@factory("POST", "/eximpe/pg/tokens/")
async def _exim_save(o: Owner) -> Call:
    body = {**_SEED_004_CARD, "identifier": o.unique("USER_PS")}
    return Call("POST", "/eximpe/pg/tokens/", json=body, foreign=Foreign.OWN_ACCOUNT)


@factory("GET", "/eximpe/pg/tokens/")
async def _exim_list(o: Owner) -> Call:
    await o.saved_card("exim-listed")
    return Call("GET", "/eximpe/pg/tokens/", params={"identifier": "exim-listed"}, foreign=Foreign.EMPTY_LIST)


@factory("GET", "/eximpe/pg/tokens/{card_token}/")
async def _exim_get(o: Owner) -> Call:
    saved = await o.saved_card()
    return Call("GET", f"/eximpe/pg/tokens/{saved}/", owned=(saved,))


@factory("DELETE", "/eximpe/pg/tokens/{card_token}/")
async def _exim_delete(o: Owner) -> Call:
    saved = await o.saved_card()
    return Call("DELETE", f"/eximpe/pg/tokens/{saved}/", owned=(saved,))


@factory("POST", "/eximpe/pg/orders/")
async def _exim_order(o: Owner) -> Call:
    saved = await o.saved_card("EX0001")
    body = {
        "amount": "1000.00",
        "currency": "INR",
        "reference_id": o.unique("CARD"),
        "return_url": "https://yoursite.com/payment/callback/",
        "collection_mode": "s2s",
        "mop_type": "debit_card",
        "card_details": {"token": saved, "identifier": "EX0001", "network": "mastercard"},
        "buyer": {
            "name": "John Doe",
            "email": "john.doe@example.com",
            "phone": "+919876543210",
            "ip_address": "203.0.113.7",
            "user_agent": "Mozilla/5.0",
        },
        "product": {"name": "Sample Product", "type_of_goods": "physical_goods"},
    }
    return Call("POST", "/eximpe/pg/orders/", json=body, owned=(saved,), foreign=Foreign.REFUSED)


@factory("GET", "/eximpe/pg/orders/{order_id}/status/")
async def _exim_status(o: Owner) -> Call:
    paid = await o.payment()
    return Call("GET", f"/eximpe/pg/orders/{paid}/status/", owned=(paid,))


@factory("GET", "/eximpe/pg/orders/{order_id}/")
async def _exim_order_get(o: Owner) -> Call:
    paid = await o.payment()
    return Call("GET", f"/eximpe/pg/orders/{paid}/", owned=(paid,))


# --- Paysecure /paysecure/api/v1 (seed 001) ---------------------------------------------------------------

PAYSECURE = "/paysecure/api/v1"
_PS_CARD = {
    "cardholder_name": "dk",
    "card_number": "4242424242424242",
    "expires": "10/39",
    "cvc": "345",
    "remember_card": "on",
    "remote_ip": "157.38.242.7",
    "user_agent": "Mozilla/5.0",
    "accept_header": "text/html",
}


async def _ps_body(o: Owner, **changes: Any) -> dict[str, Any]:
    assert o.brand is not None
    client = {
        "email": f"{o.unique('shopper')}@example.com",
        "street_address": "1 Test Street",
        "city": "London",
        "zip_code": "10001",
        "country": "GB",
        "stateCode": "LO",
    }
    body: dict[str, Any] = {
        "client": client,
        "purchase": {"currency": "EUR", "products": [{"name": "Order", "price": "20.00"}]},
        "brand_id": await o.brand(),
        "success_redirect": "https://yoursite.com/ok",
        "failure_redirect": "https://yoursite.com/ko",
        "merchantRef": o.unique("ps-order"),
    }
    return body | changes


async def _ps_purchase(o: Owner, **changes: Any) -> str:
    made = await o._post(f"{PAYSECURE}/purchases/", await _ps_body(o, **changes), status=202)
    o.ids.add(made["purchaseId"])
    return str(made["purchaseId"])


async def _ps_paid(o: Owner, *, skip_capture: bool = False, email: str | None = None) -> str:
    changes: dict[str, Any] = {"skip_capture": skip_capture}
    if email is not None:
        changes["client"] = (await _ps_body(o))["client"] | {"email": email}
    pid = await _ps_purchase(o, **changes)
    r = await o.http.post(
        f"{PAYSECURE}/p/{pid}/",
        params={"s2s": "true"},
        json=_PS_CARD,
        headers={"Authorization": f"Bearer {o.secret_key}"},
    )
    assert r.status_code == 202, r.text
    return pid


def _ps_call(method: str, path: str, **kwargs: Any) -> Call:
    return Call(method, f"{PAYSECURE}{path}", publishable_status=401, **kwargs)


@factory("POST", f"{PAYSECURE}/purchases/")
async def _ps_create(o: Owner) -> Call:
    body = await _ps_body(o)
    return _ps_call("POST", "/purchases/", json=body, owned=(body["brand_id"],), foreign=Foreign.REFUSED)


@factory("POST", f"{PAYSECURE}/purchases")
async def _ps_create_bare(o: Owner) -> Call:
    body = await _ps_body(o)
    return _ps_call("POST", "/purchases", json=body, owned=(body["brand_id"],), foreign=Foreign.REFUSED)


@factory("GET", f"{PAYSECURE}/purchases/{{purchaseId}}/")
async def _ps_get(o: Owner) -> Call:
    pid = await _ps_paid(o)
    return _ps_call("GET", f"/purchases/{pid}/", owned=(pid,))


@factory("POST", f"{PAYSECURE}/p/{{purchaseId}}/")
async def _ps_s2s(o: Owner) -> Call:
    pid = await _ps_purchase(o)
    return _ps_call(
        "POST",
        f"/p/{pid}/",
        params={"s2s": "true"},
        json=_PS_CARD,
        owned=(pid,),
        other_mode_status=400,
        other_mode_named=True,
    )


@factory("GET", f"{PAYSECURE}/purchases/{{purchaseId}}/cancel/")
async def _ps_cancel(o: Owner) -> Call:
    pid = await _ps_paid(o, skip_capture=True)
    return _ps_call("GET", f"/purchases/{pid}/cancel/", owned=(pid,))


@factory("POST", f"{PAYSECURE}/purchases/{{purchaseId}}/cancel/")
async def _ps_cancel_post(o: Owner) -> Call:
    pid = await _ps_paid(o, skip_capture=True)
    return _ps_call("POST", f"/purchases/{pid}/cancel/", owned=(pid,))


@factory("POST", f"{PAYSECURE}/purchases/{{purchaseId}}/capture/")
async def _ps_capture(o: Owner) -> Call:
    pid = await _ps_paid(o, skip_capture=True)
    return _ps_call("POST", f"/purchases/{pid}/capture/", json={"amount": "5.00"}, owned=(pid,))


@factory("GET", f"{PAYSECURE}/purchases/{{purchaseId}}/refund/")
async def _ps_full_refund(o: Owner) -> Call:
    pid = await _ps_paid(o)
    return _ps_call("GET", f"/purchases/{pid}/refund/", owned=(pid,))


@factory("POST", f"{PAYSECURE}/purchases/{{purchaseId}}/refund")
async def _ps_partial_refund(o: Owner) -> Call:
    pid = await _ps_paid(o)
    return _ps_call("POST", f"/purchases/{pid}/refund", json={"amount": "1.00", "reason": "damaged"}, owned=(pid,))


@factory("POST", f"{PAYSECURE}/refundStatus/{{purchaseId}}/")
async def _ps_refund_status(o: Owner) -> Call:
    pid = await _ps_paid(o)
    refund = await o._post(f"{PAYSECURE}/purchases/{pid}/refund", {"amount": "1.00", "reason": "x"}, status=202)
    o.ids.add(refund["refundId"])
    body = {"refundId": refund["refundId"]}
    return _ps_call("POST", f"/refundStatus/{pid}/", json=body, owned=(pid, refund["refundId"]))


@factory("GET", f"{PAYSECURE}/listSavedCards")
async def _ps_list_cards(o: Owner) -> Call:
    await _ps_paid(o, email="ps-listed@example.com")  # remember_card "on" saves the card for this customer
    return _ps_call(
        "GET", "/listSavedCards", params={"customerId": "ps-listed@example.com"}, foreign=Foreign.EMPTY_LIST
    )


@factory("DELETE", f"{PAYSECURE}/tokens/v1/deleteToken/{{token}}")
async def _ps_delete_token(o: Owner) -> Call:
    email = f"{o.unique('ps-saver')}@example.com"
    await _ps_paid(o, email=email)
    r = await o.http.get(
        f"{PAYSECURE}/listSavedCards", params={"customerId": email}, headers={"Authorization": f"Bearer {o.secret_key}"}
    )
    token = str(r.json()[0]["token_reference"])
    o.ids.add(token)
    return _ps_call("DELETE", f"/tokens/v1/deleteToken/{token}", owned=(token,), foreign=Foreign.REFUSED)


@factory("GET", f"{PAYSECURE}/public_key/")
async def _ps_public_key(o: Owner) -> Call:
    return _ps_call("GET", "/public_key/", foreign=Foreign.OWN_ACCOUNT)


# --- OPPWA /oppwa/v1 (seed 003) ---------------------------------------------------------------------------

OPPWA = "/oppwa/v1"
_OP_CARD = {
    "card.number": "4242424242424242",
    "card.holder": "Jane Jones",
    "card.expiryMonth": "05",
    "card.expiryYear": "2034",
    "card.cvv": "123",
}
_OP_PAYMENT = _OP_CARD | {
    "amount": "92.00",
    "currency": "EUR",
    "paymentBrand": "VISA",
    "customer.ip": "203.0.113.7",
    "customer.browser.userAgent": "Mozilla/5.0",
}


async def _op_entity(o: Owner) -> str:
    assert o.entity is not None
    return await o.entity()


async def _op_post(o: Owner, path: str, form: dict[str, str]) -> dict[str, Any]:
    data = {"entityId": await _op_entity(o)} | form
    r = await o.http.post(f"{OPPWA}{path}", data=data, headers={"Authorization": f"Bearer {o.secret_key}"})
    assert r.status_code == 200, (path, r.status_code, r.text)
    made: dict[str, Any] = r.json()
    o.ids.add(str(made["id"]))
    return made


async def _op_paid(o: Owner, payment_type: str = "PA", **changes: str) -> str:
    form = _OP_PAYMENT | {"paymentType": payment_type, "merchantTransactionId": o.unique("op-order")} | changes
    return str((await _op_post(o, "/payments", form))["id"])


async def _op_call(o: Owner, method: str, path: str, form: dict[str, str] | None = None, **kwargs: Any) -> Call:
    """Every OPPWA call names the owner's entityId (body for a POST, query for GET and DELETE): another key
    with it is refused (403) before any id is looked at, the owner's live key too."""
    entity = await _op_entity(o)
    owned = (entity, *kwargs.pop("owned", ()))
    if method == "POST":
        kwargs["data"] = {"entityId": entity} | (form or {})
    else:
        kwargs["params"] = {"entityId": entity} | kwargs.get("params", {})
    return Call(method, f"{OPPWA}{path}", owned=owned, foreign=Foreign.OTHER_ENTITY, other_mode_status=403, **kwargs)


@factory("POST", f"{OPPWA}/payments")
async def _op_create(o: Owner) -> Call:
    return await _op_call(o, "POST", "/payments", _OP_PAYMENT | {"paymentType": "DB"})


@factory("POST", f"{OPPWA}/payments/{{id}}")
async def _op_back_office(o: Owner) -> Call:
    pid = await _op_paid(o)
    form = {"paymentType": "CP", "amount": "10.00", "currency": "EUR"}
    return await _op_call(o, "POST", f"/payments/{pid}", form, owned=(pid,))


@factory("GET", f"{OPPWA}/payments/{{id}}")
async def _op_status(o: Owner) -> Call:
    pid = await _op_paid(o)
    return await _op_call(o, "GET", f"/payments/{pid}", owned=(pid,))


@factory("GET", f"{OPPWA}/query/{{id}}")
async def _op_query_one(o: Owner) -> Call:
    pid = await _op_paid(o)
    return await _op_call(o, "GET", f"/query/{pid}", owned=(pid,))


@factory("GET", f"{OPPWA}/query")
async def _op_query(o: Owner) -> Call:
    reference = o.unique("op-listed")
    await _op_paid(o, merchantTransactionId=reference)
    return await _op_call(o, "GET", "/query", params={"merchantTransactionId": reference})


@factory("POST", f"{OPPWA}/registrations")
async def _op_register(o: Owner) -> Call:
    return await _op_call(o, "POST", "/registrations", _OP_CARD)


@factory("POST", f"{OPPWA}/registrations/{{id}}/payments")
async def _op_registration_payment(o: Owner) -> Call:
    rid = str((await _op_post(o, "/registrations", _OP_CARD))["id"])
    form = {"paymentType": "DB", "amount": "5.00", "currency": "EUR"}
    return await _op_call(o, "POST", f"/registrations/{rid}/payments", form, owned=(rid,))


@factory("DELETE", f"{OPPWA}/registrations/{{id}}")
async def _op_deregister(o: Owner) -> Call:
    rid = str((await _op_post(o, "/registrations", _OP_CARD))["id"])
    return await _op_call(o, "DELETE", f"/registrations/{rid}", owned=(rid,))
