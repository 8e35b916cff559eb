"""Users: admins see and add the merchant's dashboard users (a new user's one-time password is shown
once); everyone else is refused by the server."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from tessera.core.dashboard.model import Permission, Role
from tessera.dashboard.web import Ctx, HtmlRoute, check_csrf, field, page, signed_in

router = APIRouter(prefix="/dashboard", include_in_schema=False, route_class=HtmlRoute)
Signed = Annotated[Ctx, Depends(signed_in)]


async def _users_page(ctx: Ctx, made: tuple[str, str] | None = None) -> Response:
    ctx.require(Permission.MANAGE_USERS)
    users = await ctx.dashboard.list_users(ctx.merchant_id)
    return page(ctx, "users.html", users=users, roles=[r.value for r in Role], made=made)


@router.get("/users")
async def users(ctx: Signed) -> Response:
    return await _users_page(ctx)


@router.post("/users")
async def add_user(ctx: Signed) -> Response:
    ctx.require(Permission.MANAGE_USERS)
    form = await check_csrf(ctx)
    password = secrets.token_urlsafe(18)
    made = await ctx.dashboard.create_user(ctx.merchant_id, field(form, "email"), field(form, "role"), password)
    await ctx.audit("user.create", made.id, email=made.email, role=made.role.value)
    return await _users_page(ctx, made=(made.email, password))
