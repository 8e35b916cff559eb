"""What every dashboard page shares: templates, the signed-in context, CSRF, cookies and HTML errors.

Pages are HTML, not API: their routes stay out of the OpenAPI document. A route gets the signed-in
`Ctx` from `signed_in` (an unsigned browser is sent to the sign-in page) and checks a form's CSRF token
with `check_csrf`. Any `TesseraError` a service raises becomes an HTML page with a fitting status
(`HtmlRoute`), never a JSON body and never the input echoed.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from tessera.core.dashboard.model import Permission, Session, User, may
from tessera.core.dashboard.service import DashboardServices
from tessera.core.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    TesseraError,
    ValidationError,
)
from tessera.core.money import to_major_string
from tessera.core.risk.caller import caller_address
from tessera.core.services import Services

COOKIE = "tessera_session"
SIGNIN_COOKIE = "tessera_signin"  # the sign-in form's CSRF token, before any session exists
PREFIX = "/dashboard"

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.filters["money"] = lambda amount, currency: f"{to_major_string(int(amount), currency)} {currency}"
templates.env.filters["when"] = lambda moment: moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""

# Pages are ours alone: scripts and styles from this origin only, never framed, forms post only here.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


class SignInRequiredError(Exception):
    """No live session: the browser goes to the sign-in page."""


@dataclass(frozen=True, slots=True)
class Ctx:
    request: Request
    services: Services
    dashboard: DashboardServices
    session: Session
    user: User
    ip: str | None

    @property
    def merchant_id(self) -> str:
        return self.user.merchant_id

    @property
    def mode(self) -> str:
        return self.session.mode

    def may(self, permission: Permission) -> bool:
        return may(self.user.role, permission)

    def require(self, permission: Permission) -> None:
        self.dashboard.require(self.user, permission)

    async def audit(self, action: str, target: str | None = None, **detail: Any) -> None:
        await self.dashboard.record(self.session, self.user, action, target, detail, self.ip)


def services_of(request: Request) -> tuple[Services, DashboardServices]:
    services: Services = request.app.state.services
    assert services.dashboard is not None, "the dashboard's services are built in bootstrap"
    return services, services.dashboard


def client_ip(request: Request, services: Services) -> str | None:
    peer = request.client.host if request.client else None
    return caller_address(peer, request.headers.get("x-forwarded-for"), services.trusted_proxies)


async def signed_in(request: Request) -> Ctx:
    services, dashboard = services_of(request)
    found = await dashboard.session(request.cookies.get(COOKIE, ""))
    if found is None:
        raise SignInRequiredError
    session, user = found
    return Ctx(request, services, dashboard, session, user, client_ip(request, services))


async def check_csrf(ctx: Ctx) -> FormData:
    """The form, once its CSRF token is the session's (compared in constant time); refused otherwise."""
    form = await ctx.request.form()
    token = form.get("csrf_token")
    if not isinstance(token, str) or not hmac.compare_digest(token.encode(), ctx.session.csrf_token.encode()):
        raise PermissionDeniedError("the form's security token is missing or stale; reload the page and retry")
    return form


def field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def render(request: Request, template: str, context: Mapping[str, Any], status: int = 200) -> HTMLResponse:
    response = templates.TemplateResponse(request, template, dict(context), status_code=status)
    response.headers.update(SECURITY_HEADERS)
    return response


def page(ctx: Ctx, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    base = {
        "user": ctx.user,
        "mode": ctx.mode,
        "csrf_token": ctx.session.csrf_token,
        "can_act": ctx.may(Permission.MOVE_MONEY),
        "can_manage": ctx.may(Permission.MANAGE_DEVELOPERS),
        "can_admin": ctx.may(Permission.MANAGE_USERS),
        "notice": ctx.request.query_params.get("notice", "")[:200],
    }
    return render(ctx.request, template, base | context, status)


def redirect(path: str, **params: str) -> RedirectResponse:
    from urllib.parse import urlencode

    query = f"?{urlencode(params)}" if params else ""
    return RedirectResponse(f"{PREFIX}{path}{query}", status_code=303)


def set_cookie(response: Response, name: str, value: str, *, secure: bool, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path=PREFIX, httponly=True, samesite="lax", secure=secure)


def new_form_key() -> str:
    """A key for one confirmation form: submitting it twice does the action once."""
    return secrets.token_urlsafe(18)


_STATUS: list[tuple[type[TesseraError], int]] = [
    (NotFoundError, 404),
    (PermissionDeniedError, 403),
    (AuthenticationError, 401),
    (ConflictError, 409),
    (ValidationError, 400),
]


def error_page(request: Request, exc: TesseraError) -> HTMLResponse:
    status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 400)
    return render(request, "error.html", {"status": status, "message": exc.message, "user": None}, status)


class HtmlRoute(APIRoute):
    """A dashboard route: a missing session sends the browser to sign in, a refusal is an HTML page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequiredError:
                if request.method == "GET":
                    return redirect("/login")
                return error_page(request, AuthenticationError("your session has ended; sign in again"))
            except TesseraError as exc:
                return error_page(request, exc)

        return run
