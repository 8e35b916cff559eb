"""Who is calling under /eximpe (seed 000/004's three headers), and EximPe's success envelope."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header
from fastapi.responses import JSONResponse

from tessera.core.merchants import MerchantContext, authenticate_client, require_secret
from tessera.dialects._common.deps import ContainerDep


async def eximpe_context(
    c: ContainerDep,
    client_id: Annotated[str | None, Header(alias="X-Client-ID")] = None,
    client_secret: Annotated[str | None, Header(alias="X-Client-Secret")] = None,
    merchant_id: Annotated[str | None, Header(alias="X-Merchant-ID")] = None,
    api_version: Annotated[str | None, Header(alias="X-API-Version", description="Accepted, not required")] = None,
) -> MerchantContext:
    ctx = await authenticate_client(client_id, client_secret, merchant_id, uow=c.uow)
    return require_secret(ctx)  # a publishable key may not pay, save or read cards (403)


ExCtx = Annotated[MerchantContext, Depends(eximpe_context)]


def ok(message: str, data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse({"success": True, "message": message, "data": data}, status_code=status)
