"""The tenant and key matrix: every route of the app, with every wrong credential, on both databases.

The routes come from the app itself: each is either PUBLIC (listed below, with why it needs no key) or
has a request factory in `route_requests`; a route in neither fails the test, naming it. Each protected
route gets a valid request (one the owner's secret key gets accepted) sent with no key, a malformed key,
another merchant's secret key, the owner's publishable key, the owner's live-mode secret key (the
resources are in test mode), the owner's revoked secret key and the other dialect's scheme; EximPe
routes also get another merchant's secret under the owner's client and merchant ids. After each refused
request the owner's test-mode rows (every table holding merchant data) and what the API shows of them
must be unchanged, and no answer may carry an id of the owner's it was not sent. Finally the owner's
secret key acts on each route.

What the code answers a publishable key: 403 `permission_denied` (EximPe: 403 `ERR_AUTH_001`
authorization error), and 201 on POST /v1/tokens, which it is for. Seed 002 says a publishable key "can
only be used to create tokens and cannot access payments" without naming a status; seed 004 lists
401 for invalid or missing credentials and 403 for insufficient permissions: a publishable key is a
valid credential without the permission, so 403 is the documented answer.
"""

from __future__ import annotations

import base64
import json
import random
import re
import string
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy import select

from tessera.app import create_app
from tessera.bootstrap import Container
from tessera.core.clock import utcnow
from tessera.core.merchants import Credentials, create_merchant, roll_key
from tessera.storage import tables as t
from tests.conftest import Backend
from tests.faults.conftest import Figure
from tests.faults.route_requests import FACTORIES, PANS, Call, Foreign, Owner

# Routes that take no key, and why each may. None of them answers with merchant data to a caller who
# does not already hold an unguessable id of it (checked in test_public_routes_need_no_key_and_leak_nothing).
PUBLIC: dict[tuple[str, str], str] = {
    # The API's description and its pages: the same for everyone.
    ("GET", "/openapi.json"): "the OpenAPI document",
    ("GET", "/docs"): "Swagger UI",
    ("GET", "/redoc"): "ReDoc",
    ("*", "/docs-assets"): "the documentation pages' packaged scripts and styles",
    # For load balancers and monitoring: no merchant, payment or key in them.
    ("GET", "/healthz"): "the process is alive",
    ("GET", "/readyz"): "the database answers",
    ("GET", "/metrics"): "request counts and latencies by route template and status",
    # The shopper's browser holds no key. The merchant sends it here with the payment's id (80 random bits
    # after a millisecond time stamp): it gets the ACS form of a payment awaiting 3-D Secure, or is sent back
    # to that payment's own return_url with its id and status; someone else's payment is reachable only by
    # knowing its id, which only its merchant and shopper have.
    ("GET", "/shopper/payments/{payment_id}/authenticate"): "start of the shopper's 3-D Secure challenge",
    # The CRes through the browser: changes nothing (the result came server to server, by RReq) and needs
    # the transaction's two random ids (threeDSServerTransID and acsTransID); anything else is a 404.
    ("POST", "/shopper/3ds/notify"): "the shopper's return from the ACS",
    # The sandbox issuer's own pages: a challenge needs its random transaction ids, an answer a one-time
    # form token issued by the page (only its hash is kept).
    ("POST", "/sandbox/acs/challenge"): "the sandbox ACS challenge page",
    ("POST", "/sandbox/acs/challenge/answer"): "the sandbox ACS answer",
    # Seed 001's callback_url, opened by the shopper's browser with no key: it needs the purchase's
    # 24-hex id (48 random bits), and only sends the browser to the bank's page or the merchant's
    # success/failure redirect.
    ("GET", "/paysecure/api/v1/payment/{purchaseId}/"): "the shopper's Paysecure callback_url",
    # The browser SDK (issue 14): the same script for everyone.
    ("GET", "/js/v1/tessera.js"): "tessera.js, the browser SDK",
    # A CORS preflight carries no key by the Fetch standard; it answers headers only (an origin some merchant
    # allows gets the grant to send the request, which then needs the publishable key like any other).
    ("OPTIONS", "/v1/tokens"): "the CORS preflight of token creation from a checkout page",
}


# The dashboard's HTML pages take no API key: a session cookie, a CSRF token and a role guard them, and
# tests/faults/test_dashboard_matrix.py is their matrix (every dashboard route, every wrong caller, junk).
DASHBOARD = ("/", "/dashboard")


def app_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path template) the API serves (the dashboard's pages apart); a mount is ("*", its path)."""
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        if str(route.path) == "/" or str(route.path).startswith(DASHBOARD[1]):
            continue
        methods = sorted((route.methods or set()) - {"HEAD"}) or ["*"]
        found.update((method, str(route.path)) for method in methods)
    return sorted(found, key=lambda r: (r[1], r[0]))


# --- credentials ------------------------------------------------------------------------------------------

AUTH_FAILS = "401"
PUBLISHABLE = "publishable"
FOREIGN_MERCHANT = "another merchant"
OTHER_MODE = "other mode"


@dataclass(frozen=True)
class Credential:
    name: str
    kind: str  # AUTH_FAILS, PUBLISHABLE, FOREIGN_MERCHANT or OTHER_MODE
    headers: dict[str, str]


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _exim(client_id: str, secret: str, merchant_id: str) -> dict[str, str]:
    return {"X-Client-ID": client_id, "X-Client-Secret": secret, "X-Merchant-ID": merchant_id, "X-API-Version": "1.0"}


@dataclass
class Parties:
    owner_id: str
    owner_test: Credentials
    owner_live: Credentials
    owner_secret: str  # the current one, after the roll
    revoked: str  # the owner's test secret key before the roll
    other_id: str
    other_test: Credentials

    def native(self) -> tuple[list[Credential], dict[str, str]]:
        t_, o = self.owner_test, self.other_test
        refused = [
            Credential("no credentials", AUTH_FAILS, {}),
            Credential("a malformed key", AUTH_FAILS, {"Authorization": "Bearer sk_test_not*a*key"}),
            Credential("another merchant's secret key", FOREIGN_MERCHANT, _bearer(o.secret_key)),
            Credential("the owner's publishable key", PUBLISHABLE, _bearer(t_.publishable_key)),
            Credential("the owner's live secret key", OTHER_MODE, _bearer(self.owner_live.secret_key)),
            Credential("the owner's revoked secret key", AUTH_FAILS, _bearer(self.revoked)),
            Credential("the owner's EximPe headers", AUTH_FAILS, _exim(t_.client_id, self.owner_secret, self.owner_id)),
        ]
        return refused, _bearer(self.owner_secret)

    def eximpe(self) -> tuple[list[Credential], dict[str, str]]:
        t_, o, live = self.owner_test, self.other_test, self.owner_live
        refused = [
            Credential("no credentials", AUTH_FAILS, {}),
            Credential("a malformed key", AUTH_FAILS, _exim(t_.client_id, "not a key", self.owner_id)),
            Credential("another merchant's headers", FOREIGN_MERCHANT, _exim(o.client_id, o.secret_key, self.other_id)),
            Credential(
                "the owner's publishable key", PUBLISHABLE, _exim(t_.client_id, t_.publishable_key, self.owner_id)
            ),
            Credential("the owner's live headers", OTHER_MODE, _exim(live.client_id, live.secret_key, self.owner_id)),
            Credential("the owner's revoked secret key", AUTH_FAILS, _exim(t_.client_id, self.revoked, self.owner_id)),
            Credential(
                "another merchant's secret under the owner's ids",
                AUTH_FAILS,
                _exim(t_.client_id, o.secret_key, self.owner_id),
            ),
            Credential("the owner's secret as a Bearer key", AUTH_FAILS, _bearer(self.owner_secret)),
        ]
        return refused, _exim(t_.client_id, self.owner_secret, self.owner_id)


def expected(cred: Credential, call: Call) -> set[int] | None:
    """The statuses `cred` may get on `call`; None: anything but a 5xx (it acts in its own account)."""
    if cred.kind == AUTH_FAILS:
        return {401}
    if cred.kind == PUBLISHABLE:
        return {201} if call.publishable_acts else {call.publishable_status}
    if cred.kind == OTHER_MODE and call.other_mode_status is not None:
        return {call.other_mode_status}
    return {
        Foreign.NOT_FOUND: {404},
        Foreign.REFUSED: {400, 404},  # EximPe answers an unknown saved-card token as a field error (400)
        Foreign.EMPTY_LIST: {200},
        Foreign.OWN_ACCOUNT: None,
        Foreign.OTHER_ENTITY: {403},
    }[call.foreign]


# --- the owner's state --------------------------------------------------------------------------------------


async def owner_rows(container: Container, owner_id: str) -> dict[str, list[str]]:
    """Every test-mode row of the owner's, in every table that holds merchant data, as text."""
    test_payments = select(t.payments.c.id).where(t.payments.c.merchant_id == owner_id, t.payments.c.mode == "test")
    found: dict[str, list[str]] = {}
    async with container.db.connect() as conn:
        for table in t.metadata.sorted_tables:
            if "merchant_id" not in table.c:
                continue
            query = select(table).where(table.c.merchant_id == owner_id)
            if "mode" in table.c and table is not t.api_keys:
                query = query.where(table.c.mode == "test")
            elif "payment_id" in table.c:
                query = query.where(table.c.payment_id.in_(test_payments))
            rows = (await conn.execute(query.order_by(*table.primary_key.columns))).all()
            found[table.name] = [repr(tuple(row)) for row in rows]
    return found


async def owner_view(http: httpx.AsyncClient, owner_key: dict[str, str], call: Call) -> list[str]:
    """What the owner's secret key fetches: its payments (status, amounts, operations), its endpoints, and
    each resource the call names."""
    paths = ["/v1/payments?limit=100", "/v1/webhook_endpoints", "/v1/blocklist?limit=100", "/v1/risk_rules"]
    paths += [f"/v1/payments/{i}" for i in call.owned if i.startswith("pay_")]
    paths += [f"/v1/webhook_endpoints/{i}" for i in call.owned if i.startswith("we_")]
    paths += [f"/v1/cards/{i}" for i in call.owned if i.startswith("card_")]
    return [f"{p} {(r := await http.get(p, headers=owner_key)).status_code} {r.text}" for p in paths]


def _fake(real: str) -> str:
    """An id of the same shape that names nothing."""
    head, tail = real[:-10], real[-10:]
    alphabet = sorted(set(real[-20:]) & set(string.ascii_lowercase + string.digits)) or list(string.digits)
    return head + "".join(random.choice(alphabet) for _ in tail)


def _swap(call: Call, ids: dict[str, str]) -> Call:
    path, body = call.path, json.dumps([call.json, call.data, call.params])
    for real, fake in ids.items():
        path, body = path.replace(real, fake), body.replace(real, fake)
    sent, data, params = json.loads(body)
    return Call(
        call.method,
        path,
        params,
        sent,
        call.owned,
        call.foreign,
        publishable_status=call.publishable_status,
        data=data,
    )


# When an answer was made (OPPWA's `timestamp` and `ndc` trace id): not what it says about an id.
_MOMENT = re.compile(r'"(timestamp|ndc)":"[^"]*"')


def _unstamped(text: str) -> str:
    return _MOMENT.sub(r'"\1":""', text)


async def send(http: httpx.AsyncClient, call: Call, headers: dict[str, str], key: str | None) -> httpx.Response:
    sent = dict(headers)
    if key is not None:
        sent["Idempotency-Key"] = key
    kwargs: dict[str, Any] = {"params": call.params, "headers": sent}
    if call.json is not None:
        kwargs["json"] = call.json
    if call.data is not None:
        kwargs["data"] = call.data
    return await http.request(call.method, call.path, **kwargs)


# --- the tests ----------------------------------------------------------------------------------------------


@pytest.fixture
async def app(container: Container) -> FastAPI:
    return create_app(container.settings, container=container, embedded_worker=False)


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://tessera.test") as client:
        yield client


@pytest.fixture
async def parties(container: Container, pans_used: set[str]) -> Parties:
    pans_used.update(PANS)
    owner, (owner_test, owner_live) = await create_merchant(
        "Owner", uow=container.uow, modes=("test", "live"), allowed_domains=["yoursite.com"]
    )
    other, (other_test, _other_live) = await create_merchant("Other", uow=container.uow, modes=("test", "live"))
    rolled = await roll_key(owner.id, "test", uow=container.uow)  # the owner's first test secret is now revoked
    return Parties(owner.id, owner_test, owner_live, rolled.secret_key, owner_test.secret_key, other.id, other_test)


def make_owner(http: httpx.AsyncClient, container: Container, parties: Parties) -> Owner:
    async def dispatch() -> int:
        return await container.deliveries._store.dispatch(utcnow(), 100)

    async def brand() -> str:
        return (await container.services.identities.get(parties.owner_id, "test", "brand_id")).public_id

    async def entity() -> str:
        return (await container.services.identities.get(parties.owner_id, "test", "entity_id")).public_id

    return Owner(
        http,
        parties.owner_id,
        parties.owner_secret,
        parties.owner_test.publishable_key,
        dispatch,
        brand=brand,
        entity=entity,
    )


def test_every_route_is_public_or_in_the_matrix(app: FastAPI) -> None:
    routes = app_routes(app)
    unaccounted = [r for r in routes if r not in PUBLIC and r not in FACTORIES]
    assert not unaccounted, (
        f"routes neither PUBLIC nor given a request in tests/faults/route_requests.py: {unaccounted}"
    )
    stale = [r for r in [*PUBLIC, *FACTORIES] if r not in routes]
    assert not stale, f"listed routes the app no longer has: {stale}"
    assert not set(PUBLIC) & set(FACTORIES)


async def test_only_the_owners_secret_key_acts_on_any_route(
    app: FastAPI,
    http: httpx.AsyncClient,
    container: Container,
    parties: Parties,
    backend: Backend,
    figure: Figure,
) -> None:
    protected = [r for r in app_routes(app) if r not in PUBLIC]
    missing = [r for r in protected if r not in FACTORIES]
    assert not missing, f"routes with no request factory in tests/faults/route_requests.py: {missing}"
    owner = make_owner(http, container, parties)
    secret_ids = {parties.owner_id, parties.owner_test.client_id, parties.owner_live.client_id}
    failures: list[str] = []
    sent = acted = leaked = compared = 0
    per_dialect: dict[str, list[int]] = {}

    for number, (method, template) in enumerate(protected):
        call = await FACTORIES[(method, template)](owner)
        if template == "/v1/events":
            events = (await http.get("/v1/events?limit=100", headers=_bearer(parties.owner_secret))).json()["data"]
            owner.ids.update(e["id"] for e in events)
        dialect = {"/eximpe": "EximPe", "/paysec": "Paysecure", "/oppwa/": "OPPWA"}.get(template[:7], "native")
        refused, owner_key = parties.eximpe() if dialect == "EximPe" else parties.native()
        per_dialect.setdefault(dialect, [0, len(refused) + 1])[0] += 1
        where = f"{method} {template}"
        idem = f"matrix-{number}" if method == "POST" else None
        rows, view = await owner_rows(container, owner.merchant_id), await owner_view(http, owner_key, call)
        for cred in refused:
            r = await send(http, call, cred.headers, idem)
            sent += 1
            allowed = expected(cred, call)
            if r.status_code >= 500 or (allowed is not None and r.status_code not in allowed):
                failures.append(f"{where} with {cred.name}: {r.status_code}, expected {allowed}: {r.text[:200]}")
            if r.status_code < 300 and allowed is not None and 200 not in allowed and not call.publishable_acts:
                acted += 1
            own = set(call.owned) | set(call.path.split("/"))
            if found := [i for i in (owner.ids | secret_ids) - own if i in r.text]:
                leaked += 1
                failures.append(f"{where} with {cred.name}: the answer carries the owner's {found}")
            if cred.kind == PUBLISHABLE and call.publishable_acts and r.status_code == 201:
                rows = await owner_rows(container, owner.merchant_id)  # a token made with the owner's key
                continue
            if (
                await owner_rows(container, owner.merchant_id) != rows
                or await owner_view(http, owner_key, call) != view
            ):
                acted += 1
                failures.append(f"{where} with {cred.name} ({r.status_code}) changed the owner's data")
            if (
                cred.kind in (FOREIGN_MERCHANT, OTHER_MODE)
                and call.owned
                and not (cred.kind == OTHER_MODE and call.other_mode_named)
            ):
                # No existence leak: the answer is the one for an id that names nothing.
                fakes = {real: _fake(real) for real in call.owned}
                other = await send(http, _swap(call, fakes), cred.headers, None)
                compared += 1
                text = r.text
                for real, fake in fakes.items():
                    text = text.replace(real, fake)
                if (other.status_code, _unstamped(other.text)) != (r.status_code, _unstamped(text)):
                    leaked += 1
                    failures.append(
                        f"{where} with {cred.name}: {r.status_code} for the owner's id, {other.status_code}"
                    )
        done = await send(http, call, owner_key, idem)
        sent += 1
        if done.status_code >= 300:
            failures.append(f"{where} with the owner's secret key: {done.status_code} {done.text[:200]}")

    tried = " + ".join(f"{n} {d} routes x {c} credentials" for d, (n, c) in per_dialect.items())
    figure(
        f"Tenant and key matrix, {'SQLite' if backend.name == 'sqlite' else 'PostgreSQL'}",
        tried=f"{tried} = {sent} requests, and {compared} compared with an id that names nothing",
        result=f"{acted} acted without the owner's secret key; {leaked} leaked another merchant's data;"
        f" {len(failures)} failures",
    )
    assert not failures, "\n".join(failures)


def _b64url(message: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(message).encode()).decode().rstrip("=")


async def test_public_routes_need_no_key_and_leak_nothing(
    http: httpx.AsyncClient, container: Container, parties: Parties, figure: Figure, backend: Backend
) -> None:
    owner = make_owner(http, container, parties)
    paid = await owner.payment()
    challenged = await owner.payment(card=card_for_challenge(), status="requires_action")
    secrets_ = {parties.owner_id, parties.owner_test.client_id, parties.owner_secret, paid, challenged}
    unknown = {"threeDSServerTransID": "3b6d6c5a-0000-4000-8000-000000000000", "acsTransID": "nothing"}
    probes: list[tuple[str, str, dict[str, Any], set[int]]] = [
        ("GET", "/openapi.json", {}, {200}),
        ("GET", "/docs", {}, {200}),
        ("GET", "/redoc", {}, {200}),
        ("GET", "/docs-assets/swagger-ui.css", {}, {200}),
        ("GET", "/healthz", {}, {200}),
        ("GET", "/readyz", {}, {200}),
        ("GET", "/metrics", {}, {200}),
        ("GET", f"/shopper/payments/{_fake(paid)}/authenticate", {}, {404}),
        ("POST", "/shopper/3ds/notify", {"data": {"cres": _b64url(unknown)}}, {404}),
        ("POST", "/sandbox/acs/challenge", {"data": {"creq": _b64url(unknown)}}, {404}),
        ("POST", "/sandbox/acs/challenge/answer", {"data": {"acs_trans_id": "x", "form_token": "y"}}, {403}),
        ("GET", "/js/v1/tessera.js", {}, {200}),
        (
            "OPTIONS",
            "/v1/tokens",
            {"headers": {"Origin": "https://x.test", "Access-Control-Request-Method": "POST"}},
            {204},
        ),
    ]
    failures = []
    for method, path, kwargs, statuses in probes:
        r = await http.request(method, path, **kwargs)
        if r.status_code not in statuses or any(s in r.text for s in secrets_):
            failures.append(f"{method} {path}: {r.status_code} {r.text[:200]}")
    # The shopper's page of a payment awaiting 3-D Secure, reached by its id alone: the ACS form, nothing more.
    page = await http.get(f"/shopper/payments/{challenged}/authenticate")
    if page.status_code != 200 or any(s in page.text for s in secrets_ - {challenged}):
        failures.append(f"the shopper's page: {page.status_code}")
    figure(
        f"Public routes, {'SQLite' if backend.name == 'sqlite' else 'PostgreSQL'}",
        tried=f"{len(PUBLIC)} routes that take no key, {len(probes) + 1} requests without credentials",
        result=f"{len(failures)} answered with a merchant's data or a key",
    )
    assert not failures, "\n".join(failures)


def card_for_challenge() -> dict[str, Any]:
    from tests.factories import card

    return card("4000002500003155")
