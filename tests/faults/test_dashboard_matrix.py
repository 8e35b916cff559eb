"""The dashboard's matrix: every dashboard route of the app, with every wrong caller, on both databases.

The dashboard's pages are HTML forms, not API: they take a session cookie, not a key, and stay out of the
OpenAPI document (so schemathesis cannot fuzz them, and the tenant/key matrix leaves them out). This is
their counterpart. The routes come from the app itself: each is PUBLIC (below, with why) or has a request
factory in `DASHBOARD`; a route in neither fails the test, naming it. Each request is sent with no
session (a page sends the browser to sign in, a form is refused with 401), by the owner's admin without
the session's CSRF token or with a forged one (403), by the owner's viewer (403 for anything that acts or
shows what only admins see), and by another merchant's admin (404 for the owner's ids; a list shows none
of the owner's; a form with no id acts in the caller's own account). After each, the owner's test-mode
rows in every table holding merchant data are unchanged and no answer carries an id of the owner's.
Then each route's path and form fields get junk (never a 5xx, always an HTML page), and finally the
owner's admin acts on each, which proves the refused requests were ones that would otherwise work.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from tessera.app import create_app
from tessera.bootstrap import Container
from tessera.core.clock import utcnow
from tessera.core.dashboard.service import DashboardServices
from tessera.core.merchants import create_merchant, roll_key
from tests.conftest import Backend
from tests.faults.conftest import Figure, scaled
from tests.faults.route_requests import PANS, Owner
from tests.faults.test_tenant_key_matrix import owner_rows

PASSWORD = "matrix password 123"

# Dashboard routes that need no session, and why each may.
PUBLIC: dict[tuple[str, str], str] = {
    ("GET", "/"): "redirects to /dashboard/",
    ("GET", "/dashboard"): "redirects to /dashboard/",
    ("GET", "/dashboard/login"): "the sign-in form",
    ("POST", "/dashboard/login"): "signing in (its own CSRF cookie; tests/integration/test_dashboard_auth.py)",
    ("*", "/dashboard/static"): "the pages' packaged script and style sheet",
    ("GET", "/dashboard/{path}"): "any other dashboard path: an HTML 404",
    ("POST", "/dashboard/{path}"): "any other dashboard path: an HTML 404",
}

NOT_FOUND = "404: the path names an owner's resource"
LISTS = "200 with none of the owner's items"
OWN_ACCOUNT = "acts, if at all, in the caller's own account"


@dataclass
class DashCall:
    method: str
    path: str
    form: dict[str, str] | None = None  # "{n}" in a value becomes a fresh number at each send
    params: dict[str, str] | None = None
    owned: tuple[str, ...] = ()
    foreign: str = NOT_FOUND
    viewer: int = 403  # what the owner's viewer gets
    ends_session: bool = False  # sign-out: every caller uses a session of its own for it
    rolls_key: bool = False  # the owner's secret key is rolled (junk with no grace period ends the old one)


Factory = Callable[[Owner], Awaitable[list[DashCall]]]
DASHBOARD: dict[tuple[str, str], Factory] = {}


def factory(method: str, path: str) -> Callable[[Factory], Factory]:
    def register(fn: Factory) -> Factory:
        DASHBOARD[(method, path)] = fn
        return fn

    return register


def _page(path: str, foreign: str = LISTS, viewer: int = 200, **params: str) -> Factory:
    async def make(_o: Owner) -> list[DashCall]:
        return [DashCall("GET", path, params=params or None, foreign=foreign, viewer=viewer)]

    return make


for _path in ("/", "/audit", "/payments", "/developers/api-access", "/developers/settings"):
    factory("GET", f"/dashboard{_path}")(_page(f"/dashboard{_path}"))
factory("GET", "/dashboard/developers/webhooks")(_page("/dashboard/developers/webhooks"))
factory("GET", "/dashboard/developers/risk")(_page("/dashboard/developers/risk"))
factory("GET", "/dashboard/users")(_page("/dashboard/users", viewer=403))


@factory("GET", "/dashboard/developers/saved-cards")
async def _saved_cards(o: Owner) -> list[DashCall]:
    owner = o.unique("holder")
    await o.saved_card(owner)
    path = "/dashboard/developers/saved-cards"
    return [DashCall("GET", path, params={"identifier": owner}, foreign=LISTS, viewer=200)]


@factory("POST", "/dashboard/logout")
async def _logout(_o: Owner) -> list[DashCall]:
    return [DashCall("POST", "/dashboard/logout", form={}, foreign=OWN_ACCOUNT, viewer=303, ends_session=True)]


@factory("POST", "/dashboard/mode")
async def _mode(_o: Owner) -> list[DashCall]:
    return [DashCall("POST", "/dashboard/mode", form={"mode": "test", "next": "/"}, foreign=OWN_ACCOUNT, viewer=303)]


@factory("GET", "/dashboard/payments/{payment_id}")
async def _payment(o: Owner) -> list[DashCall]:
    paid = await o.payment()
    return [DashCall("GET", f"/dashboard/payments/{paid}", owned=(paid,), viewer=200)]


async def _action_targets(o: Owner) -> list[tuple[str, str, dict[str, str]]]:
    return [
        ("capture", await o.authorized(), {"amount": "4.00"}),
        ("void", await o.authorized(), {}),
        ("refund", await o.payment(), {"amount": "1.00"}),
    ]


@factory("GET", "/dashboard/payments/{payment_id}/{action}")
async def _confirm(o: Owner) -> list[DashCall]:
    return [
        DashCall("GET", f"/dashboard/payments/{pay}/{action}", owned=(pay,))
        for action, pay, _form in await _action_targets(o)
    ]


@factory("POST", "/dashboard/payments/{payment_id}/{action}")
async def _act(o: Owner) -> list[DashCall]:
    return [
        DashCall("POST", f"/dashboard/payments/{pay}/{action}", form={"form_key": "key-{n}-abc", **form}, owned=(pay,))
        for action, pay, form in await _action_targets(o)
    ]


@factory("POST", "/dashboard/developers/api-access/roll")
async def _roll(_o: Owner) -> list[DashCall]:
    form = {"grace_hours": "1"}
    return [DashCall("POST", "/dashboard/developers/api-access/roll", form=form, foreign=OWN_ACCOUNT, rolls_key=True)]


@factory("POST", "/dashboard/developers/settings")
async def _settings(_o: Owner) -> list[DashCall]:
    form = {
        "allowed_domains": "yoursite.com\nshop{n}.example",
        "callback_url": "",
        "attempt_budget": "3",
        "threeds_policy": "auto",
        "allowed_ips": "",
        "charges": "* INR 0 0",
    }
    return [DashCall("POST", "/dashboard/developers/settings", form=form, foreign=OWN_ACCOUNT)]


@factory("POST", "/dashboard/developers/webhooks")
async def _add_endpoint(_o: Owner) -> list[DashCall]:
    form = {"url": "http://127.0.0.1:9/hooks/{n}", "description": "matrix"}
    return [DashCall("POST", "/dashboard/developers/webhooks", form=form, foreign=OWN_ACCOUNT)]


@factory("GET", "/dashboard/developers/webhooks/{endpoint_id}")
async def _endpoint(o: Owner) -> list[DashCall]:
    endpoint, delivery = await o.delivery()
    return [DashCall("GET", f"/dashboard/developers/webhooks/{endpoint}", owned=(endpoint, delivery), viewer=200)]


@factory("POST", "/dashboard/developers/webhooks/{endpoint_id}/rotate")
async def _rotate(o: Owner) -> list[DashCall]:
    endpoint = await o.endpoint()
    path = f"/dashboard/developers/webhooks/{endpoint}/rotate"
    return [DashCall("POST", path, form={"grace_hours": "0"}, owned=(endpoint,))]


@factory("POST", "/dashboard/developers/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver")
async def _redeliver(o: Owner) -> list[DashCall]:
    endpoint, delivery = await o.delivery()
    path = f"/dashboard/developers/webhooks/{endpoint}/deliveries/{delivery}/redeliver"
    return [DashCall("POST", path, form={}, owned=(endpoint, delivery))]


@factory("POST", "/dashboard/developers/risk/blocklist")
async def _block(_o: Owner) -> list[DashCall]:
    form = {"type": "email", "value": "blocked-{n}@example.com"}
    return [DashCall("POST", "/dashboard/developers/risk/blocklist", form=form, foreign=OWN_ACCOUNT)]


@factory("POST", "/dashboard/developers/risk/blocklist/{entry_id}/delete")
async def _unblock(o: Owner) -> list[DashCall]:
    body = {"type": "email", "value": f"{o.unique('blocked')}@example.com"}
    entry = str((await o._post("/v1/blocklist", body, status=201))["id"])
    return [DashCall("POST", f"/dashboard/developers/risk/blocklist/{entry}/delete", form={}, owned=(entry,))]


@factory("POST", "/dashboard/developers/risk/rules")
async def _add_rule(_o: Owner) -> list[DashCall]:
    form = {"key": "email", "metric": "count", "limit": "1000000", "window_seconds": "60", "currency": ""}
    return [DashCall("POST", "/dashboard/developers/risk/rules", form=form, foreign=OWN_ACCOUNT)]


@factory("POST", "/dashboard/developers/risk/rules/{rule_id}/delete")
async def _delete_rule(o: Owner) -> list[DashCall]:
    body = {"key": "email", "metric": "count", "limit": 1_000_000, "window_seconds": 60}
    rule = str((await o._post("/v1/risk_rules", body, status=201))["id"])
    return [DashCall("POST", f"/dashboard/developers/risk/rules/{rule}/delete", form={}, owned=(rule,))]


@factory("POST", "/dashboard/developers/saved-cards/{card_token}/delete")
async def _delete_card(o: Owner) -> list[DashCall]:
    token = await o.saved_card()
    return [DashCall("POST", f"/dashboard/developers/saved-cards/{token}/delete", form={}, owned=(token,))]


@factory("POST", "/dashboard/users")
async def _add_user(_o: Owner) -> list[DashCall]:
    form = {"email": "added-{n}@matrix.test", "role": "viewer"}
    return [DashCall("POST", "/dashboard/users", form=form, foreign=OWN_ACCOUNT)]


def dashboard_routes(app: FastAPI) -> list[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        path = str(route.path).replace("{path:path}", "{path}")
        if path == "/" or path == "/dashboard" or path.startswith("/dashboard/"):
            methods = sorted((route.methods or set()) - {"HEAD"}) or ["*"]
            found.update((method, path) for method in methods)
    return sorted(found, key=lambda r: (r[1], r[0]))


# --- callers ----------------------------------------------------------------------------------------------


@dataclass
class Caller:
    name: str
    cookie: str | None
    csrf: str


@dataclass
class World:
    http: httpx.AsyncClient
    dashboard: DashboardServices
    emails: dict[str, str]  # role name -> email
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def caller(self, name: str) -> Caller:
        done = await self.dashboard.sign_in(self.emails[name], PASSWORD, "127.0.0.1")
        return Caller(name, done.token, done.session.csrf_token)

    async def send(self, call: DashCall, caller: Caller | None, csrf: str | None = "session") -> httpx.Response:
        headers = {"Cookie": f"tessera_session={caller.cookie}"} if caller and caller.cookie else {}
        form = None
        if call.form is not None:
            n = str(next(self.counter))
            form = {k: v.replace("{n}", n) for k, v in call.form.items()}
            if csrf == "session" and caller is not None:
                form["csrf_token"] = caller.csrf
            elif csrf not in (None, "session"):
                form["csrf_token"] = csrf
        self.http.cookies.clear()
        return await self.http.request(call.method, call.path, params=call.params, data=form, headers=headers)


@pytest.fixture
async def app(container: Container) -> FastAPI:
    return create_app(container.settings, container=container, embedded_worker=False)


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://tessera.test") as client:
        yield client


async def _world(http: httpx.AsyncClient, container: Container, pans_used: set[str]) -> tuple[World, Owner]:
    pans_used.update(PANS)
    owner, (owner_test, _live) = await create_merchant(
        "Owner", uow=container.uow, modes=("test", "live"), allowed_domains=["yoursite.com"]
    )
    other, _ = await create_merchant("Other", uow=container.uow, modes=("test", "live"))
    dashboard = container.services.dashboard
    assert dashboard is not None
    emails = {"admin": "admin@owner.test", "viewer": "viewer@owner.test", "foreign": "admin@other.test"}
    for name, merchant_id, role in (("admin", owner.id, "admin"), ("viewer", owner.id, "viewer")):
        await dashboard.create_user(merchant_id, emails[name], role, PASSWORD)
    await dashboard.create_user(other.id, emails["foreign"], "admin", PASSWORD)

    async def dispatch() -> int:
        return await container.deliveries._store.dispatch(utcnow(), 100)

    o = Owner(http, owner.id, owner_test.secret_key, owner_test.publishable_key, dispatch)
    o.ids.add(owner.id)
    return World(http, dashboard, emails), o


def _leaks(o: Owner, call: DashCall, text: str) -> list[str]:
    """The owner's ids in an answer that its request did not carry."""
    sent = f"{call.path} {call.params} {call.form}"
    return sorted(i for i in o.ids if i in text and i not in sent)


JUNK = ("x", "pay_00000000000000000000000000", "../../etc/passwd", "\x00", "é" * 300, "' OR 1=1 --", "9" * 40)


def _junk_paths(call: DashCall) -> list[str]:
    """The call's path with each owned id swapped for junk."""
    paths = []
    for owned in call.owned:
        if f"/{owned}" in call.path:
            paths += [call.path.replace(owned, quote(j, safe="")) for j in JUNK]
    return paths


async def test_every_dashboard_route_is_public_or_in_the_matrix(app: FastAPI) -> None:
    routes = dashboard_routes(app)
    unaccounted = [r for r in routes if r not in PUBLIC and r not in DASHBOARD]
    assert not unaccounted, f"dashboard routes neither PUBLIC nor given a request in {__name__}: {unaccounted}"
    stale = [r for r in [*PUBLIC, *DASHBOARD] if r not in routes]
    assert not stale, f"listed dashboard routes the app no longer has: {stale}"


async def test_only_the_owners_signed_in_users_act_on_any_dashboard_route_each_as_its_role_allows(
    app: FastAPI, http: httpx.AsyncClient, container: Container, backend: Backend, pans_used: set[str], figure: Figure
) -> None:
    world, o = await _world(http, container, pans_used)
    admin, viewer, foreign = [await world.caller(n) for n in ("admin", "viewer", "foreign")]
    failures: list[str] = []
    sent = junked = 0
    rng = random.Random(16)

    for route in [r for r in dashboard_routes(app) if r not in PUBLIC]:
        for call in await DASHBOARD[route](o):
            where = f"{call.method} {call.path}"
            if call.ends_session:
                admin_now, viewer_now, foreign_now = [await world.caller(n) for n in ("admin", "viewer", "foreign")]
                spare = await world.caller("admin")
            else:
                admin_now, viewer_now, foreign_now, spare = admin, viewer, foreign, admin
            before = await owner_rows(container, o.merchant_id)

            def expect(what: str, r: httpx.Response, statuses: set[int]) -> None:
                if r.status_code not in statuses:
                    failures.append(f"{where} {what}: {r.status_code}, not {sorted(statuses)}")  # noqa: B023
                if leaked := _leaks(o, call, r.text):  # noqa: B023
                    failures.append(f"{where} {what}: the answer carries the owner's {leaked}")  # noqa: B023

            r = await world.send(call, None)
            if call.method == "GET":
                expect("with no session", r, {303})
                if r.headers.get("location") != "/dashboard/login":
                    failures.append(f"{where} with no session: sent to {r.headers.get('location')}")
            else:
                expect("with no session", r, {401})
            if call.form is not None:
                expect("without the CSRF token", await world.send(call, admin_now, csrf=None), {403})
                expect("with a forged CSRF token", await world.send(call, admin_now, csrf="forged" * 7), {403})
                sent += 2
            r = await world.send(call, foreign_now)
            expect("by another merchant's admin", r, {404} if call.foreign == NOT_FOUND else {200, 303})
            sent += 3
            if call.viewer == 403:  # refused: changes nothing either
                r = await world.send(call, viewer_now)
                expect("by the owner's viewer", r, {403})
            after = await owner_rows(container, o.merchant_id)
            if after != before:
                changed = sorted(name for name in before if before[name] != after.get(name))
                failures.append(f"{where}: a refused or foreign request changed the owner's {changed}")
            if call.viewer != 403:  # what a viewer may do (read, switch mode, sign out)
                r = await world.send(call, viewer_now)
                if r.status_code != call.viewer:
                    failures.append(f"{where} by the owner's viewer: {r.status_code}, not {call.viewer}")

            # The owner's admin acts: the refused requests were ones that work.
            r = await world.send(call, spare if call.ends_session else admin_now)
            if r.status_code >= 400:
                failures.append(f"{where} by the owner's admin: {r.status_code} {r.text[:300]}")

            # Junk in the path and in each form field: an HTML answer, never a 5xx.
            fields = list(call.form or {})
            tries = [(path, call.form) for path in _junk_paths(call)]
            tries += [
                (call.path, {**(call.form or {}), name: rng.choice(JUNK + ("", "-1", "1e309", "x" * 5000))})
                for name in fields
                for _ in range(scaled(2, 10))
            ]
            tries += [(call.path, {})] if fields else []
            for path, form in tries:
                junk = DashCall(call.method, path, form=form, params=call.params)
                r = await world.send(junk, admin_now)
                junked += 1
                html = r.headers.get("content-type", "").startswith("text/html")
                # A NUL in the path is refused by the app before routing (tessera.nul), in the native
                # dialect's JSON: a 400 naming it, still never a 5xx.
                nul = r.status_code == 400 and "%00" in path
                if r.status_code >= 500 or not (html or nul or r.status_code == 303):
                    failures.append(f"{call.method} {path!r} with {form}: {r.status_code}")
            if call.rolls_key:  # the factories that follow call the API with the owner's key in force
                o.secret_key = (await roll_key(o.merchant_id, "test", uow=container.uow)).secret_key

    figure(
        "dashboard matrix",
        tried=f"{sent} refused or foreign requests and {junked} junk ones on every dashboard route ({backend.name})",
        result=f"{len(failures)} failures",
        sent=sent,
        junk=junked,
        failures=len(failures),
    )
    assert not failures, "\n".join(failures)
