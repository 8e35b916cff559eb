"""Dependencies every dialect shares: the container, and who is calling."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from tessera.bootstrap import Container
from tessera.core.errors import AuthenticationError, ErrorCode
from tessera.core.merchants import MerchantContext, authenticate_key, require_secret


async def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


async def bearer_context(request: Request, container: ContainerDep) -> MerchantContext:
    header = request.headers.get("authorization")
    if not header:
        raise AuthenticationError(
            "no API key given: send Authorization: Bearer <secret key>", code=ErrorCode.AUTHENTICATION_REQUIRED
        )
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise AuthenticationError(
            "the Authorization header must be 'Bearer <key>'", code=ErrorCode.AUTHENTICATION_REQUIRED
        )
    return await authenticate_key(key.strip(), uow=container.uow)


async def secret_context(ctx: Annotated[MerchantContext, Depends(bearer_context)]) -> MerchantContext:
    return require_secret(ctx)


AnyKeyCtx = Annotated[MerchantContext, Depends(bearer_context)]
SecretCtx = Annotated[MerchantContext, Depends(secret_context)]
