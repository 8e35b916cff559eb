"""Sign-in, sign-out and the test/live switch.

The sign-in form carries a CSRF token tied to a cookie of its own (there is no session yet). A wrong
password and an unknown email answer alike (and take as long: argon2 runs either way), so the page tells
no one which accounts exist; a throttled account or address is told to wait.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from tessera.core.errors import AuthenticationError, ValidationError
from tessera.dashboard.web import (
    COOKIE,
    SIGNIN_COOKIE,
    Ctx,
    HtmlRoute,
    check_csrf,
    client_ip,
    field,
    redirect,
    render,
    services_of,
    set_cookie,
    signed_in,
)

router = APIRouter(prefix="/dashboard", include_in_schema=False, route_class=HtmlRoute)
Signed = Annotated[Ctx, Depends(signed_in)]


def _secure(request: Request) -> bool:
    return bool(request.app.state.container.settings.environment != "development")


def _signin_page(request: Request, message: str = "", email: str = "", status: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(
        request, "login.html", {"user": None, "signin_token": token, "message": message, "email": email}, status
    )
    set_cookie(response, SIGNIN_COOKIE, token, secure=_secure(request), max_age=3600)
    return response


@router.get("/login")
async def login_form(request: Request) -> Response:
    return _signin_page(request)


@router.post("/login")
async def login(request: Request) -> Response:
    services, dashboard = services_of(request)
    form = await request.form()
    token, cookie = field(form, "csrf_token"), request.cookies.get(SIGNIN_COOKIE, "")
    if not token or not cookie or not hmac.compare_digest(token.encode(), cookie.encode()):
        return _signin_page(request, "The form expired. Please sign in again.", status=403)
    email = field(form, "email")
    try:
        done = await dashboard.sign_in(email, field(form, "password"), client_ip(request, services))
    except (AuthenticationError, ValidationError) as exc:
        message = str(exc.message[0].upper() + exc.message[1:]) + "."
        return _signin_page(request, message, email=email[:254], status=401)
    response = redirect("/")
    policy = dashboard.policy
    set_cookie(
        response, COOKIE, done.token, secure=_secure(request), max_age=int(policy.session_lifetime.total_seconds())
    )
    response.delete_cookie(SIGNIN_COOKIE, path="/dashboard")
    return response


@router.post("/logout")
async def logout(ctx: Signed) -> Response:
    await check_csrf(ctx)
    await ctx.dashboard.sign_out(ctx.session, ctx.user, ctx.ip)
    response = redirect("/login")
    response.delete_cookie(COOKIE, path="/dashboard")
    return response


@router.post("/mode")
async def switch_mode(ctx: Signed) -> Response:
    form = await check_csrf(ctx)
    await ctx.dashboard.switch_mode(ctx.session, ctx.user, field(form, "mode"), ctx.ip)
    back = field(form, "next")
    return redirect(back if back.startswith("/") and not back.startswith("//") else "/")
